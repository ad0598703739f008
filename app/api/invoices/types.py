"""GraphQL views of invoices and their lines, money re-quantized to the currency's minor unit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api import ids
from app.api.args import After, Before, First, Last
from app.api.enums import InvoiceKind, LineType
from app.api.ledger.types import CreditPool, load_pool
from app.api.pagination import Connection, Paging, child_connection
from app.api.scalars import money, optional_quantity
from app.api.timestamps import Timestamped, stamps
from app.billing.calendar import add_months
from app.billing.invoice import InvoiceKind as CoreInvoiceKind
from app.billing.invoice import InvoiceLine as CoreInvoiceLine
from app.billing.terms import Frequency as CoreFrequency
from app.billing.terms import LineType as CoreLineType
from app.db import models

if TYPE_CHECKING:
    from app.api.adjustments.types import Adjustment
    from app.api.commitments.types import Commitment
    from app.api.contracts.types import BillingPeriod, Contract


@strawberry.type(description="The result of closing one billing period of one contract (kind PERIOD), or of activating a contract whose commitment fees are billed in advance (kind ACTIVATION): final and immutable.")
class Invoice(Timestamped, relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Invoice number, one sequence per contract: INV-<contract>-<period, 3 digits>; the ACTIVATION invoice is INV-<contract>-000.")
    kind: InvoiceKind = strawberry.field(description="PERIOD (a billing period's close) or ACTIVATION (the fees billed in advance that are due in the first period).")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount on the invoice.")
    period_start: date = strawberry.field(description="First day of the billing period invoiced (ACTIVATION: the first period, whose fees it bills in advance).")
    period_end: date = strawberry.field(description="Day after the last day of the period (half-open).")
    charges_subtotal: Decimal = strawberry.field(description="The period's drawable charges as billed: the USAGE, RECURRING, STANDING, MINIMUM_SPEND, ONE_TIME and OVERAGE lines.")
    drawdown_total: Decimal = strawberry.field(description="What credit pools paid: the sum of the DRAWDOWN lines (zero or negative).")
    total: Decimal = strawberry.field(description="Amount due: the sum of all lines.")
    version: int = strawberry.field(description="The contract version whose terms it billed (Contract.versions, SPEC §13).")
    contract_id: strawberry.Private[int]
    billing_period_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        cur = row.currency
        return cls(**stamps(row), id=row.id, number=row.number, kind=CoreInvoiceKind(row.kind), currency=cur, period_start=row.period_start,
                   period_end=row.period_end, charges_subtotal=money(row.charges_subtotal, cur),
                   drawdown_total=money(row.drawdown_total, cur), total=money(row.total, cur),
                   version=row.version, contract_id=row.contract_id, billing_period_id=row.billing_period_id)

    @strawberry.field(description="The contract invoiced.")
    async def contract(self, info: Info) -> Annotated[Contract, strawberry.lazy("app.api.contracts.types")]:
        from app.api.contracts.types import Contract

        return Contract.from_row(await info.context.loaders.by_id(models.Contract).load(self.contract_id))

    @strawberry.field(description="The billing period this invoice closed; for an ACTIVATION invoice, the contract's first period (whose fees it bills in advance; it is closed by its own PERIOD invoice).")
    async def billing_period(self, info: Info) -> Annotated[BillingPeriod, strawberry.lazy("app.api.contracts.types")]:
        from app.api.contracts.types import BillingPeriod

        row = await info.context.loaders.by_id(models.BillingPeriod).load(self.billing_period_id)
        contract = await info.context.loaders.by_id(models.Contract).load(self.contract_id)
        uncut_end = add_months(contract.start_date, row.number * CoreFrequency(contract.billing_frequency).months)
        return BillingPeriod(number=row.number, start_date=row.start_date, end_date=row.end_date,
                             partial=row.end_date != uncut_end)

    @strawberry.field(description="The lines in invoice order: charges, fees, surcharges, drawdowns, true-ups, penalties.")
    async def lines(self, info: Info, first: First = None, after: After = None,
                    last: Last = None, before: Before = None) -> Connection[InvoiceLine]:
        # A close writes an invoice's lines in one batch in position order, so id order is invoice order.
        return await child_connection(info, models.InvoiceLine, "invoice_id", self.id, Paging.of(first, after, last, before),
                                      lambda r: InvoiceLine.from_row(r, self.currency))

    @strawberry.field(description="The credit and debit notes issued on this invoice (SPEC §17), in issue order.")
    async def adjustments(self, info: Info, first: First = None, after: After = None, last: Last = None,
                          before: Before = None) -> Connection[Annotated[Adjustment, strawberry.lazy("app.api.adjustments.types")]]:
        from app.api.adjustments.types import Adjustment

        return await child_connection(info, models.Adjustment, "invoice_id", self.id, Paging.of(first, after, last, before),
                                      Adjustment.from_row)

    @strawberry.field(description="What the period owes now: total plus the totals of its adjustments (credit notes lower it, debit notes raise it).")
    async def amount_due(self, info: Info) -> Decimal:
        notes = await info.context.loaders.children(models.Adjustment, "invoice_id").load(self.id)
        return money(self.total + sum((Decimal(n.total) for n in notes), Decimal(0)), self.currency)


@strawberry.type(description="One line of an invoice: a charge, fee, surcharge, drawdown, true-up or penalty.")
class InvoiceLine:
    id: strawberry.ID | None = strawberry.field(description="Global id of an issued line, to name it in issueCreditNote; null on a preview (upcomingInvoice).")
    type: LineType = strawberry.field(description="What the line bills.")
    product: str | None = strawberry.field(description="Product code the line is for (standing and minimum_spend for contract charges).")
    quantity: Decimal | None = strawberry.field(description="Quantity rated, where there is one.")
    unit_amount: Decimal | None = strawberry.field(description="Price per unit, where there is one.")
    amount: Decimal = strawberry.field(description="Amount of the line, rounded to the minor unit (negative for DRAWDOWN).")
    description: str = strawberry.field(description="Human-readable description.")
    service_period_start: date = strawberry.field(description="First day of the service period the line is for.")
    service_period_end: date = strawberry.field(description="Day after the last day of the service period.")
    window_number: int | None = strawberry.field(description="The commitment window (1-based) the line belongs to, if any.")
    charge_key: str | None = strawberry.field(description="Key of the charge the line bills or draws down, if any.")
    commitment_id: strawberry.Private[int | None]
    pool_id: strawberry.Private[int | None]
    currency: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.InvoiceLine, currency: str) -> InvoiceLine:
        return cls(
            id=strawberry.ID(ids.encode("InvoiceLine", row.id)),
            type=CoreLineType(row.type), product=row.product, quantity=optional_quantity(row.quantity),
            unit_amount=optional_quantity(row.unit_amount), amount=money(row.amount, currency),
            description=row.description, service_period_start=row.service_start,
            service_period_end=row.service_end, window_number=row.window_number, charge_key=row.charge_key,
            commitment_id=row.commitment_id, pool_id=row.pool_id, currency=currency,
        )

    @classmethod
    def from_core(cls, line: CoreInvoiceLine, currency: str, pool_ids: dict[str, int]) -> InvoiceLine:
        """A line of the billing core's invoice, as the close would write it (``pool_ids``: key → row id)."""
        return cls(
            id=None, type=line.type, product=line.product, quantity=optional_quantity(line.quantity),
            unit_amount=optional_quantity(line.unit_amount), amount=money(line.amount, currency),
            description=line.description[:300], service_period_start=line.service_period.start,
            service_period_end=line.service_period.end,
            window_number=line.window_index + 1 if line.window_index is not None else None,
            charge_key=line.charge_key, commitment_id=int(line.commitment_key) if line.commitment_key else None,
            pool_id=pool_ids.get(line.pool_key) if line.pool_key else None, currency=currency,
        )

    @strawberry.field(description="The commitment behind a fee, surcharge, drawdown, true-up or penalty; else null.")
    async def commitment(self, info: Info) -> Annotated[Commitment, strawberry.lazy("app.api.commitments.types")] | None:
        from app.api.commitments.types import Commitment

        if self.commitment_id is None:
            return None
        row = await info.context.loaders.by_id(models.Commitment).load(self.commitment_id)
        return Commitment.from_row(row, self.currency) if row else None

    @strawberry.field(description="The pool a DRAWDOWN line drew from; else null.")
    async def pool(self, info: Info) -> CreditPool | None:
        return await load_pool(info, self.pool_id)

