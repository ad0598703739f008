"""Ramp schedules: the committed amount of each window (SPEC §3, proration from SPEC §2)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from app.billing.calendar import Period
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.guards import require_non_negative
from app.billing.money import exact, ratio
from app.billing.terms import Commitment, RampStep

FIELD = "rampSteps"


def _invalid(message: str) -> BillingError:
    return BillingError(BillingErrorCode.INVALID_RAMP, message, FIELD)


def validate_ramp(ramp: Sequence[RampStep]) -> None:
    """Refuse a ramp that is empty, does not start at window 1, whose ``from_window`` does not
    strictly increase, or that has a negative (or non-finite) amount. Raises ``INVALID_RAMP``."""
    if not ramp:
        raise _invalid("a commitment needs at least one ramp step (from window 1)")
    if ramp[0].from_window != 1:
        raise _invalid(f"the first ramp step must start at window 1, not {ramp[0].from_window}")
    for previous, step in pairwise(ramp):
        if step.from_window <= previous.from_window:
            raise _invalid(
                f"ramp steps must have strictly increasing windows "
                f"({previous.from_window} then {step.from_window})"
            )
    for step in ramp:
        require_non_negative(
            step.amount,
            BillingErrorCode.INVALID_RAMP,
            FIELD,
            f"the amount of the ramp step from window {step.from_window}",
        )


def ramp_amount(ramp: Sequence[RampStep], window_number: int) -> Decimal:
    """The amount of the step in force at ``window_number`` (counted from 1): the last step whose
    ``from_window`` is at or before it. Raises ``INVALID_RAMP`` for window numbers below 1 or a
    ramp with no step at window 1."""
    if window_number < 1:
        raise _invalid(f"windows are counted from 1, not {window_number}")
    amount: Decimal | None = None
    for step in ramp:
        if step.from_window > window_number:
            break
        amount = step.amount
    if amount is None:
        raise _invalid("the ramp has no step in force at window 1")
    return amount


def committed_amount(commitment: Commitment, window: Period) -> Fraction:
    """The committed amount *C* of ``window``, exact (unrounded).

    The ramp amount of the window; for the flow types (SPEND, USAGE) in a partial window, unless
    the commitment says ``prorate=False``, times ``span.days ÷ full.days`` (an exact fraction: 1 TB
    over 17 of 31 days is 17/31 TB, not 0.548387…). Level types are never prorated. Callers round
    money amounts once, at the line or the pool.
    """
    return _committed(commitment.ramp, window, commitment.type.is_flow and commitment.prorate)


@lru_cache(maxsize=16384)
def _committed(ramp: tuple[RampStep, ...], window: Period, prorated: bool) -> Fraction:
    """``committed_amount`` by what it depends on, kept (bounded): the same ramp and window recur
    across contracts and closes, and a Fraction per window per close was a cost of every close.
    An error (no step in force) is raised, not kept."""
    amount = exact(ramp_amount(ramp, window.number))
    if window.partial and prorated:
        return amount * ratio(window.span.days, window.full.days)
    return amount
