"""Queries: the organization's invoices, filtered and paged either way (the sync read)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from app.api.filters import filter_id, require_range
from app.api.args import After, Before, First, Last
from app.api.context import org_of
from app.api.enums import InvoiceKind, described_enum
from app.api.invoices.types import Invoice
from app.api.pagination import Connection, Paging, paginate
from app.db import models


class InvoiceOrder(Enum):
    OLDEST_FIRST = "OLDEST_FIRST"
    NEWEST_FIRST = "NEWEST_FIRST"


described_enum(InvoiceOrder, description="The order of an invoice list: the order the closes issued them.", values={
    "OLDEST_FIRST": "Issued first comes first (ascending creation; the default).",
    "NEWEST_FIRST": "Issued last comes first (descending creation).",
})


@strawberry.input(name="InvoiceFilterInput", description="Which invoices of the organization to list; every given condition must hold. "
                              "Ranges are half-open: a From bound is included, a To bound is not.")
class InvoiceFilter:
    account_id: strawberry.ID | None = strawberry.field(default=None, description="Only the invoices of this account's contracts.")
    contract_id: strawberry.ID | None = strawberry.field(default=None, description="Only this contract's invoices.")
    period_from: date | None = strawberry.field(default=None, description="Only invoices whose billing period starts on or after this day (periodStart >= periodFrom).")
    period_to: date | None = strawberry.field(default=None, description="Only invoices whose billing period starts before this day (periodStart < periodTo).")
    issued_from: datetime | None = strawberry.field(default=None, description="Only invoices issued (createdAt) at or after this instant (createdAt >= issuedFrom).")
    issued_to: datetime | None = strawberry.field(default=None, description="Only invoices issued (createdAt) before this instant (createdAt < issuedTo).")
    kind: InvoiceKind | None = strawberry.field(default=None, description="Only invoices of this kind: PERIOD (closes) or ACTIVATION (fees billed in advance at activation).")




def invoice_filters(given: InvoiceFilter | None, contract_id: strawberry.ID | None) -> dict[str, Any]:
    """The ORM filters of an InvoiceFilter (plus the older contractId argument); INVALID_ID for an id
    of the wrong type, INVALID_INTERVAL for an empty range, INVALID_INPUT for two different contracts."""
    f = given or InvoiceFilter()
    filters: dict[str, Any] = {}
    contract = filter_id(f.contract_id, "Contract", "filter.contractId")
    shortcut = filter_id(contract_id, "Contract", "contractId")
    if contract is not None and shortcut is not None and contract != shortcut:
        raise GraphQLError("contractId and filter.contractId name different contracts",
                           extensions={"code": "INVALID_INPUT", "field": "contractId"})
    if (contract or shortcut) is not None:
        filters["contract_id"] = contract or shortcut
    account = filter_id(f.account_id, "Account", "filter.accountId")
    if account is not None:
        filters["contract__account_id"] = account
    require_range(f.period_from, f.period_to, "filter.periodTo")
    require_range(f.issued_from, f.issued_to, "filter.issuedTo")
    if f.kind is not None:
        filters["kind"] = f.kind.value
    for key, value in (("period_start__gte", f.period_from), ("period_start__lt", f.period_to),
                       ("created_at__gte", f.issued_from), ("created_at__lt", f.issued_to)):
        if value is not None:
            filters[key] = value
    return filters


@strawberry.type
class InvoiceQueries:
    @strawberry.field(description="The organization's invoices (one per closed billing period, and an ACTIVATION "
                                  "invoice per contract whose fees are billed in advance), in issue order "
                                  "(orderBy), filtered by account, contract, billing period, kind and issue time; another "
                                  "tenant's id matches nothing. Page forward with first/after, backward with "
                                  "last/before.")
    async def invoices(
        self, info: Info,
        contract_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only this contract's invoices (the same as filter.contractId, kept for existing callers).")] = None,
        filter: Annotated[InvoiceFilter | None, strawberry.argument(description="Conditions the invoices must all meet.")] = None,
        order_by: Annotated[InvoiceOrder, strawberry.argument(description="OLDEST_FIRST (default) or NEWEST_FIRST.")] = InvoiceOrder.OLDEST_FIRST,
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[Invoice]:
        org_id = org_of(info)
        paging = Paging.of(first, after, last, before)
        return await paginate(models.Invoice, org_id, paging, invoice_filters(filter, contract_id), Invoice.from_row,
                              descending=order_by is InvoiceOrder.NEWEST_FIRST)
