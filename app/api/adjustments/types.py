"""GraphQL views of adjustments (credit and debit notes, SPEC §17) and their lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.enums import AdjustmentKind, AdjustmentSource, LineType
from app.api.ledger.types import CreditPool, load_pool
from app.api.pagination import Connection, Paging, child_connection
from app.api.scalars import money, optional_quantity
from app.api.timestamps import Timestamped, stamps
from app.billing import adjustments as core
from app.billing.terms import LineType as CoreLineType
from app.db import models

if TYPE_CHECKING:
    from app.api.commitments.types import Commitment
    from app.api.invoices.types import Invoice, InvoiceLine


@strawberry.type(description="A credit note or debit note on one issued invoice (SPEC §17): the only way an issued amount changes. Final and immutable; the invoice's amountDue is its total plus its adjustments' totals.")
class Adjustment(Timestamped, relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Adjustment number, one sequence per contract: ADJ-<contract>-<n, 3 digits>.")
    kind: AdjustmentKind = strawberry.field(description="CREDIT_NOTE (total <= 0) or DEBIT_NOTE (total > 0).")
    source: AdjustmentSource = strawberry.field(description="CORRECTION (a recomputed period) or GOODWILL (issueCreditNote).")
    reason: str = strawberry.field(description="Why it was issued.")
    currency: str = strawberry.field(description="ISO 4217 currency: the invoice's.")
    total: Decimal = strawberry.field(description="The sum of its lines: negative on a credit note, positive on a debit note.")
    issued_on: date = strawberry.field(description="The day it was issued (UTC).")
    invoice_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Adjustment) -> Adjustment:
        return cls(**stamps(row), id=row.id, number=row.number, kind=core.AdjustmentKind(row.kind),
                   source=core.AdjustmentSource(row.source), reason=row.reason, currency=row.currency,
                   total=money(row.total, row.currency), issued_on=row.issued_on, invoice_id=row.invoice_id)

    @strawberry.field(description="The invoice it adjusts.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("app.api.invoices.types")]:
        from app.api.invoices.types import Invoice

        return Invoice.from_row(await info.context.loaders.by_id(models.Invoice).load(self.invoice_id))

    @strawberry.field(description="The lines in the order written: one per credited line (GOODWILL) or per difference (CORRECTION).")
    async def lines(self, info: Info, first: First = None, after: After = None,
                    last: Last = None, before: Before = None) -> Connection[AdjustmentLine]:
        return await child_connection(info, models.AdjustmentLine, "adjustment_id", self.id,
                                      Paging.of(first, after, last, before),
                                      lambda r: AdjustmentLine.from_row(r, self.currency))


@strawberry.type(description="One line of an adjustment: the shape of an invoice line, negative where it credits.")
class AdjustmentLine:
    type: LineType = strawberry.field(description="What the line adjusts: the type of the invoice line it credits or corrects.")
    product: str | None = strawberry.field(description="Product code the line is for, if any.")
    quantity: Decimal | None = strawberry.field(description="Quantity, where there is one (null on a goodwill credit: it credits an amount).")
    unit_amount: Decimal | None = strawberry.field(description="Price per unit, where there is one.")
    amount: Decimal = strawberry.field(description="Signed amount, rounded to the minor unit: negative credits, positive bills.")
    description: str = strawberry.field(description="Human-readable description.")
    service_period_start: date = strawberry.field(description="First day of the service period the line is for.")
    service_period_end: date = strawberry.field(description="Day after the last day of the service period.")
    window_number: int | None = strawberry.field(description="The commitment window (1-based) the line belongs to, if any.")
    charge_key: str | None = strawberry.field(description="Key of the charge the line adjusts, if any.")
    held_back: bool = strawberry.field(description=(
        "True on a correction's DRAWDOWN line for credit a shared balance (an account balance, or credit "
        "rolled into a renewal) could not give because it holds less now: positive, it stays billed; "
        "negative, a later correction found the balance can give it now (SPEC §17)."))
    commitment_id: strawberry.Private[int | None]
    pool_id: strawberry.Private[int | None]
    invoice_line_id: strawberry.Private[int | None]
    currency: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.AdjustmentLine, currency: str) -> AdjustmentLine:
        return cls(
            type=CoreLineType(row.type), product=row.product, quantity=optional_quantity(row.quantity),
            unit_amount=optional_quantity(row.unit_amount), amount=money(row.amount, currency),
            description=row.description, service_period_start=row.service_start,
            service_period_end=row.service_end, window_number=row.window_number, charge_key=row.charge_key,
            held_back=row.held_back, commitment_id=row.commitment_id, pool_id=row.pool_id, invoice_line_id=row.invoice_line_id,
            currency=currency,
        )

    @strawberry.field(description="The commitment behind the line, if any.")
    async def commitment(self, info: Info) -> Annotated[Commitment, strawberry.lazy("app.api.commitments.types")] | None:
        from app.api.commitments.types import Commitment

        if self.commitment_id is None:
            return None
        row = await info.context.loaders.by_id(models.Commitment).load(self.commitment_id)
        return Commitment.from_row(row, self.currency) if row else None

    @strawberry.field(description="The pool the line concerns (a corrected DRAWDOWN), if any.")
    async def pool(self, info: Info) -> CreditPool | None:
        return await load_pool(info, self.pool_id)

    @strawberry.field(description="The invoice line a goodwill line credits; null on a correction's line.")
    async def invoice_line(self, info: Info) -> Annotated[InvoiceLine, strawberry.lazy("app.api.invoices.types")] | None:
        from app.api.invoices.types import InvoiceLine

        if self.invoice_line_id is None:
            return None
        row = await info.context.loaders.by_id(models.InvoiceLine).load(self.invoice_line_id)
        return InvoiceLine.from_row(row, self.currency) if row else None
