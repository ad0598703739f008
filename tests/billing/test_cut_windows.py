"""A commitment cut short (``uncut_end``): its windows are laid out to the old end and cut at the
new one, so the window holding the cut is partial against its uncut length (SPEC §13–§14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, strategies as st

from app.billing.calendar import commitment_windows
from app.billing.ramps import committed_amount
from app.billing.terms import Commitment, CommitmentType, DateRange, Frequency, RampStep


def _commitment(frequency: Frequency, end: date, uncut_end: date | None) -> Commitment:
    return Commitment(key="c", type=CommitmentType.SPEND, term=DateRange(date(2026, 1, 1), end),
                      frequency=frequency, ramp=(RampStep(1, Decimal(12000)),), uncut_end=uncut_end)


def test_an_annual_window_cut_on_1_april_is_90_of_365_days() -> None:
    (window,) = commitment_windows(_commitment(Frequency.ANNUAL, date(2026, 4, 1), date(2027, 1, 1)))
    assert window.span == DateRange(date(2026, 1, 1), date(2026, 4, 1))
    assert window.full == DateRange(date(2026, 1, 1), date(2027, 1, 1))
    assert window.partial
    assert committed_amount(_commitment(Frequency.ANNUAL, date(2026, 4, 1), date(2027, 1, 1)), window) \
        == Fraction(12000 * 90, 365)  # 2,958.90 once rounded: SPEC example 9's T′


def test_a_term_window_cut_is_partial_against_the_whole_original_term() -> None:
    cut = _commitment(Frequency.TERM, date(2027, 1, 1), date(2028, 1, 1))
    (window,) = commitment_windows(cut)
    assert window.partial and window.full == DateRange(date(2026, 1, 1), date(2028, 1, 1))
    assert window.span == DateRange(date(2026, 1, 1), date(2027, 1, 1))
    # without the uncut end a TERM window is whole, and never prorated
    (whole,) = commitment_windows(_commitment(Frequency.TERM, date(2027, 1, 1), None))
    assert not whole.partial


def test_quarterly_windows_after_the_cut_are_gone() -> None:
    windows = commitment_windows(_commitment(Frequency.QUARTERLY, date(2026, 5, 1), date(2027, 1, 1)))
    assert [w.span for w in windows] == [DateRange(date(2026, 1, 1), date(2026, 4, 1)),
                                         DateRange(date(2026, 4, 1), date(2026, 5, 1))]
    assert windows[1].full == DateRange(date(2026, 4, 1), date(2026, 7, 1))


@given(st.sampled_from([Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.SEMI_ANNUAL, Frequency.ANNUAL]),
       st.integers(min_value=1, max_value=730))
def test_a_cut_calendar_frequency_is_the_calendar_of_the_shorter_term(frequency: Frequency, days: int) -> None:
    """For calendar frequencies, cutting at ``t`` is laying the windows out to ``t``."""
    from datetime import timedelta

    end = date(2026, 1, 1) + timedelta(days=days)
    uncut = date(2028, 1, 1)
    assert commitment_windows(_commitment(frequency, end, uncut)) == commitment_windows(_commitment(frequency, end, None))
