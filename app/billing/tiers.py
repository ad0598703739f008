"""Tier arithmetic shared by graduated/volume prices (SPEC §5) and tiered penalties (SPEC §8).

A tier list is given by its upper bounds, ascending; ``None`` is an open bound (last tier only).
Tier *i* covers ``(bound[i-1], bound[i]]`` with ``bound[-1] = 0``: bounds are inclusive, so a
value exactly on a bound belongs to the lower tier. A value is said to *reach* a tier when it is
strictly above the tier's lower bound; 0 reaches no tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from app.billing.guards import is_finite

ZERO = Decimal(0)

Bounds = Sequence[Decimal | None]
N = TypeVar("N", Decimal, Fraction)


def reached_parts(bounds: Sequence[N | None], x: N) -> tuple[tuple[int, N], ...]:
    """``(tier index, part of x inside that tier)`` for every tier ``x`` reaches, in order.

    The parts add up to ``x`` when the last tier is open; with a bounded last tier whatever lies
    above the last bound is in no tier and is left out. Bounds and ``x`` are of one exact type
    (decimals for prices, fractions for penalties), so every part is exact.
    """
    parts: list[tuple[int, N]] = []
    lower = x - x
    for index, upper in enumerate(bounds):
        if x <= lower:
            break
        top = x if upper is None else min(x, upper)
        parts.append((index, top - lower))
        if upper is None:
            break
        lower = upper
    return tuple(parts)


def landing_tier(bounds: Sequence[N | None], x: N) -> int | None:
    """Index of the tier ``x`` lands in (first tier whose inclusive bound holds it); ``None`` if
    ``x`` lies above every bound."""
    for index, upper in enumerate(bounds):
        if upper is None or x <= upper:
            return index
    return None


def bounds_problem(bounds: Bounds, *, last_must_be_open: bool) -> str | None:
    """Why ``bounds`` are not a valid tier list, or ``None`` if they are.

    Rules: at least one tier; only the last bound may be open; bounds are finite, > 0 and strictly
    ascending; with ``last_must_be_open`` the last bound must be open.
    """
    if not bounds:
        return "at least one tier is required"
    previous = ZERO
    for index, upper in enumerate(bounds):
        last = index == len(bounds) - 1
        if upper is None:
            if not last:
                return f"only the last tier may be open (tier {index + 1} has no upper bound)"
            continue
        if not is_finite(upper):
            return f"tier {index + 1}'s upper bound must be a finite decimal"
        if upper <= previous:
            return f"tier bounds must be > 0 and strictly ascending (tier {index + 1}: {upper})"
        previous = upper
    if last_must_be_open and bounds[-1] is not None:
        return "the last tier must be open (no upper bound) so that every quantity has a price"
    return None
