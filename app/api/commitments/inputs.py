"""GraphQL inputs of a commitment and their mapping onto the service's ``CommitmentSpec``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from app.api import ids
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
from app.api.input_limits import limited, require_valid
from app.billing import terms
from app.services.checks import (
    MAX_CHARGE_TYPES,
    MAX_FEE_DATES,
    MAX_NAME,
    MAX_PENALTIES,
    MAX_PRODUCT_IDS,
    MAX_RAMP_STEPS,
    MAX_TIERS,
)
from app.services.specs import CommitmentSpec


@strawberry.input(description="Committed amount per window from window `fromWindow` (1-based).")
class RampStepInput:
    from_window: int = strawberry.field(description="First window the step applies to; the first step is 1.")
    amount: Decimal = strawberry.field(description="Committed amount per window (>= 0).")


@strawberry.input(description="A fee instalment of a prepaid commitment (FEE_DATES).")
class FeeDateInput:
    date: date = strawberry.field(description="Inside the commitment's term.")
    amount: Decimal = strawberry.field(description="Amount; all instalments add up to the outstanding fee.")


@strawberry.input(description="A tier of a TIERED penalty.")
class PenaltyTierInput:
    up_to: Decimal | None = strawberry.field(default=None, description="Inclusive bound; null only on the last tier.")
    rate: Decimal = strawberry.field(default=Decimal(0), description="Price per unit short.")
    flat: Decimal = strawberry.field(default=Decimal(0), description="Flat amount when reached.")


@strawberry.input(description="A penalty: CHARGE {amount}, COUNT {rate} or TIERED {basis, mode, tiers}.")
class PenaltyInput:
    kind: PenaltyKind = strawberry.field(description="CHARGE, COUNT or TIERED.")
    amount: Decimal = strawberry.field(default=Decimal(0), description="CHARGE: minimum billed for the window.")
    rate: Decimal = strawberry.field(default=Decimal(0), description="COUNT: price per unit short.")
    basis: TierBasis = strawberry.field(default=TierBasis.UNITS, description="TIERED: UNITS or PERCENT.")
    mode: TierMode = strawberry.field(default=TierMode.GRADUATED, description="TIERED: GRADUATED or VOLUME.")
    tiers: list[PenaltyTierInput] = strawberry.field(default_factory=list,
                                                     **limited("TIERED: ascending tiers.", max_items=MAX_TIERS))

    def to_core(self) -> terms.Penalty:
        return terms.Penalty(
            kind=self.kind, amount=self.amount, rate=self.rate, basis=self.basis, mode=self.mode,
            tiers=tuple(terms.PenaltyTier(t.up_to, t.rate, t.flat) for t in self.tiers),
        )


@strawberry.input(description="A whole commitment. On update every field is replaced (omitted ones take their defaults).")
class CommitmentInput:
    name: str = strawberry.field(**limited("Display name.", max_length=MAX_NAME))
    type: CommitmentType = strawberry.field(description="What is measured.")
    frequency: Frequency = strawberry.field(description="Commit frequency: a whole multiple of the billing frequency, or TERM (one window over the whole commitment).")
    ramp_steps: list[RampStepInput] = strawberry.field(**limited(
        "Ramp schedule; one step {fromWindow: 1} for a flat commitment.", max_items=MAX_RAMP_STEPS))
    start_date: date | None = strawberry.field(default=None, description="Default: the contract's start (a billing-period start).")
    end_date: date | None = strawberry.field(default=None, description="Default: the contract's end.")
    usage_class_id: strawberry.ID | None = strawberry.field(default=None, description="USAGE / AVERAGE_USAGE: the usage class.")
    service_id: strawberry.ID | None = strawberry.field(default=None, description="SERVICE / PACKAGE_SERVICE / AVERAGE_USAGE: the service.")
    package_id: strawberry.ID | None = strawberry.field(default=None, description="PACKAGE / PACKAGE_SERVICE: the package.")
    package_frequency: Frequency | None = strawberry.field(default=None, description="PACKAGE_SERVICE: package frequency.")
    payment: PaymentTiming | None = strawberry.field(default=None, description="SPEND: PREPAID or POSTPAID (required).")
    amount_prepaid: Decimal = strawberry.field(default=Decimal(0), description="PREPAID: paid outside the service.")
    amount_first_bill: Decimal = strawberry.field(default=Decimal(0), description="PREPAID: billed on the first invoice.")
    fee_billing: FeeBilling = strawberry.field(default=FeeBilling.BILLING_PLAN, description="PREPAID: how the rest is billed.")
    fee_timing: FeeTiming = strawberry.field(default=FeeTiming.IN_ARREARS, description="PREPAID: when a fee due in a billing period is billed: IN_ARREARS (on its invoice) or IN_ADVANCE (on the invoice before, the first period's on the activation invoice).")
    fee_dates: list[FeeDateInput] = strawberry.field(default_factory=list, **limited(
        "PREPAID with FEE_DATES: the instalments.", max_items=MAX_FEE_DATES))
    eligible_charge_types: list[ChargeType] | None = strawberry.field(default=None, **limited(
        "Default: all drawable types.", max_items=MAX_CHARGE_TYPES))
    eligible_product_ids: list[strawberry.ID] = strawberry.field(default_factory=list, **limited(
        "Default (empty): every product.", max_items=MAX_PRODUCT_IDS))
    overage_surcharge_percent: Decimal = strawberry.field(default=Decimal(0), description="Percent on overage, >= -100.")
    separate_overage: bool = strawberry.field(default=False, description="PREPAID: overage as its own line (no surcharge).")
    rollover_fraction: Decimal = strawberry.field(default=Decimal(0), description="0..1 of the unused amount rolled over.")
    rollover_cap: Decimal | None = strawberry.field(default=None, description="Maximum rolled over per window.")
    prorate: bool = strawberry.field(default=True, description="Prorate partial SPEND / USAGE windows.")
    true_up: bool = strawberry.field(default=True, description="POSTPAID: bill the shortfall as TRUE_UP.")
    priority: int = strawberry.field(default=0, description="Drawdown priority, lower first (>= 0).")
    make_good: bool = strawberry.field(default=False, description=(
        "Make-good (SPEC §18): carry a window's shortfall into the next window, whose excess recovers "
        "it (a window that received a carry settles its own shortfall with what is left); not for "
        "PREPAID."))
    penalties: list[PenaltyInput] = strawberry.field(default_factory=list, **limited(
        "Applied on a missed window.", max_items=MAX_PENALTIES))

    def to_spec(self, path: str = "input") -> CommitmentSpec:
        require_valid(self, path)
        opt = ids.decode_optional
        return CommitmentSpec(
            name=self.name, type=self.type, frequency=self.frequency,
            ramp=tuple(terms.RampStep(s.from_window, s.amount) for s in self.ramp_steps),
            start_date=self.start_date, end_date=self.end_date,
            usage_class_id=opt(self.usage_class_id, "Product", f"{path}.usageClassId"),
            service_id=opt(self.service_id, "Product", f"{path}.serviceId"),
            package_id=opt(self.package_id, "Product", f"{path}.packageId"),
            package_frequency=self.package_frequency, payment=self.payment,
            amount_prepaid=self.amount_prepaid, amount_first_bill=self.amount_first_bill,
            fee_billing=self.fee_billing, fee_timing=self.fee_timing,
            fee_dates=tuple(terms.FeeDate(f.date, f.amount) for f in self.fee_dates),
            eligible_charge_types=tuple(terms.ChargeType) if self.eligible_charge_types is None
            else tuple(self.eligible_charge_types),
            eligible_product_ids=tuple(ids.decode(p, "Product", f"{path}.eligibleProductIds.{i}")
                                       for i, p in enumerate(self.eligible_product_ids)),
            overage_surcharge_percent=self.overage_surcharge_percent,
            separate_overage=self.separate_overage, rollover_fraction=self.rollover_fraction,
            rollover_cap=self.rollover_cap, prorate=self.prorate, true_up=self.true_up,
            priority=self.priority, make_good=self.make_good, penalties=tuple(p.to_core() for p in self.penalties),
        )
