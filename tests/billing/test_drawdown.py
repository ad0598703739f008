"""Drawdown (SPEC §7): charge order, eligibility, groups and the order within a group."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from money_builders import months

from app.billing.charges import Charge
from app.billing.drawdown import Draw, candidate_pools, draw_down, drawn_per_charge, ordered_charges
from app.billing.ledger import Pool, PoolKind
from app.billing.terms import ChargeType, DateRange, DrawdownOrder

D = Decimal
JAN = months(1)


def charge(
    key: str, amount: str, type_: ChargeType = ChargeType.USAGE, product: str = "x", seq: int = 0
) -> Charge:
    return Charge(key, type_, product, D(amount), JAN, seq=seq)


def pool(key: str, balance: str, kind: PoolKind = PoolKind.BALANCE, **kw: object) -> Pool:
    return Pool(key, kind, kw.pop("valid", JAN), D(balance), **kw)  # type: ignore[arg-type]


def draws(
    charges: list[Charge], pools: list[Pool], order: DrawdownOrder = DrawdownOrder.COMMITMENT_FIRST
) -> list[tuple[str, str, Decimal]]:
    return [(d.charge_key, d.pool_key, d.amount) for d in draw_down(charges, pools, order, JAN)]


def test_charges_are_taken_by_type_then_product_then_creation_order() -> None:
    charges = [
        charge("one", "1", ChargeType.ONE_TIME, "a"),
        charge("rec-b", "1", ChargeType.RECURRING, "b"),
        charge("use-z", "1", ChargeType.USAGE, "z"),
        charge("min", "1", ChargeType.MINIMUM_SPEND, "m"),
        charge("rec-a2", "1", ChargeType.RECURRING, "a", seq=2),
        charge("rec-a1", "1", ChargeType.RECURRING, "a", seq=1),
        charge("std", "1", ChargeType.STANDING, "s"),
    ]
    expected = ["use-z", "rec-a1", "rec-a2", "rec-b", "std", "min", "one"]
    assert [c.key for c in ordered_charges(charges)] == expected
    # A pool too small for all of them pays the first ones in that order.
    assert [d[0] for d in draws(charges, [pool("bal", "3")])] == expected[:3]


def test_a_charge_draws_across_pools_until_paid_and_never_more_than_a_pool_holds() -> None:
    result = draws([charge("c", "100")], [pool("a", "30", seq=1), pool("b", "50", seq=2)])
    assert result == [("c", "a", D(30)), ("c", "b", D(50))]
    assert drawn_per_charge(
        draw_down([charge("c", "100")], [pool("a", "300")], DrawdownOrder.BALANCE_FIRST, JAN)
    ) == {"c": D(100)}


def test_eligibility_by_type_and_product() -> None:
    usage_only = pool("u", "100", eligible_charge_types=frozenset({ChargeType.USAGE}))
    sms_only = pool("s", "100", eligible_products=frozenset({"sms"}))
    charges = [
        charge("rec", "10", ChargeType.RECURRING, "sms"),
        charge("data", "10", product="data"),
    ]
    assert draws(charges, [usage_only, sms_only]) == [("data", "u", D(10)), ("rec", "s", D(10))]


@pytest.mark.parametrize(
    ("valid", "pays"),
    [
        (DateRange(date(2024, 12, 1), date(2025, 1, 2)), True),  # valid on Jan 1 only
        (DateRange(date(2025, 1, 31), date(2025, 3, 1)), True),  # valid on Jan 31 only
        (DateRange(date(2024, 12, 1), date(2025, 1, 1)), False),  # ended before the period
        (DateRange(date(2025, 2, 1), date(2025, 3, 1)), False),  # starts after it
    ],
)
def test_a_pool_pays_if_valid_on_at_least_one_day_of_the_period(
    valid: DateRange, pays: bool
) -> None:
    assert bool(draws([charge("c", "5")], [pool("p", "5", valid=valid)])) is pays


def test_tracking_pools_pay_nothing_and_empty_pools_are_skipped() -> None:
    tracking = pool("t", "100", PoolKind.TRACKING, commitment_key="post")
    assert draws([charge("c", "5")], [tracking, pool("empty", "0")]) == []


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (DrawdownOrder.BALANCE_FIRST, ["bal", "roll", "pre"]),
        (DrawdownOrder.COMMITMENT_FIRST, ["roll", "pre", "bal"]),
        (DrawdownOrder.BALANCE_ONLY, ["bal"]),
        (DrawdownOrder.COMMITMENT_ONLY, ["roll", "pre"]),
    ],
)
def test_groups_follow_the_drawdown_order_and_rollover_counts_as_commitment(
    order: DrawdownOrder, expected: list[str]
) -> None:
    pools = [
        pool("bal", "10", seq=0),
        pool("pre", "10", PoolKind.PREPAID, commitment_key="c", seq=1),
        pool("roll", "10", PoolKind.ROLLOVER, commitment_key="c", rolled_over=True, seq=2),
    ]
    assert [d[1] for d in draws([charge("c", "100")], pools, order)] == expected


def test_within_a_group_priority_then_end_then_rolled_over_then_specific_then_oldest() -> None:
    feb = DateRange(date(2025, 1, 1), date(2025, 3, 1))
    pools = [
        pool("p1-general-old", "1", seq=0, priority=1),
        pool("p0-late", "1", seq=1, valid=feb),
        pool("p0-fresh-general", "1", seq=2),
        pool("p0-fresh-two", "1", seq=3, eligible_products=frozenset({"x", "y"})),
        pool("p0-fresh-one-new", "1", seq=5, eligible_products=frozenset({"x"})),
        pool("p0-fresh-one-old", "1", seq=4, eligible_products=frozenset({"x"})),
        pool("p0-rolled", "1", seq=9, rolled_over=True),
    ]
    expected = [
        "p0-rolled",
        "p0-fresh-one-old",
        "p0-fresh-one-new",
        "p0-fresh-two",
        "p0-fresh-general",
        "p0-late",
        "p1-general-old",
    ]
    ranked = candidate_pools(pools, charge("c", "1"), JAN, DrawdownOrder.BALANCE_ONLY)
    assert [p.key for p in ranked] == expected
    assert [d[1] for d in draws([charge("c", "7")], pools, DrawdownOrder.BALANCE_ONLY)] == expected


def test_order_of_the_inputs_does_not_matter() -> None:
    charges = [
        charge("a", "7", seq=1),
        charge("b", "9", seq=2),
        charge("c", "4", ChargeType.STANDING),
    ]
    pools = [pool("x", "5", seq=1), pool("y", "8", seq=2), pool("z", "2", PoolKind.PREPAID, seq=3)]
    forward = draw_down(charges, pools, DrawdownOrder.BALANCE_FIRST, JAN)
    backward = draw_down(charges[::-1], pools[::-1], DrawdownOrder.BALANCE_FIRST, JAN)
    assert forward == backward
    assert forward[0] == Draw("a", "x", D(5))


def test_zero_and_negative_charges_draw_nothing() -> None:
    assert draws([charge("zero", "0"), charge("credit", "-5")], [pool("p", "10")]) == []
