"""createdAt / updatedAt of every Node type: the ``Timestamped`` interface and its values from a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


@strawberry.interface(description="An object with the instants it was created and last changed, for syncing: "
                                  "an updatedAt later than the one you stored means the object changed "
                                  "(README \"Syncing with the API\").")
class Timestamped:
    created_at: datetime = strawberry.field(description="When the object was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the object was last written (UTC): its creation "
                                            "(the same instant as createdAt, or microseconds after it) until it "
                                            "changes, then the time of its latest change. Objects that never "
                                            "change (invoices, ledger entries, usage events) keep their creation "
                                            "time.")


def stamps(row: Any) -> dict[str, datetime]:
    """The ``created_at`` / ``updated_at`` arguments of a Timestamped type, from its row (a table
    without ``updated_at``, written once, gives ``created_at`` for both)."""
    created = row.created_at
    return {"created_at": created, "updated_at": getattr(row, "updated_at", None) or created}
