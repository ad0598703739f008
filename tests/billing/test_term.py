"""The ``TERM`` commitment frequency (SPEC §2): one window from the commitment's start to its end.

A multi-year prepayment is one pool; the window is never partial (its full span is its span); a
ramp has one step; the window ends on a billing-period end because the commitment's end must be
one; ``TERM`` is refused as a contract's billing frequency and as a package frequency.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import amounts, contract, months, postpaid, prepaid, ramp, simulate, total

from app.billing.calendar import billing_periods, check_alignment, commitment_windows, periods
from app.billing.charges import UsageTotal
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.fees import commitment_total, fee_lines_for_period
from app.billing.labels import pool_label, window_label
from app.billing.ledger import EntryKind, PoolKind
from app.billing.measures import measure
from app.billing.ramps import committed_amount
from app.billing.terms import (
    Commitment,
    CommitmentType,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    ProductKind,
    ServiceLine,
)
from app.billing.validation import commitment_errors, contract_errors

D = Decimal
TERM, M, Q, A = Frequency.TERM, Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL
TWO_YEARS = months(24)  # 2025-01-01 to 2027-01-01


def test_term_has_no_length_in_months() -> None:
    with pytest.raises(ValueError, match="TERM"):
        _ = TERM.months
    assert TERM.is_term and not A.is_term


def test_a_term_window_is_the_whole_commitment_and_never_partial() -> None:
    commitment = prepaid("t", "24000", TWO_YEARS, frequency=TERM)
    (window,) = commitment_windows(commitment)
    assert window.span == window.full == TWO_YEARS
    assert not window.partial
    assert window.number == 1


@settings(max_examples=200, deadline=None)
@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    length=st.integers(min_value=1, max_value=4000),
    amount=st.integers(min_value=0, max_value=10**7),
)
def test_property_one_window_equal_to_the_commitment_with_its_whole_amount(
    anchor: date, length: int, amount: int
) -> None:
    term = DateRange(anchor, anchor + timedelta(days=length))
    commitment = prepaid("t", str(amount), term, frequency=TERM)
    windows = commitment_windows(commitment)
    assert [w.span for w in windows] == [term]
    assert periods(anchor, TERM, term.end) == windows
    # never prorated: however long or short, the committed amount is the ramp amount
    assert committed_amount(commitment, windows[0]) == amount
    assert commitment_total(commitment, "USD") == D(amount)


def test_a_term_commitment_ending_before_the_contract_is_not_prorated() -> None:
    commitment = postpaid("t", "9000", months(9), frequency=TERM)
    (window,) = commitment_windows(commitment)
    assert window.span == months(9) and committed_amount(commitment, window) == 9000


@pytest.mark.parametrize("billing", [M, Q, Frequency.SEMI_ANNUAL, A])
def test_a_term_commitment_aligns_with_any_billing_frequency(billing: Frequency) -> None:
    check_alignment(
        contract(term=TWO_YEARS, frequency=billing),
        prepaid("t", "24000", TWO_YEARS, frequency=TERM),
    )


def test_a_term_commitment_may_start_and_end_inside_the_contract_on_period_boundaries() -> None:
    inner = DateRange(date(2025, 4, 1), date(2026, 7, 1))  # fifteen months, not a multiple of 12
    check_alignment(contract(term=TWO_YEARS, frequency=Q), prepaid("t", "1", inner, frequency=TERM))


@pytest.mark.parametrize(
    ("billing", "term", "field"),
    [
        (Q, DateRange(date(2025, 1, 1), date(2026, 2, 1)), "endDate"),  # mid-quarter end
        (A, DateRange(date(2025, 1, 1), date(2026, 7, 1)), "endDate"),
        (Q, DateRange(date(2025, 2, 1), date(2026, 1, 1)), "startDate"),
    ],
)
def test_a_term_commitment_must_start_and_end_on_billing_period_boundaries(
    billing: Frequency, term: DateRange, field: str
) -> None:
    with pytest.raises(BillingError) as caught:
        check_alignment(
            contract(term=TWO_YEARS, frequency=billing), prepaid("t", "1", term, frequency=TERM)
        )
    assert caught.value.code is BillingErrorCode.MISALIGNED_COMMITMENT
    assert caught.value.field == field


def test_term_is_refused_as_a_billing_frequency() -> None:
    terms = contract(term=TWO_YEARS, frequency=TERM)
    errors = contract_errors(terms)
    assert [(e.code, e.field) for e in errors] == [
        (BillingErrorCode.INVALID_FREQUENCY, "billingFrequency")
    ]
    with pytest.raises(BillingError) as caught:
        check_alignment(terms, prepaid("t", "1", TWO_YEARS, frequency=TERM))
    assert caught.value.code is BillingErrorCode.INVALID_FREQUENCY


def test_term_is_refused_as_a_package_frequency() -> None:
    line = ServiceLine(
        "l1", "sim-a", ProductKind.SERVICE, D(1), D(1), TWO_YEARS,
        package="package-a", package_frequency=TERM,
    )
    errors = contract_errors(contract(term=TWO_YEARS, service_lines=(line,)))
    assert [(e.code, e.field) for e in errors] == [
        (BillingErrorCode.INVALID_FREQUENCY, "serviceLines.0.packageFrequency")
    ]
    commitment = Commitment(
        "c", CommitmentType.PACKAGE_SERVICE, TWO_YEARS, TERM, ramp((1, "10")),
        service="sim-a", package="package-a", package_frequency=TERM,
    )
    assert [(e.code, e.field) for e in commitment_errors(commitment, TWO_YEARS)] == [
        (BillingErrorCode.INVALID_FREQUENCY, "packageFrequency")
    ]


def test_a_term_ramp_has_one_step() -> None:
    commitment = prepaid("t", ramp((1, "10000"), (2, "14000")), TWO_YEARS, frequency=TERM)
    (error,) = commitment_errors(commitment, TWO_YEARS)
    assert error.code is BillingErrorCode.INVALID_RAMP
    assert error.field == "rampSteps"
    assert "one window" in error.message


def test_term_windows_and_pools_are_named_by_their_dates() -> None:
    commitment = prepaid("t", "24000", TWO_YEARS, frequency=TERM, name="Two-year prepaid")
    assert window_label(TWO_YEARS, commitment) == "term 1 Jan 2025 – 31 Dec 2026"
    one_year = replace(commitment, term=months(12))
    assert window_label(months(12), one_year) == "term 1 Jan 2025 – 31 Dec 2025"
    assert window_label(months(12), replace(one_year, frequency=A)) == "2025"
    run = simulate(contract(commitment, term=TWO_YEARS), [{}])
    (pool,) = run.pools
    assert pool_label(pool, commitment) == 'term 1 Jan 2025 – 31 Dec 2026 credit of "Two-year prepaid"'


def test_two_year_prepaid_by_plan_is_one_pool_billed_in_24_parts_and_expires_at_the_end() -> None:
    commitment = prepaid(
        "t", "24000", TWO_YEARS, frequency=TERM,
        fees=FeeSchedule(amount_prepaid=D("6000")), rollover_fraction=D(1),
    )
    run = simulate(contract(commitment, term=TWO_YEARS), [{"api-calls": "700"}] * 24)
    (pool,) = run.pools
    assert pool.kind is PoolKind.PREPAID and pool.valid == TWO_YEARS
    fees = [total(r, LineType.COMMITMENT_FEE) for r in run.results]
    assert fees == [D("750.00")] * 24 and sum(fees) == D(24000) - D(6000)
    # both years draw down the same pool
    assert all(amounts(r, LineType.DRAWDOWN) == [D("-700.00")] for r in run.results)
    consumed = -sum(e.amount for e in run.entries if e.kind is EntryKind.CONSUME)
    assert consumed == D(700 * 24)
    # nothing rolls past the term: the remainder expires with the last period
    expired = [e for e in run.entries if e.kind is EntryKind.EXPIRE]
    assert [(-e.amount, e.on) for e in expired] == [(D(24000 - 700 * 24), date(2027, 1, 1))]
    assert all(not r.windows for r in run.results[:23])
    assert pool.balance == 0


def test_two_year_prepaid_by_fee_dates_bills_each_date_in_its_period() -> None:
    schedule = FeeSchedule(
        amount_prepaid=D("4000"),
        billing=FeeBilling.FEE_DATES,
        fee_dates=(FeeDate(date(2025, 3, 15), D("10000")), FeeDate(date(2026, 3, 15), D("10000"))),
    )
    commitment = prepaid("t", "24000", TWO_YEARS, frequency=TERM, fees=schedule)
    terms = contract(commitment, term=TWO_YEARS, frequency=Q)
    assert contract_errors(terms) == []
    billed = {
        p.span.start: sum(line.amount for line in fee_lines_for_period(terms, commitment, p))
        for p in billing_periods(terms)
    }
    assert {k: v for k, v in billed.items() if v} == {
        date(2025, 1, 1): D("10000"), date(2026, 1, 1): D("10000"),
    }


def test_a_postpaid_term_trues_up_once_at_the_end_of_the_term() -> None:
    commitment = postpaid("t", "20000", TWO_YEARS, frequency=TERM)
    run = simulate(contract(commitment, term=TWO_YEARS), [{"api-calls": "500"}] * 24)
    true_ups = [amounts(r, LineType.TRUE_UP) for r in run.results]
    assert true_ups == [[]] * 23 + [[D("8000.00")]]
    (line,) = [x for x in run.results[-1].lines if x.type is LineType.TRUE_UP]
    assert line.description == 'true-up of commitment t for term 1 Jan 2025 – 31 Dec 2026'


def test_term_usage_commitment_measures_the_whole_term_and_penalises_once() -> None:
    commitment = Commitment(
        "u", CommitmentType.USAGE, TWO_YEARS, TERM, ramp((1, "10000")), usage_class="api-calls",
        penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.5")),),
    )
    run = simulate(contract(commitment, term=TWO_YEARS), [{"api-calls": "400"}] * 24)
    assert [total(r, LineType.PENALTY) for r in run.results] == [D(0)] * 23 + [D("200.00")]
    (window,) = commitment_windows(commitment)
    m = measure(commitment, window, usage=run.usage, service_lines=(), charges=())
    assert (m.committed, m.measured, m.shortfall) == (10000, 9600, 400)


def _comparable(run):  # type: ignore[no-untyped-def]
    """What the customer is billed and what the pools hold, without the words."""
    lines = [[(x.type, x.amount, x.service_period) for x in r.lines] for r in run.results]
    ledger = [(e.kind, e.amount, e.on) for e in run.entries]
    return lines, ledger


@settings(max_examples=120, deadline=None)
@given(
    amount=st.integers(0, 30000),
    prepaid_part=st.integers(0, 100),
    usage=st.lists(st.integers(0, 4000), min_size=12, max_size=12),
    surcharge=st.sampled_from([D(0), D(10), D(-50)]),
    rollover=st.sampled_from([D(0), D("0.5"), D(1)]),
    billing=st.sampled_from([M, Q]),
    by_dates=st.booleans(),
)
def test_property_a_one_year_term_bills_exactly_like_an_annual_commitment(
    amount: int, prepaid_part: int, usage: list[int], surcharge: Decimal, rollover: Decimal,
    billing: Frequency, by_dates: bool,
) -> None:
    paid_outside = D(amount) * prepaid_part // 100
    schedule = FeeSchedule(amount_prepaid=paid_outside)
    if by_dates:
        schedule = replace(
            schedule, billing=FeeBilling.FEE_DATES,
            fee_dates=(FeeDate(date(2025, 6, 30), D(amount) - paid_outside),),
        )
    annual = prepaid(
        "p", str(amount), months(12), frequency=A, fees=schedule,
        overage_surcharge_percent=surcharge, rollover_fraction=rollover,
    )
    term = replace(annual, frequency=TERM)
    per_period = [{"api-calls": str(q)} for q in usage][: 12 if billing is M else 4]
    runs = [simulate(contract(c, frequency=billing), per_period) for c in (annual, term)]
    assert _comparable(runs[0]) == _comparable(runs[1])
    assert runs[0].pools == runs[1].pools


def test_level_types_are_measured_over_the_whole_term() -> None:
    sims = tuple(
        ServiceLine(f"sim-{n}", "sim-a", ProductKind.SERVICE, D(1), D(5), active)
        for n, active in ((1, TWO_YEARS), (2, DateRange(date(2026, 1, 1), date(2027, 1, 1))))
    )
    average = Commitment(
        "avg", CommitmentType.AVERAGE_USAGE, TWO_YEARS, TERM, ramp((1, "10")),
        usage_class="mb", service="sim-a",
    )
    service = Commitment("svc", CommitmentType.SERVICE, TWO_YEARS, TERM, ramp((1, "2")), service="sim-a")
    (window,) = commitment_windows(average)
    usage = [UsageTotal("mb", months(1, date(2025 + y, 1, 1)), D(6)) for y in (0, 1)]
    # the second SIM is live for the second year only: 365 of the term's 730 days
    volume = Fraction(1) + Fraction(365, 730)
    m = measure(average, window, usage=usage, service_lines=sims, charges=())
    assert m.measured == Fraction(12) / volume  # 8 MB per SIM over the term
    assert m.shortfall == (10 - Fraction(12) / volume) * volume  # in MB, times the connections
    s = measure(service, window, usage=(), service_lines=sims, charges=())
    assert (s.committed, s.measured, s.shortfall) == (2, volume, 2 - volume)  # a level: no proration
