"""Calendar: add_months, billing periods, commitment windows and their alignment (SPEC §2)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.billing.calendar import (
    Period,
    add_months,
    billing_periods,
    check_alignment,
    commitment_windows,
    period_containing,
    periods,
)
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    DateRange,
    Frequency,
    PaymentTiming,
    RampStep,
)

M, Q, S, A = Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.SEMI_ANNUAL, Frequency.ANNUAL


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-01-15", 0, "2024-01-15"),
        ("2024-01-15", 1, "2024-02-15"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-01-31", 1, "2024-02-29"),  # leap year: clamped to the 29th
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-01-31", 2, "2024-03-31"),  # from the anchor, not from 29 Feb
        ("2024-01-31", 3, "2024-04-30"),
        ("2024-01-30", 1, "2024-02-29"),
        ("2023-01-30", 1, "2023-02-28"),
        ("2024-01-29", 1, "2024-02-29"),
        ("2023-01-29", 1, "2023-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2024-03-31", -13, "2023-02-28"),
        ("2024-08-31", 1, "2024-09-30"),
        ("2024-05-31", 6, "2024-11-30"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2023-11-30", 3, "2024-02-29"),
        ("2024-01-01", 120, "2034-01-01"),
    ],
)
def test_add_months_keeps_the_day_and_clamps(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


def test_add_months_out_of_range_is_a_billing_error() -> None:
    with pytest.raises(BillingError) as caught:
        add_months(d("9999-12-01"), 1)
    assert caught.value.code is BillingErrorCode.INVALID_INTERVAL


def spans(result: tuple[Period, ...]) -> list[tuple[str, str]]:
    return [(p.span.start.isoformat(), p.span.end.isoformat()) for p in result]


@pytest.mark.parametrize(
    ("anchor", "frequency", "end", "expected"),
    [
        (
            "2024-01-31",
            M,
            "2024-05-31",
            [
                ("2024-01-31", "2024-02-29"),
                ("2024-02-29", "2024-03-31"),  # 31 Mar again, not 29 Mar
                ("2024-03-31", "2024-04-30"),
                ("2024-04-30", "2024-05-31"),
            ],
        ),
        (
            "2023-01-31",
            M,
            "2023-04-30",
            [
                ("2023-01-31", "2023-02-28"),
                ("2023-02-28", "2023-03-31"),
                ("2023-03-31", "2023-04-30"),
            ],
        ),
        (
            "2024-01-30",
            M,
            "2024-04-30",
            [
                ("2024-01-30", "2024-02-29"),
                ("2024-02-29", "2024-03-30"),
                ("2024-03-30", "2024-04-30"),
            ],
        ),
        (
            "2024-01-29",
            M,
            "2024-03-29",
            [("2024-01-29", "2024-02-29"), ("2024-02-29", "2024-03-29")],
        ),
        (
            "2024-11-30",
            Q,
            "2025-08-30",
            [
                ("2024-11-30", "2025-02-28"),
                ("2025-02-28", "2025-05-30"),
                ("2025-05-30", "2025-08-30"),
            ],
        ),
        (
            "2024-01-01",
            A,
            "2026-01-01",
            [("2024-01-01", "2025-01-01"), ("2025-01-01", "2026-01-01")],
        ),
        (
            "2024-08-31",
            S,
            "2025-08-31",
            [("2024-08-31", "2025-02-28"), ("2025-02-28", "2025-08-31")],
        ),
        # cut at the end: the last period is partial
        (
            "2024-01-01",
            M,
            "2024-02-15",
            [("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-02-15")],
        ),
        # a term shorter than one period: a single partial period
        ("2024-01-01", Q, "2024-02-15", [("2024-01-01", "2024-02-15")]),
        ("2024-01-01", A, "2024-01-02", [("2024-01-01", "2024-01-02")]),
    ],
)
def test_periods_from_the_anchor(
    anchor: str, frequency: Frequency, end: str, expected: list[tuple[str, str]]
) -> None:
    result = periods(d(anchor), frequency, d(end))
    assert spans(result) == expected
    assert [p.index for p in result] == list(range(len(expected)))
    assert [p.number for p in result] == list(range(1, len(expected) + 1))


@pytest.mark.parametrize(
    ("anchor", "frequency", "end", "full_end", "partial"),
    [
        ("2024-01-01", M, "2024-02-15", "2024-03-01", True),
        ("2024-01-01", Q, "2024-02-15", "2024-04-01", True),
        ("2024-01-31", M, "2024-03-15", "2024-03-31", True),
        ("2024-01-01", M, "2024-03-01", "2024-03-01", False),
        ("2024-01-31", Q, "2024-04-30", "2024-04-30", False),
    ],
)
def test_last_period_partial_and_full(
    anchor: str, frequency: Frequency, end: str, full_end: str, partial: bool
) -> None:
    last = periods(d(anchor), frequency, d(end))[-1]
    assert last.span.end == d(end)
    assert last.full.end == d(full_end)
    assert last.full.start == last.span.start
    assert last.partial is partial
    assert all(not p.partial for p in periods(d(anchor), frequency, d(end))[:-1])


@pytest.mark.parametrize(
    ("anchor", "end"), [("2024-01-01", "2024-01-01"), ("2024-02-01", "2024-01-01")]
)
def test_periods_refuse_an_empty_term(anchor: str, end: str) -> None:
    with pytest.raises(BillingError) as caught:
        periods(d(anchor), M, d(end))
    assert caught.value.code is BillingErrorCode.INVALID_INTERVAL


@settings(max_examples=300, deadline=None)
@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    frequency=st.sampled_from([f for f in Frequency if not f.is_term]),  # TERM: test_term.py
    length=st.integers(min_value=1, max_value=3000),
)
def test_periods_tile_the_term_from_the_anchor(
    anchor: date, frequency: Frequency, length: int
) -> None:
    end = anchor + timedelta(days=length)
    result = periods(anchor, frequency, end)
    assert result[0].span.start == anchor
    assert result[-1].span.end == end
    for before, after in pairwise(result):
        assert before.span.end == after.span.start  # no gap, no overlap
    for k, period in enumerate(result):
        assert period.index == k
        assert period.span.days > 0
        # computed from the anchor, never chained
        assert period.full.start == add_months(anchor, k * frequency.months)
        assert period.full.end == add_months(anchor, (k + 1) * frequency.months)
        assert period.partial == (k == len(result) - 1 and period.full.end != end)
    assert sum(p.span.days for p in result) == length


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    a=st.integers(min_value=0, max_value=120),
    b=st.integers(min_value=0, max_value=120),
)
def test_add_months_clamps_only_and_never_drifts(start: date, a: int, b: int) -> None:
    moved = add_months(start, a)
    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == a
    assert moved.day == start.day or (
        moved.day < start.day and (moved + timedelta(days=1)).day == 1
    )
    # chaining may drift (31 Jan → 29 Feb → 29 Mar); from the anchor it never does
    assert add_months(add_months(start, a), b) <= add_months(start, a + b)
    if start.day <= 28:
        assert add_months(add_months(start, a), b) == add_months(start, a + b)


def contract(start: str, end: str, frequency: Frequency = M) -> ContractTerms:
    return ContractTerms(
        currency="GBP", term=DateRange(d(start), d(end)), billing_frequency=frequency
    )


def commitment(start: str, end: str, frequency: Frequency = M) -> Commitment:
    return Commitment(
        key="c1",
        type=CommitmentType.SPEND,
        term=DateRange(d(start), d(end)),
        frequency=frequency,
        ramp=(RampStep(1, Decimal(100)),),
        payment=PaymentTiming.POSTPAID,
    )


def test_billing_periods_and_commitment_windows() -> None:
    terms = contract("2024-01-31", "2024-07-31")
    assert spans(billing_periods(terms))[:3] == [
        ("2024-01-31", "2024-02-29"),
        ("2024-02-29", "2024-03-31"),
        ("2024-03-31", "2024-04-30"),
    ]
    windows = commitment_windows(commitment("2024-01-31", "2024-07-31", Q))
    assert spans(windows) == [("2024-01-31", "2024-04-30"), ("2024-04-30", "2024-07-31")]


@pytest.mark.parametrize(
    ("day", "expected_index"),
    [
        ("2024-01-31", 0),
        ("2024-02-28", 0),
        ("2024-02-29", 1),  # a boundary belongs to the later period
        ("2024-03-30", 1),
        ("2024-03-31", 2),
        ("2024-04-14", 2),
        ("2024-04-15", None),  # the end is excluded
        ("2024-01-30", None),
    ],
)
def test_period_containing(day: str, expected_index: int | None) -> None:
    result = periods(d("2024-01-31"), M, d("2024-04-15"))
    found = period_containing(result, d(day))
    assert (found.index if found else None) == expected_index


@pytest.mark.parametrize(
    ("term", "billing", "c_start", "c_end", "c_freq"),
    [
        (("2024-01-01", "2025-01-01"), M, "2024-01-01", "2025-01-01", M),
        (("2024-01-01", "2025-01-01"), M, "2024-01-01", "2025-01-01", Q),
        (("2024-01-01", "2025-01-01"), M, "2024-04-01", "2024-10-01", Q),
        (("2024-01-01", "2025-01-01"), Q, "2024-01-01", "2025-01-01", A),
        (("2024-01-01", "2025-01-01"), Q, "2024-04-01", "2025-01-01", S),
        # commitment ends before the contract, on a billing-period end: last window partial
        (("2024-01-01", "2025-01-01"), M, "2024-01-01", "2024-05-01", Q),
        # the contract's own partial last period: commitment ends with the term
        (("2024-01-01", "2024-05-15"), M, "2024-02-01", "2024-05-15", Q),
        # anchors on the 31st: commitment starting on the contract's start keeps the day
        (("2024-01-31", "2025-01-31"), M, "2024-01-31", "2025-01-31", Q),
        (("2024-01-31", "2025-01-31"), M, "2024-03-31", "2024-09-30", Q),
        (("2024-01-31", "2025-01-31"), M, "2024-03-31", "2024-06-30", M),
    ],
)
def test_aligned_commitments_pass(
    term: tuple[str, str], billing: Frequency, c_start: str, c_end: str, c_freq: Frequency
) -> None:
    terms = contract(*term, frequency=billing)
    check_alignment(terms, commitment(c_start, c_end, c_freq))


@pytest.mark.parametrize(
    ("term", "billing", "c_start", "c_end", "c_freq", "field"),
    [
        # frequency not a whole multiple of the billing frequency
        (("2024-01-01", "2025-01-01"), Q, "2024-01-01", "2025-01-01", M, "frequency"),
        (("2024-01-01", "2025-01-01"), S, "2024-01-01", "2025-01-01", Q, "frequency"),
        (("2024-01-01", "2026-01-01"), A, "2024-01-01", "2026-01-01", S, "frequency"),
        # outside the contract's term
        (("2024-01-01", "2025-01-01"), M, "2023-12-01", "2025-01-01", M, "startDate"),
        (("2024-01-01", "2025-01-01"), M, "2024-01-01", "2025-02-01", M, "endDate"),
        # not starting on a billing-period start
        (("2024-01-01", "2025-01-01"), M, "2024-01-15", "2024-12-15", M, "startDate"),
        (("2024-01-01", "2025-01-01"), Q, "2024-02-01", "2025-01-01", Q, "startDate"),
        # ending inside a billing period, before the contract's end
        (("2024-01-01", "2025-01-01"), M, "2024-01-01", "2024-06-15", Q, "endDate"),
        (("2024-01-01", "2025-01-01"), Q, "2024-01-01", "2024-05-01", Q, "endDate"),
        # clamping: billing periods end on 31 Mar / 30 Apr / 31 May; a commitment starting
        # 29 Feb has windows ending on the 29th
        (("2024-01-31", "2025-01-31"), M, "2024-02-29", "2024-08-31", Q, "startDate"),
        (("2024-01-31", "2025-01-31"), M, "2024-04-30", "2024-08-31", M, "startDate"),
    ],
)
def test_misaligned_commitments_are_refused(
    term: tuple[str, str],
    billing: Frequency,
    c_start: str,
    c_end: str,
    c_freq: Frequency,
    field: str,
) -> None:
    terms = contract(*term, frequency=billing)
    with pytest.raises(BillingError) as caught:
        check_alignment(terms, commitment(c_start, c_end, c_freq))
    assert caught.value.code is BillingErrorCode.MISALIGNED_COMMITMENT
    assert caught.value.field == field
