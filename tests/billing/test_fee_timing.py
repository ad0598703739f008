"""Commitment fees billed in advance (SPEC §16): which invoice carries the fee due in a period."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from money_builders import contract, months, postpaid, prepaid, ramp, simulate, total

from app.billing.activation import activate, check_activation
from app.billing.calendar import billing_periods
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.fee_timing import activation_fee_lines, billed_fee_lines
from app.billing.fees import fee_lines_for_period, outstanding_fee
from app.billing.invoice import InvoiceLine
from app.billing.terms import (
    Commitment,
    ContractTerms,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    FeeTiming,
    Frequency,
    LineType,
)

D = Decimal
ADVANCE = FeeTiming.IN_ADVANCE


def advance(**kw: object) -> FeeSchedule:
    return FeeSchedule(timing=ADVANCE, **kw)  # type: ignore[arg-type]


def billed(terms: ContractTerms) -> list[Decimal]:
    """The COMMITMENT_FEE total each period's invoice carries."""
    return [
        sum((line.amount for c in terms.commitments for line in billed_fee_lines(terms, c, p)), D(0))
        for p in billing_periods(terms)
    ]


def amounts(lines: tuple[InvoiceLine, ...]) -> list[Decimal]:
    return [line.amount for line in lines]


def test_annual_prepaid_billed_monthly_in_advance_bills_each_month_on_the_invoice_before() -> None:
    terms = contract(prepaid("p", "12000", months(12), frequency=Frequency.ANNUAL, fees=advance()))
    assert amounts(activation_fee_lines(terms)) == [D(1000)]  # January's, at activation
    assert billed(terms) == [D(1000)] * 11 + [D(0)]  # December's invoice: no next period
    january = billed_fee_lines(terms, terms.commitments[0], billing_periods(terms)[0])
    assert january[0].service_period == DateRange(date(2025, 2, 1), date(2025, 3, 1))  # pays February
    assert "instalment 2 of 12" in january[0].description and "in advance" in january[0].description


def test_in_arrears_stays_the_default_and_writes_no_activation_lines() -> None:
    terms = contract(prepaid("p", "12000", months(12), frequency=Frequency.ANNUAL))
    assert terms.commitments[0].fees.timing is FeeTiming.IN_ARREARS
    assert activation_fee_lines(terms) == ()
    assert activate(terms).fee_lines == ()
    assert billed(terms) == [D(1000)] * 12


def test_amount_first_bill_in_advance_goes_on_the_activation_invoice() -> None:
    c = prepaid("p", "1000", months(4), fees=advance(amount_prepaid=D(1000), amount_first_bill=D(600)))
    terms = contract(c, term=months(4))
    assert amounts(activate(terms).fee_lines) == [D(600), D(600)]  # first bill, then part 1
    assert billed(terms) == [D(600), D(600), D(600), D(0)]


def test_fee_dates_in_advance_are_billed_on_the_invoice_before_their_period() -> None:
    dates = (FeeDate(date(2025, 3, 31), D(500)), FeeDate(date(2025, 1, 10), D(250)),
             FeeDate(date(2025, 6, 15), D(250)))
    c = prepaid("p", "1000", months(6), frequency=Frequency.SEMI_ANNUAL,
                fees=advance(billing=FeeBilling.FEE_DATES, fee_dates=dates))
    terms = contract(c, term=months(6))
    check_activation(terms)
    assert amounts(activation_fee_lines(terms)) == [D(250)]  # 10 January
    assert billed(terms) == [D(0), D(500), D(0), D(0), D(250), D(0)]  # March's on Feb, June's on May


def test_a_commitment_starting_late_bills_its_first_fee_on_the_invoice_before_its_start() -> None:
    c = prepaid("p", "300", DateRange(date(2025, 4, 1), date(2025, 7, 1)),
                frequency=Frequency.QUARTERLY, fees=advance(amount_first_bill=D(60)))
    terms = contract(c)
    assert activation_fee_lines(terms) == ()
    assert billed(terms) == [D(0), D(0), D(140), D(80), D(80), D(0)] + [D(0)] * 6


def test_in_advance_is_refused_on_a_postpaid_commitment() -> None:
    c = postpaid("p", "1000", months(3), fees=advance())
    with pytest.raises(BillingError) as error:
        check_activation(contract(c, term=months(3)))
    assert error.value.code is BillingErrorCode.INVALID_FEE_SCHEDULE
    assert error.value.field.endswith("feeTiming")


def test_the_close_bills_the_advance_fee_and_the_last_close_none() -> None:
    terms = contract(prepaid("p", "1000", months(3), fees=advance()), term=months(3))
    run = simulate(terms, [{"api-calls": "0"}] * 3)
    assert [total(r, LineType.COMMITMENT_FEE) for r in run.results] == [D(1000), D(1000), D(0)]


# The invariant: in advance = in arrears shifted one period earlier (the first onto activation).

@st.composite
def prepaid_schedules(draw: st.DrawFn) -> ContractTerms:
    count = draw(st.integers(1, 8))
    first = draw(st.integers(0, count - 1))
    length = draw(st.integers(1, count - first))
    term = DateRange(months(first).end, months(first + length).end)
    later = draw(st.sets(st.integers(2, length), max_size=2)) if length > 1 else set()
    steps = ramp(*[(w, str(draw(st.integers(0, 5000)))) for w in sorted(later | {1})])
    base = prepaid("p", steps, term)
    prepaid_part = D(draw(st.integers(0, 100)))
    first_bill = D(draw(st.integers(0, 100)))
    fees = FeeSchedule(amount_prepaid=prepaid_part, amount_first_bill=first_bill)
    if draw(st.booleans()):
        fees = replace(fees, billing=FeeBilling.FEE_DATES)
    try:
        rest: Decimal | None = outstanding_fee(replace(base, fees=fees), "USD")
    except BillingError:  # prepaid + first bill above the total: a plain schedule instead
        rest = None
    if rest is None:
        terms = contract(replace(base, fees=FeeSchedule()), term=months(count))
    elif fees.billing is FeeBilling.FEE_DATES:
        days = draw(st.lists(st.integers(0, term.days - 1), min_size=1, max_size=3))
        parts = [rest // len(days)] * (len(days) - 1)
        fee_dates = tuple(FeeDate(date.fromordinal(term.start.toordinal() + d), a)
                          for d, a in zip(days, [*parts, rest - sum(parts, D(0))]))
        terms = contract(replace(base, fees=replace(fees, fee_dates=fee_dates)), term=months(count))
    else:
        terms = contract(replace(base, fees=fees), term=months(count))
    check_activation(terms)
    return terms


def with_timing(terms: ContractTerms, timing: FeeTiming) -> ContractTerms:
    def timed(c: Commitment) -> Commitment:
        return replace(c, fees=replace(c.fees, timing=timing))

    return replace(terms, commitments=tuple(timed(c) for c in terms.commitments))


@given(prepaid_schedules())
def test_in_advance_bills_the_arrears_fees_each_one_period_earlier(terms: ContractTerms) -> None:
    arrears, ahead = with_timing(terms, FeeTiming.IN_ARREARS), with_timing(terms, ADVANCE)
    c_arrears, c_ahead = arrears.commitments[0], ahead.commitments[0]
    periods = billing_periods(terms)
    due = [billed_fee_lines(arrears, c_arrears, p) for p in periods]
    invoices = [activation_fee_lines(ahead)] + [billed_fee_lines(ahead, c_ahead, p) for p in periods]
    assert invoices[-1] == ()  # the last period's invoice carries no advance fee
    for carried, owed in zip(invoices, due, strict=False):
        assert amounts(carried) == amounts(owed)
        assert [line.service_period for line in carried] == [line.service_period for line in owed]
    everything = [line.amount for lines in invoices for line in lines]
    assert sum(everything, D(0)) == sum((line.amount for lines in due for line in lines), D(0))
    assert all(fee_lines_for_period(ahead, c_ahead, p) == fee_lines_for_period(arrears, c_arrears, p)
               for p in periods)  # one schedule: the fee due in a period is the same either way
