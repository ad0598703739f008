"""GraphQL views of commitments: ramp steps, fee dates, penalties with tiers, and windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.catalog.types import Product, load_product
from app.api.enums import (
    ChargeType,
    CommitmentType,
    FeeBilling,
    FeeTiming,
    Frequency,
    PaymentTiming,
    PenaltyKind,
    TierBasis,
    TierMode,
)
from app.api.ledger.types import CreditPool, load_pool
from app.api.pagination import Connection, Paging, child_connection, list_connection
from app.api.previews import contract_draws
from app.api.scalars import money, optional_quantity, quantity
from app.api.timestamps import Timestamped, stamps
from app.billing.activation import window_plans
from app.billing.terms import Commitment as CoreCommitment
from app.billing.terms import CommitmentType as CoreType
from app.billing.terms import DateRange
from app.billing.terms import Frequency as CoreFrequency
from app.billing.terms import RampStep as CoreRampStep
from app.db import models
from app.services.windows import LIVE_STATUSES, WindowState, window_states


@strawberry.type(description="Committed amount per window from window `fromWindow` (counted from 1) on.")
class RampStep:
    from_window: int = strawberry.field(description="First window (1-based) the step applies to.")
    amount: Decimal = strawberry.field(description="Committed amount per window, in the commitment's unit.")


@strawberry.type(description="An explicit commitment-fee instalment of a prepaid commitment.")
class FeeDate:
    date: date = strawberry.field(description="Billed on the invoice of the billing period holding this date.")
    amount: Decimal = strawberry.field(description="Amount of the instalment.")


@strawberry.type(description="A tier of a TIERED penalty.")
class PenaltyTier:
    up_to: Decimal | None = strawberry.field(description="Inclusive upper bound (units or percent); null: open.")
    rate: Decimal = strawberry.field(description="Price per unit short in this tier.")
    flat: Decimal = strawberry.field(description="Flat amount added when the tier is reached.")


@strawberry.type(description="What a missed window costs.")
class Penalty:
    kind: PenaltyKind = strawberry.field(description="CHARGE, COUNT or TIERED.")
    amount: Decimal = strawberry.field(description="CHARGE: the minimum the contract is billed for the window.")
    rate: Decimal = strawberry.field(description="COUNT: price per unit short.")
    basis: TierBasis = strawberry.field(description="TIERED: tier bounds in UNITS short or PERCENT short.")
    mode: TierMode = strawberry.field(description="TIERED: GRADUATED or VOLUME.")
    penalty_id: strawberry.Private[int]

    @strawberry.field(description="TIERED: tiers in ascending order.")
    async def tiers(self, info: Info) -> list[PenaltyTier]:
        rows = await info.context.loaders.children(models.PenaltyTier, "penalty_id", "position").load(self.penalty_id)
        return [PenaltyTier(up_to=optional_quantity(t.up_to), rate=quantity(t.rate), flat=quantity(t.flat))
                for t in rows]


@strawberry.type(description="One commitment window [startDate, endDate) with its committed amount.")
class Window:
    number: int = strawberry.field(description="1 for the first window.")
    start_date: date = strawberry.field(description="First day of the window.")
    end_date: date = strawberry.field(description="Day after the last day (half-open).")
    partial: bool = strawberry.field(description="True if the commitment's end cuts the window short.")
    committed: Decimal = strawberry.field(description="Committed amount (prorated for partial SPEND/USAGE windows).")
    measured: Decimal | None = strawberry.field(default=None, description="What the window has measured so far (SPEC §4's M). Until the window is settled it is projected: the closed periods' kept figures plus every usage event and one-time charge recorded so far in its open periods, rated as if they closed now; once settled, the figure its close billed. Null on a draft.")
    shortfall: Decimal | None = strawberry.field(default=None, description="How far measured falls short of committed: max(0, committed - measured), times the connections for AVERAGE_USAGE. Projected like `measured` until the window is settled, then the settled figure its close billed. Null on a draft.")
    settled: bool = strawberry.field(default=False, description="True once the close of its last billing period settled it: every figure is then final (settled), none is projected.")
    carried_shortfall: Decimal | None = strawberry.field(default=None, description="Make-good (SPEC §18): the shortfall this window carried into the next window instead of settling it at its end; null if it carried nothing.")
    recovered: Decimal | None = strawberry.field(default=None, description="Make-good (SPEC §18): what the next window's excess recovered of the carried shortfall, once that window is settled; the rest was billed at its end, on lines naming this window. Null until then, and on a window that carried nothing.")
    pool_id: strawberry.Private[int | None] = None
    contract_id: strawberry.Private[int | None] = None
    currency: strawberry.Private[str] = ""
    settled_consumed: strawberry.Private[Decimal | None] = None
    settled_remaining: strawberry.Private[Decimal | None] = None

    @strawberry.field(description="From the window's pool: what charges drew (prepaid) or what eligible spend was tracked (postpaid), net of credit backs. Settled part: what closes wrote to its ledger. Until the window is settled, plus the projected part: what the preview of the contract's oldest open period (its `upcomingInvoice`) will draw or track, from what has been recorded so far (nothing is drawn until the close). Usage in a later open period is counted in `measured` but projected here only once the periods before it are closed. Null without a pool.")
    async def consumed(self, info: Info) -> Decimal | None:
        if self.settled_consumed is None:
            return None
        return money(self.settled_consumed + await self._projected(info), self.currency)

    @strawberry.field(description="What is left in the window's pool: its settled balance (the ledger's sum) less, until the window is settled, what the preview of the contract's oldest open period will draw or track (projected, from what has been recorded so far). Expiry, rollover and true-up at the window's end are not subtracted before that close. Null without a pool.")
    async def remaining(self, info: Info) -> Decimal | None:
        if self.settled_remaining is None:
            return None
        return money(self.settled_remaining - await self._projected(info), self.currency)

    async def _projected(self, info: Info) -> Decimal:
        if self.settled or self.pool_id is None or self.contract_id is None:
            return Decimal(0)
        return await contract_draws(info, self.contract_id, self.pool_id)

    @strawberry.field(description="The window's own pool (PREPAID or TRACKING); null without one.")
    async def pool(self, info: Info) -> CreditPool | None:
        return await load_pool(info, self.pool_id)


def _opt(fmt: Callable[[Decimal], Decimal], value: Decimal | None) -> Decimal | None:
    return None if value is None else fmt(value)


def window_loader(info: Info) -> DataLoader[int, list[WindowState]]:
    """Per request: live window states by commitment id, batched for every commitment asked about."""
    loader = info.context.extra.get("window_states")
    if loader is None:
        org_id = info.context.loaders.org_id

        async def load(keys: list[int]) -> list[list[WindowState]]:
            states = await window_states(org_id, keys)
            return [states.get(k, []) for k in keys]

        loader = info.context.extra["window_states"] = DataLoader(load_fn=load)
    return loader  # type: ignore[no-any-return]


@strawberry.type(description="A promise inside a contract: what is measured, how much per window, how paid, what a miss costs.")
class Commitment(Timestamped, relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    type: CommitmentType = strawberry.field(description="What is measured (SPEC §4).")
    start_date: date | None = strawberry.field(description="Start; null: the contract's start.")
    end_date: date | None = strawberry.field(description="End (exclusive); null: the contract's end.")
    frequency: Frequency = strawberry.field(description="Commit frequency: the length of a window (TERM: one window over the whole commitment).")
    package_frequency: Frequency | None = strawberry.field(description="PACKAGE_SERVICE: the package instance's frequency.")
    payment: PaymentTiming | None = strawberry.field(description="SPEND only: PREPAID or POSTPAID.")
    amount_prepaid: Decimal = strawberry.field(description="Prepaid: part of the total paid outside the service.")
    amount_first_bill: Decimal = strawberry.field(description="Prepaid: part billed on the first invoice.")
    fee_billing: FeeBilling = strawberry.field(description="Prepaid: how the rest of the fee is billed.")
    fee_timing: FeeTiming = strawberry.field(description="Prepaid: when a fee due in a billing period is billed: IN_ARREARS on its invoice, IN_ADVANCE on the invoice before (SPEC §16).")
    eligible_charge_types: list[ChargeType] = strawberry.field(description="Charge types that count and draw down.")
    overage_surcharge_percent: Decimal = strawberry.field(description="Surcharge on overage, percent (>= -100).")
    separate_overage: bool = strawberry.field(description="Prepaid: show overage as its own line.")
    rollover_fraction: Decimal = strawberry.field(description="Share of the unused amount rolled into the next window, 0..1.")
    rollover_cap: Decimal | None = strawberry.field(description="Maximum rolled over per window; null: no cap.")
    prorate: bool = strawberry.field(description="Prorate partial windows (SPEND and USAGE only).")
    true_up: bool = strawberry.field(description="Postpaid: bill the shortfall as a TRUE_UP line.")
    priority: int = strawberry.field(description="Drawdown priority: lower draws first.")
    make_good: bool = strawberry.field(description=(
        "Make-good (SPEC §18): a window's shortfall is carried into the next window, whose excess "
        "recovers it; what is left is settled at that window's end, together with that window's "
        "own shortfall."))
    contract_id: strawberry.Private[int]
    usage_class_id: strawberry.Private[int | None]
    service_id: strawberry.Private[int | None]
    package_id: strawberry.Private[int | None]
    currency: strawberry.Private[str]
    renews_id: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: models.Commitment, currency: str) -> Commitment:
        return cls(**stamps(row),
            id=row.id, name=row.name, type=CommitmentType(row.type), start_date=row.start_date,
            end_date=row.end_date, frequency=Frequency(row.frequency),
            package_frequency=Frequency(row.package_frequency) if row.package_frequency else None,
            payment=PaymentTiming(row.payment) if row.payment else None,
            amount_prepaid=money(row.amount_prepaid, currency),
            amount_first_bill=money(row.amount_first_bill, currency),
            fee_billing=FeeBilling(row.fee_billing), fee_timing=FeeTiming(row.fee_timing),
            eligible_charge_types=[ChargeType(t) for t in row.eligible_charge_types],
            overage_surcharge_percent=quantity(row.overage_surcharge_percent),
            separate_overage=row.separate_overage, rollover_fraction=quantity(row.rollover_fraction),
            rollover_cap=optional_quantity(row.rollover_cap), prorate=row.prorate, true_up=row.true_up,
            priority=row.priority, make_good=row.make_good, contract_id=row.contract_id, usage_class_id=row.usage_class_id,
            service_id=row.service_id, package_id=row.package_id, currency=currency, renews_id=row.renews_id,
        )

    @strawberry.field(description="The commitment of the previous contract this one renews (renewContract); null if none.")
    async def renews(self, info: Info) -> Commitment | None:
        if self.renews_id is None:
            return None
        row = await info.context.loaders.by_id(models.Commitment).load(self.renews_id)
        if row is None:
            return None
        contract = await info.context.loaders.by_id(models.Contract).load(row.contract_id)
        return Commitment.from_row(row, contract.currency)

    @strawberry.field(description="Ramp schedule, in window order.")
    async def ramp_steps(self, info: Info) -> list[RampStep]:
        rows = await info.context.loaders.children(models.RampStep, "commitment_id", "from_window").load(self.id)
        return [RampStep(from_window=r.from_window, amount=quantity(r.amount)) for r in rows]

    @strawberry.field(description="Prepaid FEE_DATES: the explicit fee instalments, by date.")
    async def fee_dates(self, info: Info) -> list[FeeDate]:
        rows = await info.context.loaders.children(models.FeeDate, "commitment_id", "date").load(self.id)
        return [FeeDate(date=r.date, amount=money(r.amount, self.currency)) for r in rows]

    @strawberry.field(description="Penalties applied when a window falls short, in order.")
    async def penalties(self, info: Info) -> list[Penalty]:
        rows = await info.context.loaders.children(models.Penalty, "commitment_id", "position").load(self.id)
        return [Penalty(kind=PenaltyKind(p.kind), amount=quantity(p.amount), rate=quantity(p.rate),
                        basis=TierBasis(p.basis), mode=TierMode(p.mode), penalty_id=p.id) for p in rows]

    @strawberry.field(description="Products eligible charges are limited to; empty: every product.")
    async def eligible_products(self, info: Info) -> list[Product]:
        rows = await info.context.loaders.children(models.CommitmentProduct, "commitment_id").load(self.id)
        products = await info.context.loaders.by_id(models.Product).load_many([r.product_id for r in rows])
        return [Product.from_row(p) for p in products if p is not None]

    @strawberry.field(description="USAGE / AVERAGE_USAGE: the usage class measured.")
    async def usage_class(self, info: Info) -> Product | None:
        return await load_product(info, self.usage_class_id)

    @strawberry.field(description="SERVICE / PACKAGE_SERVICE: the service; AVERAGE_USAGE: the connections' service.")
    async def service(self, info: Info) -> Product | None:
        return await load_product(info, self.service_id)

    @strawberry.field(description="PACKAGE / PACKAGE_SERVICE: the package.")
    async def package(self, info: Info) -> Product | None:
        return await load_product(info, self.package_id)

    @strawberry.field(description="The commitment's windows in order: on a draft computed from its terms (committed only); once active the materialized windows with what they measured (live until settled) and their pools.")
    async def windows(self, info: Info, first: First = None, after: After = None,
                      last: Last = None, before: Before = None) -> Connection[Window]:
        windows = await self._windows(info)
        return list_connection(windows, Paging.of(first, after, last, before), lambda w: w.number, lambda w: w)

    async def _windows(self, info: Info) -> list[Window]:
        contract = await info.context.loaders.by_id(models.Contract).load(self.contract_id)
        if contract.status in LIVE_STATUSES:
            fmt = (lambda v: money(v, self.currency)) if self.type.value == "SPEND" else quantity
            return [Window(number=w.number, start_date=w.start_date, end_date=w.end_date, partial=w.partial,
                           committed=fmt(w.committed), measured=fmt(w.measured), shortfall=fmt(w.shortfall),
                           settled=w.settled, carried_shortfall=_opt(fmt, w.carried),
                           recovered=_opt(fmt, w.recovered), settled_consumed=w.consumed, settled_remaining=w.remaining,
                           pool_id=w.pool_id, contract_id=self.contract_id, currency=self.currency)
                    for w in await window_loader(info).load(self.id)]
        steps = await self.ramp_steps(info)
        core = CoreCommitment(
            key=str(self.id), type=CoreType(self.type.value),
            term=DateRange(self.start_date or contract.start_date, self.end_date or contract.end_date),
            frequency=CoreFrequency(self.frequency.value),
            ramp=tuple(CoreRampStep(s.from_window, s.amount) for s in steps), prorate=self.prorate,
        )
        return [Window(number=p.window.number, start_date=p.window.span.start, end_date=p.window.span.end,
                       partial=p.window.partial, committed=quantity(p.committed))
                for p in window_plans(core, self.currency)]

    @strawberry.field(description="The commitment's credit pools (prepaid windows, postpaid tracking, rollover credits) in creation order.")
    async def pools(self, info: Info, first: First = None, after: After = None,
                    last: Last = None, before: Before = None) -> Connection[CreditPool]:
        # Pools are inserted in their creation order (seq), so id order is creation order.
        return await child_connection(info, models.CreditPool, "commitment_id", self.id, Paging.of(first, after, last, before),
                                      CreditPool.from_row)
