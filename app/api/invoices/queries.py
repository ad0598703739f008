"""Queries: a contract's invoices."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from app.api import ids
from app.api.args import After, First
from app.api.context import org_of
from app.api.invoices.types import Invoice, contract_invoices
from app.api.pagination import Connection


@strawberry.type
class InvoiceQueries:
    @strawberry.field(description="A contract's invoices, oldest first (one per closed billing period).")
    async def invoices(
        self, info: Info,
        contract_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the contract.")],
        first: First = 20, after: After = None,
    ) -> Connection[Invoice]:
        org_id = org_of(info)
        parsed = ids.parse(contract_id)
        if parsed is None or parsed[0] != "Contract":
            raise GraphQLError("contractId is not a Contract id", extensions={"code": "INVALID_ID"})
        return await contract_invoices(org_id, parsed[1], first, after)
