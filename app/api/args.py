"""Documented arguments shared by root fields (every argument has a description)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.api.input_limits import limited

MAX_NODES = 100  # ids per nodes(ids:) request

First = Annotated[int | None, strawberry.argument(description="Page size: 0 to 100 (default 20).")]
After = Annotated[str | None, strawberry.argument(description="Cursor (endCursor of the previous page).")]
NodeId = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object.")]
NodeIds = Annotated[list[strawberry.ID], strawberry.argument(**limited("Global ids.", max_items=MAX_NODES))]
ContractId = Annotated[strawberry.ID, strawberry.argument(description="Global id of a DRAFT contract.")]
AccountFilter = Annotated[strawberry.ID | None, strawberry.argument(description="Only this account's.")]
