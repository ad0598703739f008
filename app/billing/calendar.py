"""Billing periods and commitment windows (SPEC §2).

Every period is built from its anchor: period *k* of frequency *n* months is
``[add_months(anchor, k·n), add_months(anchor, (k+1)·n))``, cut at the end of the term. Boundaries
are never chained from the previous period, so an anchor on the 31st gives 28/29 Feb and then
31 Mar again.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import Commitment, ContractTerms, DateRange, Frequency


def add_months(d: date, months: int) -> date:
    """``d`` moved by ``months`` calendar months (may be negative), keeping the day of month and
    clamping it to the last day of the target month (31 Jan + 1 → 28 or 29 Feb).

    Raises ``INVALID_INTERVAL`` if the result falls outside the years 1–9999.
    """
    total = d.year * 12 + (d.month - 1) + months
    year, month_index = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL, f"{d} + {months} months is out of range"
        )
    month = month_index + 1
    return date(year, month, min(d.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """One billing period or commitment window.

    ``index`` counts from 0; ``full`` is the period uncut; ``span`` is the part inside the term
    (equal to ``full`` unless the term ends inside the period).
    """

    index: int
    span: DateRange
    full: DateRange

    @property
    def partial(self) -> bool:
        """True if the term's end cuts the period short."""
        return self.span != self.full

    @property
    def number(self) -> int:
        """The period counted from 1 (ramp steps count windows this way)."""
        return self.index + 1


@lru_cache(maxsize=4096)
def periods(anchor: date, frequency: Frequency, end: date) -> tuple[Period, ...]:
    """The periods of ``frequency`` from ``anchor`` tiling ``[anchor, end)``, the last cut at
    ``end``; for ``TERM``, the one period ``[anchor, end)``, never partial. Raises
    ``INVALID_INTERVAL`` if ``end <= anchor``.

    Memoised: the answer is immutable and a due close of thousands of contracts asks for the same
    few calendars over and over."""
    if end <= anchor:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL,
            f"the end {end} must be after the start {anchor}",
            "endDate",
        )
    if frequency.is_term:
        span = DateRange(anchor, end)
        return (Period(0, span, span),)  # one window, its full span is its span: never partial
    result: list[Period] = []
    start = anchor
    while start < end:
        k = len(result)
        full = DateRange(start, add_months(anchor, (k + 1) * frequency.months))
        result.append(Period(k, DateRange(start, min(full.end, end)), full))
        start = full.end
    return tuple(result)


def billing_periods(terms: ContractTerms) -> tuple[Period, ...]:
    """The contract's billing periods, from its start at its billing frequency to its end."""
    return periods(terms.term.start, terms.billing_frequency, terms.term.end)


def commitment_windows(commitment: Commitment) -> tuple[Period, ...]:
    """The commitment's windows, from its own start at its frequency to its own end.

    A commitment cut short (``uncut_end`` set, SPEC §13–§14) has the windows it had to
    ``uncut_end``, cut at its end: the window holding the cut keeps its uncut ``full`` span, so it is
    partial even for ``TERM`` (whose one window is otherwise never partial)."""
    term = commitment.term
    if commitment.uncut_end is None or commitment.uncut_end <= term.end:
        return periods(term.start, commitment.frequency, term.end)
    return cut_at(periods(term.start, commitment.frequency, commitment.uncut_end), term.end)


def cut_at(laid_out: Sequence[Period], end: date) -> tuple[Period, ...]:
    """``laid_out`` periods cut at ``end``: those starting before it, the last one's span ending
    there (its ``full`` span unchanged, so it reads as partial)."""
    return tuple(
        Period(p.index, DateRange(p.span.start, min(p.span.end, end)), p.full)
        for p in laid_out
        if p.span.start < end
    )


def period_containing(periods: Sequence[Period], day: date) -> Period | None:
    """The period whose span holds ``day``, or ``None`` if none does."""
    for period in periods:
        if period.span.contains(day):
            return period
    return None


def _misaligned(message: str, field: str) -> BillingError:
    return BillingError(BillingErrorCode.MISALIGNED_COMMITMENT, message, field)


def _check_boundaries(billing: tuple[Period, ...], commitment: Commitment) -> None:
    """The commitment starts on a billing-period start and each of its windows ends on a
    billing-period end."""
    name = commitment.label
    if commitment.term.start not in {p.span.start for p in billing}:
        raise _misaligned(
            f"{name} must start on a billing-period start, not {commitment.term.start}",
            "startDate",
        )
    ends = {p.span.end for p in billing}
    if commitment.term.end not in ends:
        raise _misaligned(
            f"{name} must end on a billing-period end, not {commitment.term.end}",
            "endDate",
        )
    for window in commitment_windows(commitment):
        if window.span.end not in ends:
            raise _misaligned(
                f"{name}: window {window.number} ends on {window.span.end}, "
                "which is not a billing-period end (choose a start whose day of month "
                "matches the contract's)",
                "startDate",
            )


def check_alignment(terms: ContractTerms, commitment: Commitment) -> None:
    """Refuse a commitment whose windows do not line up with the contract's billing periods.

    Required (SPEC §2): the commit frequency is a whole multiple of the billing frequency (a
    ``TERM`` commitment has one window, so only its start and end must be period boundaries), the
    commitment's term lies inside the contract's, it starts on a billing-period start, and every
    window ends on a billing-period end. The last condition also covers the commitment's own end
    when it stops before the contract does, and the rare case where clamping makes a window end
    elsewhere (contract anchored on 31 Jan, commitment starting 29 Feb: its windows end on the
    29th while billing periods end on the 31st/30th). All failures are ``MISALIGNED_COMMITMENT``,
    except a ``TERM`` billing frequency (``INVALID_FREQUENCY``: draft validation reports it first).
    """
    name = commitment.label
    check_billing_frequency(terms.billing_frequency)
    # a TERM commitment's one window [start, end) is aligned by its two ends (checked below)
    frequency = commitment.frequency
    if not frequency.is_term and frequency.months % terms.billing_frequency.months:
        raise _misaligned(
            f"{name}: its frequency {commitment.frequency.value} is not a whole "
            f"multiple of the billing frequency {terms.billing_frequency.value}",
            "frequency",
        )
    if commitment.term.start < terms.term.start:
        raise _misaligned(f"{name} starts before the contract", "startDate")
    if commitment.term.end > terms.term.end:
        raise _misaligned(f"{name} ends after the contract", "endDate")
    _check_boundaries(billing_periods(terms), commitment)


def check_billing_frequency(frequency: Frequency, field: str = "billingFrequency") -> None:
    """Refuse ``TERM`` where a calendar length is needed: a contract's billing frequency, a
    package frequency (SPEC §2: ``TERM`` is for commitments only). ``INVALID_FREQUENCY``."""
    if frequency.is_term:
        raise BillingError(
            BillingErrorCode.INVALID_FREQUENCY,
            "TERM is a commitment frequency only; use MONTHLY, QUARTERLY, SEMI_ANNUAL or ANNUAL",
            field,
        )
