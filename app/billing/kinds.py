"""The enumerations of the billing core's terms (SPEC §1–§8): frequencies, charge and line types,
product kinds, pricing models, commitment types, payment and fee settings, penalties, drawdown
orders. ``terms`` re-exports them with the dataclasses that use them.
"""

from __future__ import annotations

from enum import Enum


class Frequency(str, Enum):
    """A billing or commit frequency (SPEC §2).

    The first four are calendar lengths (``months``). ``TERM``, for commitments only, is one window
    from the commitment's start to its end, however long: it has no length in months, and asking
    for one is a programming error (``ValueError``), so no caller can silently treat it as a year.
    """

    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    SEMI_ANNUAL = "SEMI_ANNUAL"
    ANNUAL = "ANNUAL"
    TERM = "TERM"

    @property
    def is_term(self) -> bool:
        """True for ``TERM``: one window spanning the whole commitment."""
        return self is Frequency.TERM

    @property
    def months(self) -> int:
        """The length in calendar months; ``ValueError`` for ``TERM``, which has none."""
        if self.is_term:
            raise ValueError("the TERM frequency has no length in months: it spans the commitment")
        return _MONTHS[self.value]


_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "SEMI_ANNUAL": 6, "ANNUAL": 12}


class ChargeType(str, Enum):
    """The drawable charge types, in the fixed drawdown order of SPEC §7."""

    USAGE = "USAGE"
    RECURRING = "RECURRING"
    STANDING = "STANDING"
    MINIMUM_SPEND = "MINIMUM_SPEND"
    ONE_TIME = "ONE_TIME"


DRAWABLE_ORDER: tuple[ChargeType, ...] = tuple(ChargeType)


class LineType(str, Enum):
    """Every kind of invoice line. The first five are charges; the rest are never drawn down."""

    USAGE = "USAGE"
    RECURRING = "RECURRING"
    STANDING = "STANDING"
    MINIMUM_SPEND = "MINIMUM_SPEND"
    ONE_TIME = "ONE_TIME"
    COMMITMENT_FEE = "COMMITMENT_FEE"
    OVERAGE = "OVERAGE"
    OVERAGE_SURCHARGE = "OVERAGE_SURCHARGE"
    TRUE_UP = "TRUE_UP"
    PENALTY = "PENALTY"
    DRAWDOWN = "DRAWDOWN"
    TERMINATION_FEE = "TERMINATION_FEE"


class ProductKind(str, Enum):
    USAGE_CLASS = "USAGE_CLASS"
    SERVICE = "SERVICE"
    PACKAGE = "PACKAGE"


class PricingModel(str, Enum):
    PER_UNIT = "PER_UNIT"
    GRADUATED = "GRADUATED"
    VOLUME = "VOLUME"


class CommitmentType(str, Enum):
    SPEND = "SPEND"
    USAGE = "USAGE"
    SERVICE = "SERVICE"
    PACKAGE_SERVICE = "PACKAGE_SERVICE"
    PACKAGE = "PACKAGE"
    AVERAGE_USAGE = "AVERAGE_USAGE"

    @property
    def is_flow(self) -> bool:
        """Flow types are prorated in a partial window; level types never are (SPEC §2)."""
        return self in (CommitmentType.SPEND, CommitmentType.USAGE)


class PaymentTiming(str, Enum):
    """How a SPEND commitment is paid (SPEC §6). Only SPEND commitments have one."""

    PREPAID = "PREPAID"
    POSTPAID = "POSTPAID"


class FeeBilling(str, Enum):
    """How the outstanding commitment fee of a prepaid commitment is billed."""

    BILLING_PLAN = "BILLING_PLAN"
    FEE_DATES = "FEE_DATES"


class FeeTiming(str, Enum):
    """When a prepaid commitment's fee due in a billing period is billed (SPEC §16)."""

    IN_ARREARS = "IN_ARREARS"
    IN_ADVANCE = "IN_ADVANCE"


class PenaltyKind(str, Enum):
    CHARGE = "CHARGE"
    COUNT = "COUNT"
    TIERED = "TIERED"


class TierBasis(str, Enum):
    UNITS = "UNITS"
    PERCENT = "PERCENT"


class TierMode(str, Enum):
    GRADUATED = "GRADUATED"
    VOLUME = "VOLUME"


class DrawdownOrder(str, Enum):
    BALANCE_FIRST = "BALANCE_FIRST"
    COMMITMENT_FIRST = "COMMITMENT_FIRST"
    BALANCE_ONLY = "BALANCE_ONLY"
    COMMITMENT_ONLY = "COMMITMENT_ONLY"
