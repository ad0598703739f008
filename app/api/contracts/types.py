"""GraphQL views of contracts, their prices (with tiers) and service lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.catalog.types import Product, load_product
from app.api.enums import ContractStatus, Frequency, PricingModel
from app.api.invoices.types import Invoice
from app.api.invoices.upcoming import UpcomingInvoice, upcoming_invoice
from app.api.pagination import Connection, Paging, child_connection, list_connection
from app.api.scalars import money, optional_quantity, quantity
from app.api.timestamps import Timestamped, stamps
from app.billing.calendar import billing_periods
from app.billing.terms import ContractTerms, DateRange
from app.billing.terms import Frequency as CoreFrequency
from app.db import models

if TYPE_CHECKING:
    from app.api.commitments.types import Commitment
    from app.api.lifecycle.corrections import LateData
    from app.api.tenancy.types import Account


def _termination(row: models.Contract) -> Termination | None:
    if row.terminated_on is None:
        return None
    return Termination(date=row.terminated_on, reason=row.termination_reason or "",
                       charge_remaining=row.termination_charge_remaining, fee_waived=row.termination_fee_waived,
                       at=row.terminated_at)


@strawberry.type(description="One billing period [startDate, endDate) of a contract.")
class BillingPeriod:
    number: int = strawberry.field(description="1 for the first period of the term.")
    start_date: date = strawberry.field(description="First day of the period.")
    end_date: date = strawberry.field(description="Day after the last day (half-open).")
    partial: bool = strawberry.field(description="True if the term's end cuts the period short.")


@strawberry.type(description="One version of a contract's terms (SPEC §13): version 1 is the contract as activated; "
                             "each amendment makes the next.")
class ContractVersion:
    number: int = strawberry.field(description="1, 2, … in order.")
    effective_date: date = strawberry.field(description="The first day its terms bill (a billing-period start).")
    reason: str = strawberry.field(description="Why it was made (\"activation\" for version 1).")
    changes: list[str] = strawberry.field(description="What it changed, as given (empty for version 1).")
    created_at: datetime | None = strawberry.field(description="When it was made (UTC).")
@strawberry.type(description="How a contract was ended early (terminateContract, SPEC §14).")
class Termination:
    date: date = strawberry.field(description="The termination date: the contract's new end (exclusive).")
    reason: str = strawberry.field(description="Why the contract was terminated, as given.")
    charge_remaining: bool = strawberry.field(
        description="True if the customer owes the whole commitment (removed windows settled on the final invoice).")
    fee_waived: bool = strawberry.field(description="True if the early termination fee was waived.")
    at: datetime = strawberry.field(description="When the termination was recorded (UTC).")


@strawberry.type(description="An account's agreement: currency, term, billing frequency, prices, lines, commitments.")
class Contract(Timestamped, relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount on the contract.")
    start_date: date = strawberry.field(description="First day of the term.")
    end_date: date = strawberry.field(
        description="Day after the last day of the term (half-open); the termination date once terminated.")
    original_end_date: date = strawberry.field(
        description="The end date as agreed: equal to endDate unless the contract was terminated early.")
    early_termination_fee: Decimal = strawberry.field(
        description="Billed once on the final invoice of an early termination, unless the termination waives it.")
    termination: Termination | None = strawberry.field(description="The termination; null if not terminated.")
    billing_frequency: Frequency = strawberry.field(description="Length of a billing period.")
    standing_charge: Decimal = strawberry.field(description="Fixed charge per billing period.")
    minimum_spend: Decimal = strawberry.field(description="Minimum usage spend per billing period.")
    status: ContractStatus = strawberry.field(description="DRAFT, ACTIVE, ENDED or CANCELLED.")
    account_id: strawberry.Private[int]
    renews_id: strawberry.Private[int | None] = None
    latest_version: strawberry.Private[int] = 1

    @classmethod
    def from_row(cls, row: models.Contract) -> Contract:
        return cls(**stamps(row),
            id=row.id, name=row.name, currency=row.currency, start_date=row.start_date,
            end_date=row.end_date, original_end_date=row.original_end_date or row.end_date,
            early_termination_fee=money(Decimal(row.early_termination_fee), row.currency),
            termination=_termination(row), billing_frequency=Frequency(row.billing_frequency),
            standing_charge=money(row.standing_charge, row.currency),
            minimum_spend=money(row.minimum_spend, row.currency),
            status=ContractStatus(row.status), account_id=row.account_id, renews_id=row.renews_id,
            latest_version=row.version,
        )

    @strawberry.field(description="The contract this one renews (it starts on that contract's end date); null if none.")
    async def renews(self, info: Info) -> Contract | None:
        if self.renews_id is None:
            return None
        row = await info.context.loaders.by_id(models.Contract).load(self.renews_id)
        return Contract.from_row(row) if row is not None else None

    @strawberry.field(description="The contract renewing this one (renewContract): its successor that is not CANCELLED; null if none.")
    async def renewed_by(self, info: Info) -> Contract | None:
        rows = await info.context.loaders.children(models.Contract, "renews_id").load(self.id)
        live = [r for r in rows if r.status != "CANCELLED"]
        return Contract.from_row(live[-1]) if live else None

    @strawberry.field(description="The number of its latest version (SPEC §13): 1 until amended; name it as "
                      "amendContract's expectedVersion. Null for a DRAFT or CANCELLED contract.")
    def version(self) -> int | None:
        return None if self.status in (ContractStatus.DRAFT, ContractStatus.CANCELLED) else self.latest_version

    @strawberry.field(description="Its versions in order (SPEC §13): version 1 is the contract as activated, each "
                      "amendment makes the next. Empty for a DRAFT or CANCELLED contract.")
    async def versions(self, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None) -> Connection[ContractVersion]:
        return list_connection(await self._versions(info), Paging.of(first, after, last, before),
                               lambda v: v.number, lambda v: v)

    async def _versions(self, info: Info) -> list[ContractVersion]:
        if self.status in (ContractStatus.DRAFT, ContractStatus.CANCELLED):
            return []
        rows = await info.context.loaders.children(models.ContractVersion, "contract_id", "number").load(self.id)
        if rows:
            return [ContractVersion(number=r.number, effective_date=r.effective_date, reason=r.reason,
                                    changes=list(r.changes), created_at=r.created_at) for r in rows]
        contract = await info.context.loaders.by_id(models.Contract).load(self.id)
        return [ContractVersion(number=1, effective_date=self.start_date, reason="activation", changes=[],
                                created_at=contract.activated_at if contract else None)]

    @strawberry.field(description="Usage events and one-time charges stored for its closed billing periods (SPEC "
                      "§17), oldest first: pending until a correction bills them (pending: false lists the applied "
                      "ones too).")
    async def late_data(self, info: Info, pending: Annotated[bool, strawberry.argument(
                            description="True (default): only what no correction applied yet.")] = True,
                        first: First = None, after: After = None,
                        last: Last = None, before: Before = None
                        ) -> Connection[Annotated[LateData, strawberry.lazy("app.api.lifecycle.corrections")]]:
        from app.api.lifecycle.corrections import LateData

        rows = await info.context.loaders.children(models.LateData, "contract_id").load(self.id)
        return list_connection([r for r in rows if not pending or r.applied_at is None],
                               Paging.of(first, after, last, before), lambda r: r.id, LateData.from_row)

    @strawberry.field(description="The account the contract belongs to.")
    async def account(self, info: Info) -> Annotated[Account, strawberry.lazy("app.api.tenancy.types")]:
        from app.api.tenancy.types import Account

        return Account.from_row(await info.context.loaders.by_id(models.Account).load(self.account_id))

    @strawberry.field(description="Prices per usage class, oldest first.")
    async def prices(self, info: Info, first: First = None, after: After = None,
                     last: Last = None, before: Before = None) -> Connection[Price]:
        return await child_connection(info, models.Price, "contract_id", self.id, Paging.of(first, after, last, before),
                                      lambda r: Price.from_row(r, self.currency))

    @strawberry.field(description="Services and packages on the contract, oldest first.")
    async def service_lines(self, info: Info, first: First = None, after: After = None,
                            last: Last = None, before: Before = None) -> Connection[ServiceLine]:
        return await child_connection(info, models.ServiceLine, "contract_id", self.id, Paging.of(first, after, last, before),
                                      lambda r: ServiceLine.from_row(r, self.currency))

    @strawberry.field(description="Commitments of the contract, oldest first.")
    async def commitments(self, info: Info, first: First = None, after: After = None,
                          last: Last = None, before: Before = None
                          ) -> Connection[Annotated[Commitment, strawberry.lazy("app.api.commitments.types")]]:
        from app.api.commitments.types import Commitment

        return await child_connection(info, models.Commitment, "contract_id", self.id, Paging.of(first, after, last, before),
                                      lambda r: Commitment.from_row(r, self.currency))

    @strawberry.field(description="The contract's invoices, oldest first (one per closed billing period, after the ACTIVATION invoice when fees are billed in advance).")
    async def invoices(self, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None) -> Connection[Invoice]:
        return await child_connection(info, models.Invoice, "contract_id", self.id, Paging.of(first, after, last, before), Invoice.from_row)

    @strawberry.field(description="A projection, not an invoice: what closing the contract's oldest open billing period would bill now, from what has been recorded so far (computed by the same close, writing nothing; nothing is billed until the close). Null unless the contract is ACTIVE. If that close would fail, the field errs with the close's error code.")
    async def upcoming_invoice(self, info: Info) -> UpcomingInvoice | None:
        if self.status is not ContractStatus.ACTIVE:
            return None
        return await upcoming_invoice(info, self.id)

    @strawberry.field(description="The billing periods of the term in order, computed from start date and frequency.")
    def billing_periods(self, first: First = None, after: After = None,
                        last: Last = None, before: Before = None) -> Connection[BillingPeriod]:
        terms = ContractTerms(currency=self.currency, term=DateRange(self.start_date, self.end_date),
                              billing_frequency=CoreFrequency(self.billing_frequency.value))
        periods = [BillingPeriod(number=p.number, start_date=p.span.start, end_date=p.span.end, partial=p.partial)
                   for p in billing_periods(terms)]
        return list_connection(periods, Paging.of(first, after, last, before), lambda p: p.number, lambda p: p)


@strawberry.type(description="A tier of a graduated or volume price.")
class PriceTier:
    up_to: Decimal | None = strawberry.field(description="Inclusive upper bound in units; null on the open last tier.")
    unit_amount: Decimal = strawberry.field(description="Price per unit in this tier.")
    flat_amount: Decimal = strawberry.field(description="Flat fee added when the tier is reached.")


@strawberry.type(description="The contract's price for one usage class.")
class Price(Timestamped, relay.Node):
    id: relay.NodeID[int]
    model: PricingModel = strawberry.field(description="PER_UNIT, GRADUATED or VOLUME.")
    unit_amount: Decimal = strawberry.field(description="Price per unit (PER_UNIT).")
    usage_class_id: strawberry.Private[int]
    currency: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Price, currency: str) -> Price:
        return cls(**stamps(row), id=row.id, model=PricingModel(row.model), unit_amount=quantity(row.unit_amount),
                   usage_class_id=row.usage_class_id, currency=currency)

    @strawberry.field(description="The usage class priced.")
    async def usage_class(self, info: Info) -> Product:
        product = await load_product(info, self.usage_class_id)
        assert product is not None
        return product

    @strawberry.field(description="Tiers in ascending order (GRADUATED and VOLUME).")
    async def tiers(self, info: Info) -> list[PriceTier]:
        rows = await info.context.loaders.children(models.PriceTier, "price_id", "position").load(self.id)
        return [PriceTier(up_to=optional_quantity(t.up_to), unit_amount=quantity(t.unit_amount),
                          flat_amount=quantity(t.flat_amount)) for t in rows]


@strawberry.type(description="A service or package on a contract.")
class ServiceLine(Timestamped, relay.Node):
    id: relay.NodeID[int]
    package_frequency: Frequency | None = strawberry.field(description="Frequency of the package instance it belongs to.")
    quantity: Decimal = strawberry.field(description="Number of units (e.g. SIMs).")
    unit_price: Decimal = strawberry.field(description="Recurring price per unit per billing period.")
    start_date: date = strawberry.field(description="First active day.")
    end_date: date | None = strawberry.field(description="Day after the last active day; null: to the term's end.")
    external_id: str | None = strawberry.field(description="Your id for the line, e.g. a SIM's number.")
    product_id: strawberry.Private[int]
    package_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.ServiceLine, currency: str) -> ServiceLine:
        return cls(**stamps(row),
            id=row.id, package_frequency=Frequency(row.package_frequency) if row.package_frequency else None,
            quantity=quantity(row.quantity), unit_price=quantity(row.unit_price), start_date=row.start_date,
            end_date=row.end_date, external_id=row.external_id, product_id=row.product_id,
            package_id=row.package_id,
        )

    @strawberry.field(description="The service or package.")
    async def product(self, info: Info) -> Product:
        product = await load_product(info, self.product_id)
        assert product is not None
        return product

    @strawberry.field(description="The package this line belongs to, if any.")
    async def package(self, info: Info) -> Product | None:
        return await load_product(info, self.package_id)
