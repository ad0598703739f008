"""Commitment fees of prepaid commitments (SPEC §6): total, first bill, plan and fee dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from money_builders import contract, months, postpaid, prepaid, ramp

from app.billing.calendar import billing_periods
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.fees import (
    commitment_periods,
    commitment_total,
    fee_lines_for_period,
    outstanding_fee,
    plan_parts,
    validate_fee_schedule,
)
from app.billing.terms import (
    ContractTerms,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    Frequency,
    LineType,
)

D = Decimal


def fees_by_period(terms: ContractTerms) -> list[Decimal]:
    """The total COMMITMENT_FEE of every billing period."""
    result = []
    for period in billing_periods(terms):
        lines = [line for c in terms.commitments for line in fee_lines_for_period(terms, c, period)]
        assert all(line.type is LineType.COMMITMENT_FEE and line.amount > 0 for line in lines)
        result.append(sum((line.amount for line in lines), D(0)))
    return result


def test_the_total_is_the_sum_of_the_rounded_window_pools() -> None:
    # Term Jan 1 – Feb 15: the second monthly window is partial (14 of 28 days) and prorated.
    c = prepaid("p", "100.005", DateRange(date(2025, 1, 1), date(2025, 2, 15)))
    assert commitment_total(c, "USD") == D("100.01") + D("50.00")
    assert commitment_total(c, "JPY") == D(100) + D(50)
    assert commitment_total(c, "KWD") == D("100.005") + D("50.003")


def test_the_outstanding_fee_is_the_total_less_prepaid_and_first_bill() -> None:
    c = prepaid("p", "1000", months(3), fees=FeeSchedule(D(500), D(700)))
    assert outstanding_fee(c, "USD") == D(1800)
    too_much = prepaid("p", "1000", months(3), fees=FeeSchedule(D(2500), D(700)))
    with pytest.raises(BillingError) as error:
        outstanding_fee(too_much, "USD")
    assert error.value.code is BillingErrorCode.INVALID_FEE_SCHEDULE


@pytest.mark.parametrize(
    ("rest", "count", "currency", "parts"),
    [
        ("12000", 12, "USD", ["1000.00"] * 12),
        ("100", 3, "USD", ["33.33", "33.33", "33.34"]),
        ("200", 3, "USD", ["66.67", "66.67", "66.66"]),
        ("100", 3, "JPY", ["33", "33", "34"]),
        ("1", 3, "KWD", ["0.333", "0.333", "0.334"]),
        ("0.05", 10, "USD", ["0.00"] * 9 + ["0.05"]),  # half up would leave the last part negative
        ("0", 4, "USD", ["0.00"] * 4),
    ],
)
def test_billing_plan_parts_are_equal_and_the_last_takes_the_difference(
    rest: str, count: int, currency: str, parts: list[str]
) -> None:
    result = plan_parts(D(rest), count, currency)
    assert result == tuple(D(p) for p in parts)
    assert sum(result, D(0)) == D(rest)


def test_billing_plan_covers_every_billing_period_of_a_commitment_starting_late() -> None:
    c = prepaid(
        "p", "300", DateRange(date(2025, 4, 1), date(2025, 7, 1)), frequency=Frequency.QUARTERLY
    )
    terms = contract(c)
    assert [p.index for p in commitment_periods(terms, c)] == [3, 4, 5]
    assert fees_by_period(terms) == [D(0)] * 3 + [D(100)] * 3 + [D(0)] * 6


def test_first_bill_goes_on_the_commitment_start_period_and_prepaid_is_never_billed() -> None:
    c = prepaid(
        "p", "1000", months(4), fees=FeeSchedule(amount_prepaid=D(1000), amount_first_bill=D(600))
    )
    terms = contract(c, term=months(4))
    assert fees_by_period(terms) == [D(1200), D(600), D(600), D(600)]
    assert sum(fees_by_period(terms), D(0)) == D(4000) - D(1000)


def test_fee_dates_are_billed_in_the_period_holding_each_date() -> None:
    dates = (
        FeeDate(date(2025, 3, 31), D(500)),
        FeeDate(date(2025, 3, 1), D(250)),
        FeeDate(date(2025, 6, 15), D(250)),
    )
    c = prepaid(
        "p",
        "1000",
        months(6),
        frequency=Frequency.SEMI_ANNUAL,
        fees=FeeSchedule(billing=FeeBilling.FEE_DATES, fee_dates=dates),
    )
    terms = contract(c, term=months(6))
    validate_fee_schedule(terms, c)
    assert fees_by_period(terms) == [D(0), D(0), D(750), D(0), D(0), D(250)]
    march = fee_lines_for_period(terms, c, billing_periods(terms)[2])
    assert [line.amount for line in march] == [D(250), D(500)]  # by date


@pytest.mark.parametrize(
    ("fees", "code"),
    [
        (
            FeeSchedule(
                billing=FeeBilling.FEE_DATES, fee_dates=(FeeDate(date(2025, 1, 5), D(999)),)
            ),
            BillingErrorCode.INVALID_FEE_SCHEDULE,
        ),  # does not add up to the rest
        (
            FeeSchedule(
                billing=FeeBilling.FEE_DATES, fee_dates=(FeeDate(date(2025, 2, 1), D(1000)),)
            ),
            BillingErrorCode.DATE_OUTSIDE_TERM,
        ),  # the term is January only
        (FeeSchedule(billing=FeeBilling.FEE_DATES), BillingErrorCode.INVALID_FEE_SCHEDULE),
        (
            FeeSchedule(fee_dates=(FeeDate(date(2025, 1, 5), D(1000)),)),
            BillingErrorCode.INVALID_FEE_SCHEDULE,
        ),  # a BILLING_PLAN takes no dates
        (FeeSchedule(amount_first_bill=D("0.001")), BillingErrorCode.INVALID_FEE_SCHEDULE),
        (FeeSchedule(amount_prepaid=D(-1)), BillingErrorCode.INVALID_FEE_SCHEDULE),
        (FeeSchedule(amount_prepaid=D(1001)), BillingErrorCode.INVALID_FEE_SCHEDULE),
    ],
)
def test_fee_schedules_that_cannot_be_billed_exactly_are_refused(
    fees: FeeSchedule, code: BillingErrorCode
) -> None:
    c = prepaid("p", "1000", months(1), fees=fees)
    with pytest.raises(BillingError) as error:
        validate_fee_schedule(contract(c, term=months(1)), c)
    assert error.value.code is code


def test_only_prepaid_commitments_have_fees() -> None:
    plain = postpaid("p", "1000", months(1))
    terms = contract(plain, term=months(1))
    validate_fee_schedule(terms, plain)
    assert fee_lines_for_period(terms, plain, billing_periods(terms)[0]) == ()
    with_fees = postpaid("p", "1000", months(1), fees=FeeSchedule(amount_first_bill=D(1)))
    with pytest.raises(BillingError) as error:
        validate_fee_schedule(terms, with_fees)
    assert error.value.code is BillingErrorCode.INVALID_FEE_SCHEDULE


def test_a_ramped_plan_bills_the_ramp_total_in_equal_parts() -> None:
    c = prepaid("p", ramp((1, "100"), (3, "400")), months(4))
    terms = contract(c, term=months(4))
    assert fees_by_period(terms) == [D(250)] * 4
