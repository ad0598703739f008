"""Closing a billing period (SPEC §9 steps 2–5) as one pure function."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from money_builders import contract, months, postpaid, prepaid, price, simulate, start

from app.billing.calendar import Period, billing_periods
from app.billing.charges import OneTimeCharge, UsageTotal
from app.billing.close import CloseInput, close_period, period_usage
from app.billing.credit import new_balance
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.invoice import LINE_ORDER
from app.billing.ledger import EntryKind, balances
from app.billing.terms import (
    DateRange,
    DrawdownOrder,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    ProductKind,
    ServiceLine,
)

D = Decimal
JAN = months(1)


def test_a_period_that_is_not_a_billing_period_is_refused() -> None:
    terms = contract()
    odd = Period(
        0,
        DateRange(date(2025, 1, 5), date(2025, 2, 5)),
        DateRange(date(2025, 1, 5), date(2025, 2, 5)),
    )
    with pytest.raises(BillingError) as error:
        close_period(CloseInput(terms, odd))
    assert error.value.code is BillingErrorCode.INVALID_PERIOD


def test_no_usage_and_no_commitments_bills_the_standing_and_recurring_charges() -> None:
    line = ServiceLine("sim-1", "sim-a", ProductKind.SERVICE, D(2), D("9.99"), months(12))
    terms = contract(standing_charge=D(25), service_lines=(line,))
    result = close_period(CloseInput(terms, billing_periods(terms)[0]))
    assert [(ln.type, ln.amount) for ln in result.lines] == [
        (LineType.RECURRING, D("19.98")),
        (LineType.STANDING, D(25)),
    ]
    assert result.total == D("44.98") and result.entries == () and result.windows == ()


def test_a_balance_expires_at_its_end_date_in_the_close_of_the_period_it_ends_in() -> None:
    mid = new_balance(
        "mid", D(50), DateRange(date(2025, 1, 1), date(2025, 1, 15)), date(2025, 1, 1), "USD", seq=1
    )
    edge = new_balance("edge", D(50), JAN, date(2025, 1, 1), "USD", seq=2)
    later = new_balance("later", D(50), months(2), date(2025, 1, 1), "USD", seq=3)
    run = simulate(contract(), [{"api-calls": "30"}], balances=[mid, edge, later])
    jan = run.results[0]
    assert [(d.pool_key, d.amount) for d in jan.draws] == [("mid", D(30))]  # earliest end first
    expired = [(e.pool_key, e.amount, e.on) for e in jan.entries if e.kind is EntryKind.EXPIRE]
    assert expired == [("mid", D(-20), date(2025, 1, 15)), ("edge", D(-50), date(2025, 2, 1))]
    feb = run.close_next({})
    assert [(e.pool_key, e.on) for e in feb.entries] == [("later", date(2025, 3, 1))]


def test_lines_come_grouped_by_type_in_invoice_order_with_charges_in_drawdown_order() -> None:
    c = postpaid("post", "5000", JAN, penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),))
    p = prepaid("pre", "10", JAN, overage_surcharge_percent=D(10))
    terms = contract(c, p, term=JAN, standing_charge=D(5), prices=(price("b"), price("a")))
    one_time = OneTimeCharge("setup", "install", D(7), date(2025, 1, 20))
    run = start(terms)
    result = run.close_next({"b": "3", "a": "4"}, one_time=[one_time])
    types = [ln.type for ln in result.lines]
    assert types == sorted(types, key=LINE_ORDER.index)
    assert [
        ln.charge_key
        for ln in result.lines
        if ln.type in (LineType.USAGE, LineType.STANDING, LineType.ONE_TIME)
    ] == ["usage:a", "usage:b", "standing", "one_time:setup"]
    assert types.count(LineType.TRUE_UP) == types.count(LineType.PENALTY) == 1


def test_window_results_cover_only_windows_ending_with_the_period() -> None:
    c = postpaid("post", "300", months(6), frequency=Frequency.QUARTERLY)
    run = simulate(contract(c, term=months(6)), [{"api-calls": "100"}] * 3)
    assert [len(r.windows) for r in run.results] == [0, 0, 1]
    ended = run.results[2].windows[0]
    assert (ended.commitment_key, ended.window.index, ended.true_up) == ("post", 0, D(0))
    assert ended.measurement.measured == D(300)  # January and February came in as prior charges


def test_usage_outside_the_period_is_not_rated_now() -> None:
    jan, feb = months(1), months(1, date(2025, 2, 1))
    usage = [UsageTotal("x", jan, D(5)), UsageTotal("x", feb, D(7)), UsageTotal("y", jan, D(1))]
    assert period_usage(usage, jan) == {"x": D(5), "y": D(1)}


def test_the_result_is_the_same_whatever_the_order_of_the_inputs_and_on_every_run() -> None:
    a = prepaid("a", "40", months(3), rollover_fraction=D(1))
    b = postpaid("b", "90", months(3), overage_surcharge_percent=D(5))
    terms = contract(
        a,
        b,
        term=months(3),
        prices=(price("x"), price("y", "2")),
        drawdown_order=DrawdownOrder.BALANCE_FIRST,
    )
    bal1 = new_balance("bal1", D(15), months(3), date(2025, 1, 1), "USD", seq=0)
    bal2 = new_balance("bal2", D(15), months(3), date(2025, 1, 1), "USD", seq=1)
    run = simulate(terms, [{"x": "20", "y": "10"}, {"x": "30"}], balances=[bal1, bal2])
    extra = (
        OneTimeCharge("o1", "svc", D(3), date(2025, 3, 2), 1),
        OneTimeCharge("o2", "svc", D(4), date(2025, 3, 3), 2),
    )
    usage = tuple(run.usage) + (UsageTotal("x", months(1, date(2025, 3, 1)), D(9)),)
    forward = CloseInput(
        terms, billing_periods(terms)[2], usage, extra, tuple(run.charges), run.pools
    )
    backward = CloseInput(
        replace(terms, commitments=terms.commitments[::-1], prices=terms.prices[::-1]),
        forward.period,
        usage[::-1],
        extra[::-1],
        forward.prior_charges[::-1],
        forward.pools[::-1],
    )
    assert close_period(forward) == close_period(backward) == close_period(forward)


def test_entries_and_pools_agree_over_a_whole_contract() -> None:
    a = prepaid("a", "100", months(12), rollover_fraction=D("0.5"), overage_surcharge_percent=D(3))
    b = postpaid("b", "150", months(12), rollover_fraction=D(1), rollover_cap=D(40))
    bal = new_balance("bal", D(60), months(5), date(2025, 1, 1), "USD", seq=0)
    usage = [{"api-calls": str(q)} for q in (50, 120, 0, 300, 80, 10, 99, 101, 150, 0, 45, 200)]
    run = simulate(
        contract(a, b, drawdown_order=DrawdownOrder.BALANCE_FIRST), usage, balances=[bal]
    )
    assert balances(run.entries) == {p.key: p.balance for p in run.pools}
    assert all(p.balance == 0 for p in run.pools)  # everything expired or was used by the end


def test_a_jpy_contract_closes_in_whole_yen() -> None:
    c = prepaid("pre", "1000", JAN, overage_surcharge_percent=D("7.5"))
    terms = contract(c, term=JAN, currency="JPY", prices=(price("api-calls", "0.7"),))
    result = simulate(terms, [{"api-calls": "2001"}]).results[0]  # 1,400.7 → 1,401 yen
    assert [(ln.type, ln.amount) for ln in result.lines] == [
        (LineType.USAGE, D(1401)),
        (LineType.COMMITMENT_FEE, D(1000)),
        (LineType.OVERAGE_SURCHARGE, D(30)),
        (LineType.DRAWDOWN, D(-1000)),
    ]
    assert all(ln.amount == ln.amount.quantize(D(1)) for ln in result.lines)


def test_two_one_time_charges_with_one_key_are_refused() -> None:
    terms = contract()
    twice = (
        OneTimeCharge("k", "x", D(1), date(2025, 1, 2)),
        OneTimeCharge("k", "x", D(2), date(2025, 1, 3)),
    )
    with pytest.raises(BillingError) as error:
        close_period(CloseInput(terms, billing_periods(terms)[0], one_time=twice))
    assert error.value.code is BillingErrorCode.INVALID_AMOUNT
