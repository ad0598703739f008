"""Make-good commitments (SPEC §18): a window's shortfall carried into the next window.

A commitment with ``make_good`` does not settle the shortfall ``S_k`` of a window that has a next
window: the window *carries* it (no ``TRUE_UP``, no penalty, a postpaid tracking pool keeps its
remainder). At the end of window *k + 1* its excess ``X = max(0, M − C) × V`` recovers
``min(X, S_k)``; what is left of ``S_k`` is settled then, each line naming window *k*: the
``TRUE_UP`` of what is left (postpaid, unless ``trueUp: false``) and the penalties computed as if
window *k* had fallen short by what is left (its committed total, for percent tiers, and its
charges, for a ``CHARGE`` penalty, are window *k*'s). Window *k + 1* settles its own shortfall at
its end too, together with what is left of ``S_k`` (SPEC: "together with window k+1's own
shortfall"): a window that received a carry never carries. A shortfall is carried once only; the
last window (of the term as cut by an amendment or a termination) settles its own shortfall at its
end.

So in a run of windows that fall short one after another, the first carries, the second settles
both, the third carries again, and so on: whether a window carried follows from the measures
alone (``received``), so a recomputation never needs a stored flag.

Choices where SPEC.md is silent (also in docs/billing-rules.md, "Make-good"):

- ``S_k`` is re-measured at the end of window *k + 1* from the kept figures of window *k* (the
  close input holds the usage and charges of the commitment's earlier windows); for a postpaid
  commitment it is what is left in window *k*'s tracking pool, which stays unexpired while carried
  and leaves (``EXPIRE``, the recovered part included) when window *k + 1* ends.
- The ``TRUE_UP`` of a carried shortfall does not roll over (rollover gives part of a window's
  true-up back for its next window, which is the window that has just ended).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from app.billing.calendar import Period, commitment_windows
from app.billing.charges import Charge, UsageTotal
from app.billing.credit import pool_key
from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind, entry
from app.billing.measures import Measurement, measure
from app.billing.money import as_quantity, exact
from app.billing.terms import Commitment, ContractTerms, PaymentTiming

ZERO = Decimal(0)


@dataclass(frozen=True)
class CarriedIn:
    """What the end of a window did with the shortfall carried into it from ``window`` (k):
    ``carried`` is S_k, ``recovered`` what this window's excess made good, ``left`` what was
    settled (``true_up`` of it, ``penalties`` each rounded, in the commitment's order)."""

    window: Period
    carried: Decimal
    recovered: Decimal
    left: Decimal
    true_up: Decimal
    penalties: tuple[Decimal, ...]


def previous_window(commitment: Commitment, window: Period) -> Period | None:
    """The window before ``window`` in the commitment's term, if any."""
    if window.index == 0:
        return None
    windows = commitment_windows(commitment)
    return windows[window.index - 1] if window.index - 1 < len(windows) else None


def tracking_pool_of(commitment: Commitment, window: Period, pools: Mapping[str, Pool]) -> Pool | None:
    """A postpaid commitment's tracking pool of ``window`` (None for other commitments)."""
    if commitment.payment is not PaymentTiming.POSTPAID:
        return None
    return pools.get(pool_key(PoolKind.TRACKING, commitment.key, window.index))


def own_shortfall(m: Measurement, pool: Pool | None) -> Decimal:
    """A window's shortfall as it is settled: a postpaid tracking pool's remainder, else S."""
    if pool is not None:
        return max(ZERO, pool.balance)
    return as_quantity(m.shortfall) if m.shortfall > 0 else ZERO


def excess(m: Measurement) -> Fraction:
    """X = max(0, M − C) × V: what a window measured beyond its commitment, in shortfall units."""
    return max(Fraction(0), m.measured - m.committed) * m.volume


@dataclass(frozen=True)
class Carry:
    """The carried shortfall of window ``window`` as the end of the next window finds it."""

    window: Period
    measurement: Measurement  # window k as measured (its own S, C, V)
    carried: Decimal
    pool: Pool | None  # postpaid: window k's tracking pool, still holding S_k


def carry_into(
    terms: ContractTerms,
    commitment: Commitment,
    window: Period,
    *,
    usage: Sequence[UsageTotal],
    charges: Sequence[Charge],
    pools: Mapping[str, Pool],
) -> Carry | None:
    """The shortfall window k carried into ``window`` (k + 1), or None if nothing was carried."""
    if not commitment.make_good:
        return None
    prev = previous_window(commitment, window)
    if prev is None:
        return None
    m = measure(
        commitment, prev, usage=usage, service_lines=terms.service_lines, charges=charges,
        currency=terms.currency,
    )
    pool = tracking_pool_of(commitment, prev, pools)
    carried = own_shortfall(m, pool)
    if carried <= 0:
        return None
    if pool is None and received(terms, commitment, prev, usage=usage, charges=charges):
        return None  # window k settled its own shortfall with the one carried into it
    return Carry(prev, m, carried, pool)


def received(
    terms: ContractTerms,
    commitment: Commitment,
    window: Period,
    *,
    usage: Sequence[UsageTotal],
    charges: Sequence[Charge],
) -> bool:
    """True if the window before ``window`` carried its shortfall into it, from the measures alone.

    Counted back from the window before, the windows that fell short one after another alternate:
    the first of the run carries, the next settles its own with it, and so on; so a shortfall was
    carried into ``window`` iff that run is odd. (A postpaid commitment's tracking pool says the
    same: a window that settled its own shortfall emptied its pool.)"""
    windows = commitment_windows(commitment)
    run, i = 0, window.index - 1
    while 0 <= i < len(windows):
        m = measure(
            commitment, windows[i], usage=usage, service_lines=terms.service_lines, charges=charges,
            currency=terms.currency,
        )
        if m.shortfall <= 0:
            break
        run, i = run + 1, i - 1
    return run % 2 == 1


def recover(carry: Carry, current: Measurement) -> tuple[Decimal, Decimal]:
    """(recovered, left) of the carried shortfall: ``min(X, S_k)`` and the rest."""
    recovered = min(exact(carry.carried), excess(current))
    left = exact(carry.carried) - recovered
    return as_quantity(recovered), as_quantity(left)


def left_measurement(carry: Carry, left: Decimal) -> Measurement:
    """Window k's measurement with its shortfall replaced by what is left to settle."""
    return replace(carry.measurement, shortfall=exact(left))


def release(carry: Carry, recovered: Decimal, on: date) -> tuple[LedgerEntry, ...]:
    """A postpaid carried pool's remainder leaves it (``EXPIRE``) once settled or recovered."""
    if carry.pool is None or carry.pool.balance <= 0:
        return ()
    note = f"make-good: {as_quantity(recovered)} recovered" if recovered > 0 else "make-good settled"
    return (entry(carry.pool, EntryKind.EXPIRE, carry.pool.balance, on, note=note),)


def carries(commitment: Commitment, last: bool, shortfall: Decimal, carry: Carry | None) -> bool:
    """True if a window ending with ``shortfall`` carries it: make-good, not the term's last, and
    nothing was carried into it (``carry``: that window then settles its own shortfall too)."""
    return commitment.make_good and not last and shortfall > 0 and carry is None
