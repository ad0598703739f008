"""Postpaid commitments (SPEC §6, §8): tracking, true-up, rollover credit, surcharge, penalties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from money_builders import amounts, contract, months, pool_of, postpaid, price, simulate, total

from app.billing.calendar import billing_periods
from app.billing.close import CloseInput, close_period
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import EntryKind
from app.billing.terms import ChargeType, Frequency, LineType, Penalty, PenaltyKind

D = Decimal


def test_eligible_charges_consume_the_tracking_pool_without_reducing_the_invoice() -> None:
    c = postpaid("min", "100", months(1), eligible_products=frozenset({"api-calls"}))
    terms = contract(c, term=months(1), prices=(price("api-calls"), price("sms")))
    result = simulate(terms, [{"api-calls": "60", "sms": "500"}]).results[0]
    consumed = [
        (e.pool_key, e.amount, e.charge_key) for e in result.entries if e.kind is EntryKind.CONSUME
    ]
    assert consumed == [("tracking:min:0", D(-60), "usage:api-calls")]
    assert amounts(result, LineType.DRAWDOWN) == []
    assert amounts(result, LineType.TRUE_UP) == [D(40)]
    assert result.total == D(60) + D(500) + D(40)


def test_consumption_never_takes_more_than_is_left() -> None:
    c = postpaid("min", "100", months(3), frequency=Frequency.QUARTERLY)
    terms = contract(c, term=months(3), frequency=Frequency.MONTHLY)
    run = simulate(terms, [{"api-calls": "70"}, {"api-calls": "70"}, {"api-calls": "70"}])
    # The commitment's one window is the quarter: 100 committed, 210 spent.
    consumed = [e.amount for r in run.results for e in r.entries if e.kind is EntryKind.CONSUME]
    assert consumed == [D(-70), D(-30)]
    assert pool_of(run, "tracking:min:0").balance == 0
    assert all(amounts(r, LineType.TRUE_UP) == [] for r in run.results)


def test_true_up_false_bills_no_true_up_but_the_pool_still_empties_and_nothing_rolls() -> None:
    c = postpaid("min", "100", months(2), true_up=False, rollover_fraction=D(1))
    run = simulate(contract(c, term=months(2)), [{"api-calls": "30"}])
    jan = run.results[0]
    assert amounts(jan, LineType.TRUE_UP) == []
    assert [(e.kind, e.amount) for e in jan.entries if e.kind is EntryKind.EXPIRE] == [
        (EntryKind.EXPIRE, D(-70))
    ]
    assert jan.windows[0].measurement.shortfall == D(70)
    assert jan.windows[0].true_up == 0
    assert not any(p.key.startswith("rollover") for p in run.pools)


def test_rollover_credit_is_capped_and_expires_at_the_end_of_its_window() -> None:
    c = postpaid("min", "5000", months(3), rollover_fraction=D("0.5"), rollover_cap=D(1000))
    run = simulate(contract(c, term=months(3)), [{"api-calls": "2000"}])
    credit = pool_of(run, "rollover:min:1")
    assert credit.balance == D(1000)
    issued = [e for e in run.results[0].entries if e.pool_key == credit.key]
    assert [(e.kind, e.amount) for e in issued] == [(EntryKind.ISSUE, D(1000))]
    feb = run.close_next({"api-calls": "400"})
    assert amounts(feb, LineType.DRAWDOWN) == [D(-400)]
    assert amounts(feb, LineType.TRUE_UP) == [D(4600)]
    assert [
        e.amount for e in feb.entries if e.pool_key == credit.key and e.kind is EntryKind.EXPIRE
    ] == [D(-600)]
    # The new rollover from February is capped too; the last window rolls nothing.
    assert pool_of(run, "rollover:min:2").balance == D(1000)
    march = run.close_next({})
    assert amounts(march, LineType.TRUE_UP) == [D(5000)]
    assert not any(e.kind is EntryKind.ISSUE for e in march.entries)


def test_postpaid_surcharge_bills_spend_above_the_commitment_across_the_window() -> None:
    c = postpaid(
        "min", "1000", months(6), frequency=Frequency.QUARTERLY, overage_surcharge_percent=D(10)
    )
    spend = ["600", "700", "200", "1100"]
    run = simulate(contract(c, term=months(6)), [{"api-calls": s} for s in spend])
    assert [total(r, LineType.OVERAGE_SURCHARGE) for r in run.results] == [
        D(0),
        D(30),
        D(20),
        D(10),  # E₁−C: 0, 300, 500 → +300, +200; Q2 starts again: 100
    ]
    surcharge = next(ln for ln in run.results[1].lines if ln.type is LineType.OVERAGE_SURCHARGE)
    assert (surcharge.commitment_key, surcharge.window_index) == ("min", 0)


def test_true_up_and_penalties_are_both_billed_and_charge_penalty_counts_every_charge() -> None:
    c = postpaid(
        "min",
        "4000",
        months(1),
        eligible_charge_types=frozenset({ChargeType.USAGE}),
        penalties=(
            Penalty(PenaltyKind.CHARGE, amount=D(5000)),
            Penalty(PenaltyKind.COUNT, rate=D("0.1")),
        ),
    )
    terms = contract(c, term=months(1), standing_charge=D(200))
    result = simulate(terms, [{"api-calls": "3000"}]).results[0]
    assert amounts(result, LineType.TRUE_UP) == [D(1000)]
    # B = 3,000 usage + 200 standing = 3,200 → 5,000 − 3,200 = 1,800; COUNT: 1,000 × 0.1.
    assert amounts(result, LineType.PENALTY) == [D(1800), D(100)]
    assert result.windows[0].penalties == (D(1800), D(100))


def test_no_shortfall_no_true_up_and_no_penalty() -> None:
    c = postpaid("min", "100", months(1), penalties=(Penalty(PenaltyKind.CHARGE, amount=D(5000)),))
    result = simulate(contract(c, term=months(1)), [{"api-calls": "100"}]).results[0]
    assert amounts(result, LineType.TRUE_UP) == amounts(result, LineType.PENALTY) == []
    assert result.windows[0].penalties == (D(0),)


def test_a_postpaid_commitment_without_its_tracking_pool_cannot_close() -> None:
    terms = contract(postpaid("min", "100", months(1)), term=months(1))
    with pytest.raises(BillingError) as error:
        close_period(CloseInput(terms, billing_periods(terms)[0]))
    assert error.value.code is BillingErrorCode.MISSING_POOL


def test_partial_last_window_true_up_is_prorated() -> None:
    term = months(2)
    c = postpaid("min", "900", term, frequency=Frequency.QUARTERLY)  # one window, 59 of 90 days
    run = simulate(contract(c, term=term, frequency=Frequency.MONTHLY), [{}, {}])
    assert amounts(run.results[1], LineType.TRUE_UP) == [D("590.00")]
    assert run.results[1].windows[0].window.partial
    assert pool_of(run, "tracking:min:0").valid.end == date(2025, 3, 1)
