"""What a commitment measures in a window, and how far it falls short (SPEC §4).

Choices where SPEC.md is silent (also in docs/billing-rules.md §5):

- A charge counts toward a SPEND window when its whole service period lies inside the window's
  span; a usage total counts toward a USAGE / AVERAGE_USAGE window when its whole span does.
- ``volume`` is the factor the shortfall is expressed in: the connections' time-weighted volume
  for AVERAGE_USAGE, 1 for every other type; ``committed_total`` is ``committed × volume``.
- SERVICE matches lines by product alone; PACKAGE matches lines of the package with kind PACKAGE.
- With ``currency`` given, a SPEND window's committed amount is rounded to the minor unit first,
  so the shortfall matches the rounded amount a pool holds.

Every figure here is exact (``Fraction``): a time-weighted volume is a quotient of days, and the
AVERAGE_USAGE shortfall (C − U ÷ V) × V is C × V − U with no average cut to a precision in between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from app.billing.calendar import Period
from app.billing.charges import Charge, UsageTotal
from app.billing.money import exact, ratio, round_money
from app.billing.ramps import committed_amount
from app.billing.terms import (
    ChargeType,
    Commitment,
    CommitmentType,
    DateRange,
    ProductKind,
    ServiceLine,
)

ZERO = Fraction(0)
ONE = Fraction(1)


@dataclass(frozen=True)
class Measurement:
    """One window of one commitment, measured.

    ``committed`` is *C*, ``measured`` is *M* (both in the commitment's unit), ``shortfall`` is
    *S* = max(0, C − M) × V, ``volume`` is *V* (connections for AVERAGE_USAGE, else 1) and
    ``committed_total`` is C × V (the base of percent penalty tiers).
    """

    committed: Fraction
    measured: Fraction
    shortfall: Fraction
    volume: Fraction
    committed_total: Fraction


def charge_is_eligible(
    charge_type: ChargeType, product: str, types: frozenset[ChargeType], products: frozenset[str]
) -> bool:
    """True if a charge of ``charge_type`` for ``product`` may count toward (or be paid by) a
    commitment or pool eligible for ``types`` and ``products`` (empty ``products``: all)."""
    return charge_type in types and (not products or product in products)


def is_eligible(commitment: Commitment, charge: Charge) -> bool:
    """True if ``charge`` is of the commitment's eligible types and products."""
    return charge_is_eligible(
        charge.type,
        charge.product,
        commitment.eligible_charge_types,
        commitment.eligible_products,
    )


def _inside(inner: DateRange, outer: DateRange) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def time_weighted_volume(
    lines: Sequence[ServiceLine],
    window_span: DateRange,
    predicate: Callable[[ServiceLine], bool],
) -> Fraction:
    """Σ quantity × (days the line is active in the window ÷ days of the window as cut by the
    term), over the lines ``predicate`` accepts. ``window_span`` is the cut window. One division
    at the end keeps the result independent of the lines' order; the result is exact."""
    if window_span.days <= 0:
        return ZERO
    weighted = sum(
        (
            exact(line.quantity) * line.active.overlap_days(window_span)
            for line in lines
            if predicate(line)
        ),
        ZERO,
    )
    return weighted * ratio(1, window_span.days)


def _usage_in(commitment: Commitment, span: DateRange, usage: Sequence[UsageTotal]) -> Fraction:
    return sum(
        (
            exact(total.quantity)
            for total in usage
            if total.usage_class == commitment.usage_class and _inside(total.span, span)
        ),
        ZERO,
    )


def _line_predicate(commitment: Commitment) -> Callable[[ServiceLine], bool]:
    """Which service lines a volume-type commitment counts."""
    if commitment.type is CommitmentType.PACKAGE:
        return lambda line: line.product == commitment.package and line.kind is ProductKind.PACKAGE
    if commitment.type is CommitmentType.PACKAGE_SERVICE:
        return lambda line: (
            line.product == commitment.service
            and line.package == commitment.package
            and line.package_frequency == commitment.package_frequency
        )
    return lambda line: line.product == commitment.service


def measured_value(
    commitment: Commitment,
    span: DateRange,
    *,
    usage: Sequence[UsageTotal],
    service_lines: Sequence[ServiceLine],
    charges: Sequence[Charge],
) -> tuple[Fraction, Fraction]:
    """``(M, V)`` of ``commitment`` over ``span`` (V is 1 except for AVERAGE_USAGE)."""
    kind = commitment.type
    if kind is CommitmentType.SPEND:
        spend = sum(
            (
                exact(c.amount)
                for c in charges
                if is_eligible(commitment, c) and _inside(c.service_period, span)
            ),
            ZERO,
        )
        return spend, ONE
    if kind is CommitmentType.USAGE:
        return _usage_in(commitment, span, usage), ONE
    volume = time_weighted_volume(service_lines, span, _line_predicate(commitment))
    if kind is not CommitmentType.AVERAGE_USAGE:
        return volume, ONE
    if volume == 0:
        return ZERO, ZERO
    return _usage_in(commitment, span, usage) / volume, volume


def measure(
    commitment: Commitment,
    window: Period,
    *,
    usage: Sequence[UsageTotal],
    service_lines: Sequence[ServiceLine],
    charges: Sequence[Charge],
    currency: str | None = None,
) -> Measurement:
    """Measure ``commitment`` over ``window``: committed *C* (from the ramp, prorated for flow
    types), measured *M*, shortfall *S*, volume *V* and committed total *C × V*. Exact, except
    that a SPEND commitment's *C* is rounded to ``currency`` when one is given."""
    committed = committed_amount(commitment, window)
    if currency is not None and commitment.type is CommitmentType.SPEND:
        committed = exact(round_money(committed, currency))
    measured, volume = measured_value(
        commitment, window.span, usage=usage, service_lines=service_lines, charges=charges
    )
    shortfall = max(ZERO, committed - measured) * volume
    return Measurement(committed, measured, shortfall, volume, committed * volume)
