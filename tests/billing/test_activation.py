"""Activation: every check, the windows with their committed amounts and the opening pools."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from money_builders import contract, months, postpaid, prepaid, ramp

from app.billing.activation import activate, check_activation
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import EntryKind, PoolKind, balances
from app.billing.terms import (
    Commitment,
    CommitmentType,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    Frequency,
)

D = Decimal


def test_prepaid_and_postpaid_windows_each_get_a_pool_issued_on_the_window_start() -> None:
    terms = contract(
        prepaid("pre", ramp((1, "100"), (2, "200")), months(6), frequency=Frequency.QUARTERLY),
        postpaid("post", "50", months(2), priority=3),
    )
    result = activate(terms, first_seq=10)
    assert len(result.periods) == 12
    assert [(p.key, p.kind, p.balance, p.seq) for p in result.pools] == [
        ("tracking:post:0", PoolKind.TRACKING, D(50), 10),
        ("tracking:post:1", PoolKind.TRACKING, D(50), 11),
        ("prepaid:pre:0", PoolKind.PREPAID, D(100), 12),
        ("prepaid:pre:1", PoolKind.PREPAID, D(200), 13),
    ]
    assert result.pools[0].priority == 3
    assert result.pools[3].valid == months(3, date(2025, 4, 1))
    assert all(e.kind is EntryKind.ISSUE for e in result.entries)
    assert [e.on for e in result.entries] == [date(2025, 1, 1), date(2025, 2, 1)] + [
        date(2025, 1, 1),
        date(2025, 4, 1),
    ]
    assert balances(result.entries) == {p.key: p.balance for p in result.pools}


def test_a_partial_last_window_is_prorated_and_rounded_for_spend() -> None:
    term = DateRange(date(2025, 1, 1), date(2025, 2, 11))  # February window: 10 of 28 days
    terms = contract(prepaid("pre", "100", term), term=term)
    result = activate(terms)
    assert [w.committed for w in result.windows] == [D(100), D("35.71")]
    assert [p.balance for p in result.pools] == [D(100), D("35.71")]
    unprorated = contract(prepaid("pre", "100", term, prorate=False), term=term)
    assert [p.balance for p in activate(unprorated).pools] == [D(100), D(100)]


def test_level_commitments_get_windows_but_no_pools() -> None:
    volume = Commitment(
        "sims",
        CommitmentType.SERVICE,
        months(12),
        Frequency.QUARTERLY,
        ramp((1, "10")),
        service="sim-a",
    )
    result = activate(contract(volume))
    assert [w.committed for w in result.windows] == [D(10)] * 4
    assert result.pools == () and result.entries == ()


def test_the_result_does_not_depend_on_the_order_of_commitments() -> None:
    a, b = prepaid("a", "10", months(12)), postpaid("b", "20", months(12))
    assert activate(contract(a, b)) == activate(contract(b, a))


@pytest.mark.parametrize(
    ("commitment", "billing", "code"),
    [
        # Starts mid-period: misaligned with the monthly billing periods.
        (
            prepaid("p", "10", DateRange(date(2025, 1, 15), date(2025, 3, 15))),
            Frequency.MONTHLY,
            BillingErrorCode.MISALIGNED_COMMITMENT,
        ),
        # Monthly windows on a quarterly-billed contract.
        (
            prepaid("p", "10", months(12)),
            Frequency.QUARTERLY,
            BillingErrorCode.MISALIGNED_COMMITMENT,
        ),
        (
            prepaid("p", "10", months(2), fees=FeeSchedule(amount_first_bill=D(21))),
            Frequency.MONTHLY,
            BillingErrorCode.INVALID_FEE_SCHEDULE,
        ),
        (
            prepaid(
                "p",
                "10",
                months(2),
                fees=FeeSchedule(
                    billing=FeeBilling.FEE_DATES, fee_dates=(FeeDate(date(2025, 1, 2), D(19)),)
                ),
            ),
            Frequency.MONTHLY,
            BillingErrorCode.INVALID_FEE_SCHEDULE,
        ),
        (
            prepaid("p", ramp((1, "10"), (5, "20")), months(2)),
            Frequency.MONTHLY,
            BillingErrorCode.INVALID_RAMP,
        ),
    ],
)
def test_activation_refuses_terms_that_cannot_be_billed(
    commitment: Commitment, billing: Frequency, code: BillingErrorCode
) -> None:
    with pytest.raises(BillingError) as error:
        activate(contract(commitment, frequency=billing))
    assert error.value.code is code


def test_check_activation_accepts_a_sound_contract() -> None:
    terms = contract(prepaid("p", "10", months(12), fees=FeeSchedule(amount_prepaid=D(20))))
    check_activation(terms)
    assert activate(replace(terms, commitments=())).pools == ()
