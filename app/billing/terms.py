"""The terms of a contract as the billing core sees them: frozen dataclasses and their enums.

These are plain data handed in by the services layer (mapped from the database) and never mutated.
Amounts are ``Decimal``; dates are ``datetime.date``; every interval is half-open ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from app.billing.kinds import (  # noqa: F401  (re-exported: the terms are read with their kinds)
    Frequency,
    ChargeType,
    DRAWABLE_ORDER,
    LineType,
    ProductKind,
    PricingModel,
    CommitmentType,
    PaymentTiming,
    FeeBilling,
    FeeTiming,
    PenaltyKind,
    TierBasis,
    TierMode,
    DrawdownOrder,
)


@dataclass(frozen=True)
class DateRange:
    """A half-open interval of calendar dates ``[start, end)``."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def overlap_days(self, other: DateRange) -> int:
        return max(0, (min(self.end, other.end) - max(self.start, other.start)).days)

    def overlaps(self, other: DateRange) -> bool:
        return self.overlap_days(other) > 0

    def clamp(self, day: date) -> date:
        """``day`` moved into the range: its first day if before, its last day if after."""
        return min(max(day, self.start), self.end - timedelta(days=1))


@dataclass(frozen=True)
class PriceTier:
    """One tier of a graduated or volume price. ``up_to`` is inclusive; ``None`` is open."""

    up_to: Decimal | None
    unit_amount: Decimal
    flat_amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Price:
    """The contract's price for one usage class (SPEC §5)."""

    usage_class: str
    model: PricingModel
    unit_amount: Decimal = Decimal(0)
    tiers: tuple[PriceTier, ...] = ()


@dataclass(frozen=True)
class ServiceLine:
    """A service or package on a contract. ``active`` is when it is live (end may be the term's end).

    ``seq`` is the line's creation order within the contract (SPEC §7's last charge tie-break).
    """

    key: str
    product: str
    kind: ProductKind
    quantity: Decimal
    unit_price: Decimal
    active: DateRange
    package: str | None = None
    package_frequency: Frequency | None = None
    external_id: str | None = None
    seq: int = 0


@dataclass(frozen=True)
class RampStep:
    """Committed amount per window from window ``from_window`` (counted from 1) on."""

    from_window: int
    amount: Decimal


@dataclass(frozen=True)
class PenaltyTier:
    """A tier of a TIERED penalty. ``up_to`` is inclusive; ``None`` is open (last tier only)."""

    up_to: Decimal | None
    rate: Decimal
    flat: Decimal = Decimal(0)


@dataclass(frozen=True)
class Penalty:
    """What a missed window costs (SPEC §8). Fields not used by ``kind`` are left at defaults."""

    kind: PenaltyKind
    amount: Decimal = Decimal(0)  # CHARGE
    rate: Decimal = Decimal(0)  # COUNT
    basis: TierBasis = TierBasis.UNITS  # TIERED
    mode: TierMode = TierMode.GRADUATED  # TIERED
    tiers: tuple[PenaltyTier, ...] = ()  # TIERED


@dataclass(frozen=True)
class FeeDate:
    """An explicit commitment-fee instalment, billed in the billing period holding ``date``."""

    date: date
    amount: Decimal


@dataclass(frozen=True)
class FeeSchedule:
    """How a prepaid commitment's total is billed (SPEC §6), and when (``timing``, SPEC §16):
    ``IN_ARREARS`` on the invoice of the period the fee is due in, ``IN_ADVANCE`` on the invoice
    before it (the activation invoice for the contract's first period)."""

    amount_prepaid: Decimal = Decimal(0)
    amount_first_bill: Decimal = Decimal(0)
    billing: FeeBilling = FeeBilling.BILLING_PLAN
    fee_dates: tuple[FeeDate, ...] = ()
    timing: FeeTiming = FeeTiming.IN_ARREARS


@dataclass(frozen=True)
class Commitment:
    """A promise inside a contract (SPEC §1, §4, §6, §8).

    ``term`` is the commitment's own ``[start, end)``, inside the contract's term.
    ``uncut_end`` is the end the commitment had before an amendment or a termination cut it at
    ``term.end``: its windows are laid out to ``uncut_end`` and cut at ``term.end``, so the window
    holding the cut is partial against its uncut length (for ``TERM``, the whole original term).
    Eligibility: ``eligible_charge_types`` (all drawable types by default) and ``eligible_products``
    (empty means every product). ``payment`` is set for SPEND commitments only. ``seq`` is the
    commitment's creation order within the contract; ``name`` is how invoice lines name it.
    """

    key: str
    type: CommitmentType
    term: DateRange
    frequency: Frequency
    ramp: tuple[RampStep, ...]
    usage_class: str | None = None  # USAGE, AVERAGE_USAGE
    service: str | None = None  # SERVICE, PACKAGE_SERVICE, AVERAGE_USAGE (the connections)
    package: str | None = None  # PACKAGE_SERVICE, PACKAGE
    package_frequency: Frequency | None = None  # PACKAGE_SERVICE
    payment: PaymentTiming | None = None  # SPEND only
    fees: FeeSchedule = field(default_factory=FeeSchedule)  # PREPAID only
    eligible_charge_types: frozenset[ChargeType] = frozenset(ChargeType)
    eligible_products: frozenset[str] = frozenset()
    overage_surcharge_percent: Decimal = Decimal(0)
    separate_overage: bool = False
    rollover_fraction: Decimal = Decimal(0)
    rollover_cap: Decimal | None = None  # None: no cap
    prorate: bool = True
    true_up: bool = True
    make_good: bool = False  # SPEC §18: a window's shortfall is carried into the next window
    priority: int = 0
    penalties: tuple[Penalty, ...] = ()
    seq: int = 0
    name: str = ""
    uncut_end: date | None = None  # set when the term was cut short (SPEC §13–§14): the end it had

    @property
    def label(self) -> str:
        """How a finance reader knows the commitment: its name, else its key."""
        return f'"{self.name}"' if self.name else f"commitment {self.key}"


@dataclass(frozen=True)
class Termination:
    """An early end of the contract on ``on`` (exclusive, SPEC §14), as ``terminated`` applies it.

    Given by the caller: ``on`` (the date *t*), ``charge_remaining``, ``fee`` (the early termination
    fee to bill on the final invoice, 0 when waived) and ``consumed`` (commitment key → credit
    consumed from the pool of its window cut at *t*, as it stood at termination: a cut window's
    amount never falls below it). Filled by ``terminated``: ``agreed_end`` (the term's end as
    agreed), ``agreed`` (the commitments as agreed) and ``agreed_lines`` (the service lines as
    agreed): the final close settles removed windows and fees from them.
    """

    on: date
    charge_remaining: bool = False
    fee: Decimal = Decimal(0)
    consumed: tuple[tuple[str, Decimal], ...] = ()
    agreed_end: date | None = None
    agreed: tuple[Commitment, ...] = ()
    agreed_lines: tuple[ServiceLine, ...] = ()

    @property
    def early(self) -> bool:
        """True if the contract ends before its agreed end (a termination on the end changes nothing)."""
        return self.agreed_end is not None and self.on < self.agreed_end


@dataclass(frozen=True)
class ContractTerms:
    """Everything about a contract that decides money, as of the close being computed."""

    currency: str
    term: DateRange
    billing_frequency: Frequency
    standing_charge: Decimal = Decimal(0)
    minimum_spend: Decimal = Decimal(0)
    prices: tuple[Price, ...] = ()
    service_lines: tuple[ServiceLine, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    drawdown_order: DrawdownOrder = DrawdownOrder.COMMITMENT_FIRST
    termination: Termination | None = None  # set by ``termination.terminated`` (SPEC §14)


class Created(Protocol):
    """Anything with a creation order (``seq``) and a key."""

    @property
    def seq(self) -> int: ...

    @property
    def key(self) -> str: ...


C = TypeVar("C", bound=Created)


def in_creation_order(items: Iterable[C]) -> list[C]:
    """``items`` in the order they were created (SPEC §7): by ``seq``, never by the text or size of
    a key. The key only breaks ties between items given the same ``seq``."""
    return sorted(items, key=lambda item: (item.seq, item.key))
