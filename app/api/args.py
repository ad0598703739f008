"""Documented arguments shared by root fields (every argument has a description)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.api.input_limits import limited

MAX_NODES = 100  # ids per nodes(ids:) request

First = Annotated[int | None, strawberry.argument(description="Page forward: at most this many items after `after` (0 to 100). Without `first` and `last`: 20.")]
After = Annotated[str | None, strawberry.argument(description="Cursor: the page starts after this item (endCursor of the previous page).")]
Last = Annotated[int | None, strawberry.argument(description="Page backward: at most this many items before `before`, the last ones (0 to 100). Not with `first`.")]
Before = Annotated[str | None, strawberry.argument(description="Cursor: the page ends before this item (startCursor of the next page).")]
NodeId = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object.")]
NodeIds = Annotated[list[strawberry.ID], strawberry.argument(**limited("Global ids.", max_items=MAX_NODES))]
ContractId = Annotated[strawberry.ID, strawberry.argument(description="Global id of a DRAFT contract.")]
AccountFilter = Annotated[strawberry.ID | None, strawberry.argument(description="Only this account's.")]
