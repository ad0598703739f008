"""Queries: the organization's adjustments (credit and debit notes), filtered and paged either way."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.api.adjustments.types import Adjustment
from app.api.args import After, Before, First, Last
from app.api.context import org_of
from app.api.enums import AdjustmentKind, AdjustmentSource
from app.api.filters import filter_id, require_range
from app.api.pagination import Connection, Paging, paginate
from app.db import models


@strawberry.input(name="AdjustmentFilterInput", description="Which adjustments of the organization to list; every "
                  "given condition must hold. Ranges are half-open: a From bound is included, a To bound is not.")
class AdjustmentFilter:
    contract_id: strawberry.ID | None = strawberry.field(default=None, description="Only the notes on this contract's invoices.")
    invoice_id: strawberry.ID | None = strawberry.field(default=None, description="Only the notes on this invoice.")
    kind: AdjustmentKind | None = strawberry.field(default=None, description="Only CREDIT_NOTE or only DEBIT_NOTE.")
    source: AdjustmentSource | None = strawberry.field(default=None, description="Only CORRECTION or only GOODWILL notes.")
    issued_from: date | None = strawberry.field(default=None, description="Only notes issued on or after this day (issuedOn >= issuedFrom).")
    issued_to: date | None = strawberry.field(default=None, description="Only notes issued before this day (issuedOn < issuedTo).")


def adjustment_filters(given: AdjustmentFilter | None) -> dict[str, Any]:
    """The ORM filters of an AdjustmentFilter; INVALID_ID for an id of the wrong type, INVALID_INTERVAL
    for an empty range."""
    f = given or AdjustmentFilter()
    filters: dict[str, Any] = {}
    contract = filter_id(f.contract_id, "Contract", "filter.contractId")
    if contract is not None:
        filters["contract_id"] = contract
    invoice = filter_id(f.invoice_id, "Invoice", "filter.invoiceId")
    if invoice is not None:
        filters["invoice_id"] = invoice
    require_range(f.issued_from, f.issued_to, "filter.issuedTo")
    for key, value in (("kind", f.kind), ("source", f.source)):
        if value is not None:
            filters[key] = value.value
    for key, value in (("issued_on__gte", f.issued_from), ("issued_on__lt", f.issued_to)):
        if value is not None:
            filters[key] = value
    return filters


@strawberry.type
class AdjustmentQueries:
    @strawberry.field(description="The organization's credit and debit notes (SPEC §17) in issue order, filtered by "
                                  "contract, invoice, kind, source and issue day; another tenant's id matches "
                                  "nothing. Page forward with first/after, backward with last/before.")
    async def adjustments(
        self, info: Info,
        filter: Annotated[AdjustmentFilter | None, strawberry.argument(description="Conditions the notes must all meet.")] = None,
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[Adjustment]:
        org_id = org_of(info)
        paging = Paging.of(first, after, last, before)
        return await paginate(models.Adjustment, org_id, paging, adjustment_filters(filter), Adjustment.from_row)
