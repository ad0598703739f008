"""Queries: contracts, filtered by account and status."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from app.api import ids
from app.api.args import AccountFilter, After, Before, First, Last
from app.api.context import org_of
from app.api.contracts.types import Contract
from app.api.enums import ContractStatus
from app.api.pagination import Connection, Paging, paginate
from app.db import models


@strawberry.type
class ContractQueries:
    @strawberry.field(description="Contracts, oldest first, optionally of one account and/or status.")
    async def contracts(self, info: Info, first: First = None, after: After = None,
                        last: Last = None, before: Before = None,
                        account_id: AccountFilter = None,
                        status: Annotated[ContractStatus | None, strawberry.argument(description="Only contracts in this status.")] = None) -> Connection[Contract]:
        filters: dict[str, Any] = {}
        if account_id is not None:
            parsed = ids.parse(account_id)
            if parsed is None or parsed[0] != "Account":
                raise GraphQLError("accountId is not an Account id", extensions={"code": "INVALID_ID"})
            filters["account_id"] = parsed[1]
        if status is not None:
            filters["status"] = status.value
        return await paginate(models.Contract, org_of(info), Paging.of(first, after, last, before), filters, Contract.from_row)
