"""Prepaid commitments (SPEC §6): overage, surcharges, separate overage, expiry and rollover."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from money_builders import amounts, contract, months, pool_of, prepaid, price, simulate, total

from app.billing.credit import new_balance
from app.billing.ledger import EntryKind, PoolKind
from app.billing.terms import (
    ChargeType,
    DateRange,
    DrawdownOrder,
    FeeSchedule,
    Frequency,
    LineType,
)

D = Decimal


def test_a_negative_100_percent_surcharge_cancels_the_overage() -> None:
    c = prepaid("pre", "100", months(1), overage_surcharge_percent=D(-100))
    result = simulate(contract(c, term=months(1)), [{"api-calls": "130"}]).results[0]
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == [D("-30.00")]
    assert result.total == D(100)  # just the commitment fee


def test_separate_overage_splits_the_charge_line_instead_of_a_surcharge() -> None:
    c = prepaid("pre", "100", months(1), separate_overage=True)
    result = simulate(contract(c, term=months(1)), [{"api-calls": "130"}]).results[0]
    assert amounts(result, LineType.USAGE) == [D(100)]
    assert amounts(result, LineType.OVERAGE) == [D(30)]
    assert amounts(result, LineType.DRAWDOWN) == [D(-100)]
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == []
    overage = next(line for line in result.lines if line.type is LineType.OVERAGE)
    assert (overage.charge_key, overage.commitment_key) == ("usage:api-calls", "pre")


def test_no_overage_while_any_prepaid_commitment_the_charge_may_use_holds_credit() -> None:
    first = prepaid("a", "50", months(1), priority=0, overage_surcharge_percent=D(10))
    second = prepaid("b", "100", months(1), priority=1, overage_surcharge_percent=D(20))
    terms = contract(first, second, term=months(1))
    assert (
        total(simulate(terms, [{"api-calls": "150"}]).results[0], LineType.OVERAGE_SURCHARGE) == 0
    )
    # Both empty: the first in drawdown order (priority 0, commitment "a") sets the percent.
    result = simulate(terms, [{"api-calls": "170"}]).results[0]
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == [D("2.00")]
    assert (
        next(ln for ln in result.lines if ln.type is LineType.OVERAGE_SURCHARGE).commitment_key
        == "a"
    )


def test_charges_outside_every_prepaid_commitment_are_not_overage() -> None:
    c = prepaid(
        "pre",
        "10",
        months(1),
        eligible_products=frozenset({"sms"}),
        overage_surcharge_percent=D(50),
    )
    terms = contract(c, term=months(1), prices=(price("api-calls"), price("sms")))
    result = simulate(terms, [{"api-calls": "40", "sms": "15"}]).results[0]
    assert amounts(result, LineType.DRAWDOWN) == [D(-10)]
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == [D("2.50")]  # 5 of sms over


def test_prepaid_commitments_and_balances_compete_for_one_charge() -> None:
    a = prepaid("a", "30", months(1), eligible_products=frozenset({"api-calls"}))
    b = prepaid("b", "40", months(1), overage_surcharge_percent=D(5))
    terms = contract(a, b, term=months(1), drawdown_order=DrawdownOrder.COMMITMENT_FIRST)
    bal = new_balance("bal", D(20), months(1), date(2025, 1, 1), "USD", seq=0)
    result = simulate(terms, [{"api-calls": "100"}], balances=[bal]).results[0]
    # The more specific pool first, then the general one, then the balance.
    assert [(d.pool_key, d.amount) for d in result.draws] == [
        ("prepaid:a:0", D(30)),
        ("prepaid:b:0", D(40)),
        ("bal", D(20)),
    ]
    # Every prepaid pool is empty, so the 10 left is overage; "a" comes first in drawdown order
    # and sets the percent: 0 %, so no surcharge although "b" would charge 5 %.
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == []
    assert result.total == D(10) + D(30) + D(40)  # the overage and both commitment fees


def test_window_end_rolls_over_up_to_the_cap_and_expires_the_rest() -> None:
    c = prepaid("pre", "100", months(3), rollover_fraction=D("0.5"), rollover_cap=D(20))
    run = simulate(contract(c, term=months(3)), [{"api-calls": "40"}])
    ended = run.results[0]
    moves = [
        (e.pool_key, e.kind, e.amount) for e in ended.entries if e.kind is not EntryKind.CONSUME
    ]
    assert moves == [
        ("prepaid:pre:0", EntryKind.ROLLOVER_OUT, D(-20)),
        ("rollover:pre:1", EntryKind.ROLLOVER_IN, D(20)),
        ("prepaid:pre:0", EntryKind.EXPIRE, D(-40)),
    ]
    assert ended.windows[0].rolled_over == D(20) and ended.windows[0].expired == D(40)
    credit = pool_of(run, "rollover:pre:1")
    assert (credit.kind, credit.rolled_over, credit.valid) == (
        PoolKind.ROLLOVER,
        True,
        months(1, date(2025, 2, 1)),
    )
    # February: the rolled credit pays first, and what is left of it does not roll again.
    feb = run.close_next({"api-calls": "5"})
    assert [(d.pool_key, d.amount) for d in feb.draws] == [("rollover:pre:1", D(5))]
    expiries = {e.pool_key: e.amount for e in feb.entries if e.kind is EntryKind.EXPIRE}
    assert expiries == {"rollover:pre:1": D(-15), "prepaid:pre:1": D(-80)}
    assert pool_of(run, "rollover:pre:2").balance == D(20)  # from February's fresh pool only
    # March is the last window: nothing rolls past the term.
    march = run.close_next({})
    assert {e.kind for e in march.entries} == {EntryKind.EXPIRE}
    assert all(p.balance == 0 for p in run.pools)


def test_an_annual_commitment_with_a_partial_last_window_is_prorated() -> None:
    term = DateRange(date(2025, 1, 1), date(2026, 4, 1))  # 12 + 3 months
    c = prepaid("pre", "1200", term, frequency=Frequency.ANNUAL)
    terms = contract(c, term=term, frequency=Frequency.QUARTERLY)
    run = simulate(terms, [{}] * 5)
    assert pool_of(run, "prepaid:pre:1").valid == DateRange(date(2026, 1, 1), date(2026, 4, 1))
    fees = [total(r, LineType.COMMITMENT_FEE) for r in run.results]
    assert sum(fees, D(0)) == D(1200) + D("295.89")  # 90 of 365 days of 1200
    assert fees == [D("299.18")] * 4 + [D("299.17")]


def test_jpy_and_kwd_surcharges_round_to_their_minor_units() -> None:
    for currency, usage, expected in (("JPY", "1303", D(45)), ("KWD", "1000.333", D("0.050"))):
        c = prepaid("pre", "1000", months(1), overage_surcharge_percent=D("15"))
        result = simulate(contract(c, term=months(1), currency=currency), [{"api-calls": usage}])
        assert amounts(result.results[0], LineType.OVERAGE_SURCHARGE) == [expected]


def test_first_bill_and_amount_prepaid_on_the_invoices() -> None:
    c = prepaid(
        "pre", "1000", months(3), fees=FeeSchedule(amount_prepaid=D(1200), amount_first_bill=D(600))
    )
    run = simulate(contract(c, term=months(3)), [{}, {}, {}])
    assert [amounts(r, LineType.COMMITMENT_FEE) for r in run.results] == [
        [D(600), D(400)],
        [D(400)],
        [D(400)],
    ]


def test_only_eligible_charge_types_draw_from_a_prepaid_pool() -> None:
    c = prepaid(
        "pre",
        "100",
        months(1),
        eligible_charge_types=frozenset({ChargeType.STANDING}),
        overage_surcharge_percent=D(10),
    )
    terms = contract(c, term=months(1), standing_charge=D(120))
    result = simulate(terms, [{"api-calls": "50"}]).results[0]
    assert [(d.charge_key, d.amount) for d in result.draws] == [("standing", D(100))]
    assert amounts(result, LineType.OVERAGE_SURCHARGE) == [D(2)]
