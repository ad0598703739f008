"""The draft-time checks of one commitment, each refusing with the first problem it finds.

``app.billing.validation`` runs all of them and collects what they raise; field names are the
camelCase names of the GraphQL commitment input.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.billing.calendar import check_billing_frequency, commitment_windows
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.guards import is_finite, require_non_negative
from app.billing.ramps import validate_ramp
from app.billing.terms import (
    ChargeType,
    Commitment,
    CommitmentType,
    DateRange,
    FeeSchedule,
    FeeTiming,
    PaymentTiming,
)

Check = Callable[[Commitment, DateRange], None]
INVALID = BillingErrorCode.INVALID_COMMITMENT
HUNDRED = Decimal(100)

# What each type measures needs these attributes (attribute, GraphQL field).
_NEEDS: dict[CommitmentType, tuple[str, ...]] = {
    CommitmentType.SPEND: (),
    CommitmentType.USAGE: ("usage_class",),
    CommitmentType.SERVICE: ("service",),
    CommitmentType.PACKAGE_SERVICE: ("service", "package", "package_frequency"),
    CommitmentType.PACKAGE: ("package",),
    CommitmentType.AVERAGE_USAGE: ("usage_class", "service"),
}
_FIELDS = {
    "usage_class": "usageClass",
    "service": "service",
    "package": "package",
    "package_frequency": "packageFrequency",
}


def check_term(c: Commitment, contract_term: DateRange) -> None:
    """The commitment's term is a non-empty interval inside the contract's term."""
    if c.term.end <= c.term.start:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL,
            f"the commitment's end {c.term.end} must be after its start {c.term.start}",
            "endDate",
        )
    if contract_term.end <= contract_term.start:
        return  # the contract's own term is reported; nothing to compare with
    if c.term.start < contract_term.start:
        raise BillingError(
            BillingErrorCode.DATE_OUTSIDE_TERM,
            f"the commitment starts {c.term.start}, before the contract ({contract_term.start})",
            "startDate",
        )
    if c.term.end > contract_term.end:
        raise BillingError(
            BillingErrorCode.DATE_OUTSIDE_TERM,
            f"the commitment ends {c.term.end}, after the contract ({contract_term.end})",
            "endDate",
        )


def check_measured(c: Commitment, _: DateRange) -> None:
    """The type has what it measures, and nothing another type would measure; a package frequency
    is a calendar length, never ``TERM``."""
    needs = _NEEDS[c.type]
    for attribute, field in _FIELDS.items():
        value = getattr(c, attribute)
        if attribute in needs and not value:
            raise BillingError(INVALID, f"a {c.type.value} commitment needs {field}", field)
        if attribute not in needs and value is not None:
            raise BillingError(INVALID, f"a {c.type.value} commitment takes no {field}", field)
    if c.package_frequency is not None:
        check_billing_frequency(c.package_frequency, "packageFrequency")


def check_payment(c: Commitment, _: DateRange) -> None:
    """SPEND commitments are prepaid or postpaid; only prepaid ones have prepaid settings."""
    if c.type is CommitmentType.SPEND and c.payment is None:
        raise BillingError(INVALID, "a SPEND commitment must be PREPAID or POSTPAID", "payment")
    if c.type is not CommitmentType.SPEND and c.payment is not None:
        raise BillingError(INVALID, f"a {c.type.value} commitment has no payment", "payment")
    if c.payment is not PaymentTiming.PREPAID and c.fees.timing is FeeTiming.IN_ADVANCE:
        raise BillingError(
            BillingErrorCode.INVALID_FEE_SCHEDULE,
            "feeTiming IN_ADVANCE applies to prepaid commitments only (only they have a fee)",
            "feeTiming",
        )
    if c.payment is not PaymentTiming.PREPAID and c.fees != FeeSchedule():
        raise BillingError(
            BillingErrorCode.INVALID_FEE_SCHEDULE,
            "only prepaid commitments have a commitment fee schedule",
            "fees",
        )
    if c.payment is not PaymentTiming.PREPAID and c.separate_overage:
        raise BillingError(
            INVALID, "separateOverage applies to prepaid commitments only", "separateOverage"
        )
    if c.payment is not PaymentTiming.POSTPAID and not c.true_up:
        raise BillingError(INVALID, "trueUp applies to postpaid commitments only", "trueUp")
    if c.payment is PaymentTiming.PREPAID and c.make_good:
        raise BillingError(
            INVALID,
            "makeGood is not for prepaid commitments: a prepaid window's credit is paid up front, "
            "there is no shortfall to carry (SPEC §18)",
            "makeGood",
        )


def check_surcharge(c: Commitment, _: DateRange) -> None:
    """The overage surcharge is a percent ≥ −100, on SPEND only, and excludes separateOverage."""
    code, field, percent = (
        BillingErrorCode.INVALID_SURCHARGE,
        "overageSurchargePercent",
        c.overage_surcharge_percent,
    )
    if not is_finite(percent):
        raise BillingError(code, "the overage surcharge must be a finite decimal", field)
    if percent < -HUNDRED:
        raise BillingError(code, f"the overage surcharge must be ≥ −100 %, not {percent}", field)
    if percent != 0 and c.type is not CommitmentType.SPEND:
        raise BillingError(code, f"a {c.type.value} commitment has no overage surcharge", field)
    if c.separate_overage and percent != 0:
        raise BillingError(
            code, "separateOverage is only allowed with no overage surcharge", "separateOverage"
        )


def check_rollover(c: Commitment, _: DateRange) -> None:
    """Rollover is on SPEND only, with a fraction in [0, 1] and a cap ≥ 0."""
    code = BillingErrorCode.INVALID_ROLLOVER
    fraction = c.rollover_fraction
    if not is_finite(fraction) or not 0 <= fraction <= 1:
        raise BillingError(
            code, f"rolloverFraction must lie in [0, 1], not {fraction}", "rolloverFraction"
        )
    if c.rollover_cap is not None:
        require_non_negative(c.rollover_cap, code, "rolloverCap", "the rollover cap")
    if c.type is not CommitmentType.SPEND and (fraction != 0 or c.rollover_cap is not None):
        raise BillingError(
            code, f"a {c.type.value} commitment does not roll over", "rolloverFraction"
        )


def check_eligibility(c: Commitment, _: DateRange) -> None:
    """SPEND counts at least one charge type; other types count no charges at all."""
    if not c.eligible_charge_types:
        raise BillingError(
            INVALID, "at least one eligible charge type is needed", "eligibleChargeTypes"
        )
    if c.type is CommitmentType.SPEND:
        return
    if c.eligible_charge_types != frozenset(ChargeType):
        raise BillingError(
            INVALID, f"a {c.type.value} commitment counts no charges", "eligibleChargeTypes"
        )
    if c.eligible_products:
        raise BillingError(
            INVALID, f"a {c.type.value} commitment counts no charges", "eligibleProducts"
        )


def check_settings(c: Commitment, _: DateRange) -> None:
    """Priority ≥ 0; ``prorate: false`` only where proration could happen (flow types)."""
    if c.priority < 0:
        raise BillingError(INVALID, f"priority must be ≥ 0, not {c.priority}", "priority")
    if not c.prorate and not c.type.is_flow:
        raise BillingError(
            INVALID, f"a {c.type.value} commitment is never prorated; drop prorate", "prorate"
        )


def check_ramp(c: Commitment, _: DateRange) -> None:
    """The ramp is valid and every step starts on a window the commitment has."""
    validate_ramp(c.ramp)
    if c.term.end <= c.term.start:
        return  # check_term reports it; the windows cannot be counted
    count = len(commitment_windows(c))
    last = c.ramp[-1].from_window
    if last > 1 and c.frequency.is_term:
        raise BillingError(
            BillingErrorCode.INVALID_RAMP,
            f"a TERM commitment has one window (its whole term), so no ramp step can start at "
            f"window {last}; give one step from window 1",
            "rampSteps",
        )
    if last > count:
        raise BillingError(
            BillingErrorCode.INVALID_RAMP,
            f"a ramp step starts at window {last} but the commitment has {count} windows",
            "rampSteps",
        )


CHECKS: tuple[Check, ...] = (
    check_term,
    check_measured,
    check_payment,
    check_surcharge,
    check_rollover,
    check_eligibility,
    check_settings,
    check_ramp,
)
