"""Penalties on a missed window (SPEC §8): amounts unrounded, the caller rounds the PENALTY line.

Choices where SPEC.md is silent (also in docs/billing-rules.md §8):

- No shortfall (S ≤ 0), no penalty, whatever the kind.
- PERCENT basis with a committed total of 0 (nothing was committed) bills nothing.
- Tier bounds are inclusive and must be > 0 and strictly ascending; only the last may be open.
- With a bounded last tier, GRADUATED bills nothing for the part of x above the last bound (the
  schedule is capped); VOLUME bills an x above every bound at the last tier (a bigger miss never
  costs less).
- A penalty may only carry the settings of its kind (no tiers on a CHARGE penalty, ...).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.guards import is_finite, require_non_negative
from app.billing.measures import Measurement
from app.billing.money import exact
from app.billing.terms import Penalty, PenaltyKind, TierBasis, TierMode
from app.billing.tiers import bounds_problem, landing_tier, reached_parts

ZERO = Fraction(0)


def _unit_bounds(penalty: Penalty, m: Measurement) -> list[Fraction | None]:
    """The tier bounds in shortfall units: a percent bound b is b × C_total ÷ 100 units, so that
    x = S ÷ C_total × 100 ≤ b exactly when S ≤ b × C_total ÷ 100 (no division by C_total)."""
    if penalty.basis is TierBasis.UNITS:
        return [None if tier.up_to is None else exact(tier.up_to) for tier in penalty.tiers]
    return [
        None if tier.up_to is None else exact(tier.up_to) * exact(m.committed_total) / 100
        for tier in penalty.tiers
    ]


def _tiered_amount(penalty: Penalty, m: Measurement) -> Fraction:
    """TIERED: x is S (UNITS) or S ÷ C_total × 100 (PERCENT), worked in units throughout."""
    if penalty.basis is TierBasis.PERCENT and m.committed_total <= 0:
        return ZERO
    bounds = _unit_bounds(penalty, m)
    shortfall = exact(m.shortfall)
    if penalty.mode is TierMode.VOLUME:
        index = landing_tier(bounds, shortfall)
        tier = penalty.tiers[len(bounds) - 1 if index is None else index]
        return shortfall * exact(tier.rate) + exact(tier.flat)
    return sum(
        (
            part * exact(penalty.tiers[index].rate) + exact(penalty.tiers[index].flat)
            for index, part in reached_parts(bounds, shortfall)
        ),
        ZERO,
    )


def penalty_amount(penalty: Penalty, m: Measurement, window_charges_total: Decimal) -> Fraction:
    """What ``penalty`` bills for a window measured as ``m`` (exact, unrounded; 0 with no shortfall).

    CHARGE: max(0, A − B) with B = ``window_charges_total`` (all drawable charges of the window,
    before drawdown). COUNT: S × R. TIERED: see ``_tiered_amount`` and SPEC §8.
    """
    if m.shortfall <= 0:
        return ZERO
    if penalty.kind is PenaltyKind.CHARGE:
        return max(ZERO, exact(penalty.amount) - exact(window_charges_total))
    if penalty.kind is PenaltyKind.COUNT:
        return exact(m.shortfall) * exact(penalty.rate)
    return _tiered_amount(penalty, m)


def _refuse(message: str, field: str) -> BillingError:
    return BillingError(BillingErrorCode.INVALID_PENALTY, message, field)


def _check_unused(penalty: Penalty) -> None:
    """A penalty carries only the settings of its kind."""
    kind = penalty.kind
    if kind is not PenaltyKind.CHARGE and (not is_finite(penalty.amount) or penalty.amount != 0):
        raise _refuse(f"a {kind.value} penalty has no amount", "amount")
    if kind is not PenaltyKind.COUNT and (not is_finite(penalty.rate) or penalty.rate != 0):
        raise _refuse(f"a {kind.value} penalty has no rate", "rate")
    if kind is not PenaltyKind.TIERED and penalty.tiers:
        raise _refuse(f"a {kind.value} penalty has no tiers", "tiers")


def validate_penalty(penalty: Penalty) -> None:
    """Refuse a penalty that could bill a negative or undefined amount.

    CHARGE: amount ≥ 0. COUNT: rate ≥ 0. TIERED: at least one tier, bounds > 0 and strictly
    ascending, only the last open, rates and flats ≥ 0 (``INVALID_TIERS``, field ``tiers``).
    """
    _check_unused(penalty)
    if penalty.kind is PenaltyKind.CHARGE:
        require_non_negative(
            penalty.amount, BillingErrorCode.INVALID_PENALTY, "amount", "the penalty amount"
        )
    elif penalty.kind is PenaltyKind.COUNT:
        require_non_negative(
            penalty.rate, BillingErrorCode.INVALID_PENALTY, "rate", "the penalty rate"
        )
    else:
        problem = bounds_problem([t.up_to for t in penalty.tiers], last_must_be_open=False)
        if problem:
            raise BillingError(BillingErrorCode.INVALID_TIERS, problem, "tiers")
        for number, tier in enumerate(penalty.tiers, start=1):
            for value, what in ((tier.rate, "rate"), (tier.flat, "flat")):
                require_non_negative(
                    value, BillingErrorCode.INVALID_TIERS, "tiers", f"tier {number}'s {what}"
                )
