"""What clients send to create or edit a contract's parts, as plain data for the services.

Leaf values reuse the billing core's own dataclasses (``RampStep``, ``Penalty``, ``PriceTier``,
``FeeDate``); references to other rows are database ids already decoded from global ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.terms import (
    ChargeType,
    CommitmentType,
    FeeBilling,
    FeeTiming,
    FeeDate,
    Frequency,
    PaymentTiming,
    Penalty,
    PriceTier,
    PricingModel,
    RampStep,
)


@dataclass(frozen=True)
class PriceSpec:
    usage_class_id: int
    model: PricingModel
    unit_amount: Decimal = Decimal(0)
    tiers: tuple[PriceTier, ...] = ()


@dataclass(frozen=True)
class ServiceLineSpec:
    """A service line; null dates default to the contract's term."""

    product_id: int
    quantity: Decimal
    unit_price: Decimal = Decimal(0)
    package_id: int | None = None
    package_frequency: Frequency | None = None
    start_date: date | None = None
    end_date: date | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class CommitmentSpec:
    """A whole commitment definition (update replaces every field, nested lists included)."""

    name: str
    type: CommitmentType
    frequency: Frequency
    ramp: tuple[RampStep, ...]
    start_date: date | None = None
    end_date: date | None = None
    usage_class_id: int | None = None
    service_id: int | None = None
    package_id: int | None = None
    package_frequency: Frequency | None = None
    payment: PaymentTiming | None = None
    amount_prepaid: Decimal = Decimal(0)
    amount_first_bill: Decimal = Decimal(0)
    fee_billing: FeeBilling = FeeBilling.BILLING_PLAN
    fee_timing: FeeTiming = FeeTiming.IN_ARREARS
    fee_dates: tuple[FeeDate, ...] = ()
    eligible_charge_types: tuple[ChargeType, ...] = tuple(ChargeType)
    eligible_product_ids: tuple[int, ...] = ()
    overage_surcharge_percent: Decimal = Decimal(0)
    separate_overage: bool = False
    rollover_fraction: Decimal = Decimal(0)
    rollover_cap: Decimal | None = None
    prorate: bool = True
    true_up: bool = True
    priority: int = 0
    make_good: bool = False
    penalties: tuple[Penalty, ...] = ()


@dataclass(frozen=True)
class ContractSpec:
    account_id: int
    name: str
    currency: str
    start_date: date
    end_date: date
    billing_frequency: Frequency
    standing_charge: Decimal = Decimal(0)
    minimum_spend: Decimal = Decimal(0)
    prices: tuple[PriceSpec, ...] = ()
    early_termination_fee: Decimal = Decimal(0)
    service_lines: tuple[ServiceLineSpec, ...] = ()
    commitments: tuple[CommitmentSpec, ...] = ()


@dataclass(frozen=True)
class ContractPatch:
    """Scalar fields of a draft contract; None keeps the stored value."""

    name: str | None = None
    currency: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    billing_frequency: Frequency | None = None
    standing_charge: Decimal | None = None
    minimum_spend: Decimal | None = None
    early_termination_fee: Decimal | None = None
