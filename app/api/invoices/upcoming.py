"""The upcoming invoice of a contract: the preview of its oldest open period, shaped like an invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.invoices.types import InvoiceLine
from app.api.pagination import Connection, Paging, list_connection
from app.api.previews import preview_loader
from app.api.scalars import money
from app.services.preview import Preview

if TYPE_CHECKING:
    from app.api.contracts.types import BillingPeriod

DESCRIPTION = (
    "A projection, not an invoice: what closing the contract's oldest open billing period would bill now, "
    "computed by the same close from what has been recorded so far (usage, one-time charges, the pools as "
    "their ledgers stand). Nothing is billed, drawn or written until the period is closed; until then it "
    "moves as usage arrives. It previews the oldest open period whether or not that period has ended."
)


@strawberry.type(description=DESCRIPTION)
class UpcomingInvoice:
    preview: bool = strawberry.field(description="Always true: this is a projection from what has been recorded so far, not an issued invoice; nothing is billed until the close.")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount.")
    period_start: date = strawberry.field(description="First day of the open billing period previewed (the contract's oldest open one).")
    period_end: date = strawberry.field(description="Day after the last day of that period (half-open).")
    charges_subtotal: Decimal = strawberry.field(description="Projected: the period's drawable charges as the close would bill them so far (USAGE, RECURRING, STANDING, MINIMUM_SPEND, ONE_TIME and OVERAGE lines).")
    drawdown_total: Decimal = strawberry.field(description="Projected: what credit pools would pay (the DRAWDOWN lines, zero or negative); nothing is drawn until the close.")
    total: Decimal = strawberry.field(description="Projected amount due if the period closed now: the sum of the lines. Not billed until the close.")
    all_lines: strawberry.Private[list[InvoiceLine]]
    number: strawberry.Private[int]
    partial: strawberry.Private[bool]

    @classmethod
    def from_preview(cls, preview: Preview) -> UpcomingInvoice:
        result = preview.result
        assert result is not None
        invoice, cur = result.invoice, result.currency
        return cls(
            preview=True, currency=cur, period_start=invoice.period.start, period_end=invoice.period.end,
            charges_subtotal=money(invoice.charges_subtotal, cur), drawdown_total=money(invoice.drawdown_total, cur),
            total=money(invoice.total, cur),
            all_lines=[InvoiceLine.from_core(line, cur, preview.pool_ids) for line in result.lines],
            number=result.period.number, partial=result.period.partial,
        )

    @strawberry.field(description="The lines the close would write now, in invoice order, with the same fields as an invoice's lines (projected, not billed).")
    def lines(self, first: First = None, after: After = None,
              last: Last = None, before: Before = None) -> Connection[InvoiceLine]:
        numbered = list(enumerate(self.all_lines, start=1))
        return list_connection(numbered, Paging.of(first, after, last, before), lambda pair: pair[0], lambda pair: pair[1])

    @strawberry.field(description="The open billing period previewed.")
    def billing_period(self) -> Annotated[BillingPeriod, strawberry.lazy("app.api.contracts.types")]:
        from app.api.contracts.types import BillingPeriod

        return BillingPeriod(number=self.number, start_date=self.period_start, end_date=self.period_end,
                             partial=self.partial)


async def upcoming_invoice(info: Info, contract_id: int) -> UpcomingInvoice | None:
    """The contract's upcoming invoice; None unless it is ACTIVE with an open period. If the close
    would fail, the field errs with the close's code (e.g. MISSING_POOL)."""
    preview = await preview_loader(info).load(contract_id)
    if preview is None:
        return None
    if preview.error is not None:
        raise GraphQLError(f"the close of the open period would fail: {preview.error.message}",
                           extensions={"code": preview.error.code.value, "field": preview.error.field})
    return UpcomingInvoice.from_preview(preview)
