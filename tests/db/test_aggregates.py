"""Exact usage totals in the database on both backends, with values a float cannot hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from tortoise import connections

from app.billing.terms import Frequency, ProductKind
from app.db import aggregates
from app.db.models import UsageEvent
from app.services import accounts, products
from app.services.contracts import create_contract
from app.services.specs import ContractSpec
from tests.api.helpers import count_queries, new_org

BIG = "12345678901234.123456789"


async def setup() -> tuple[int, int, int, int]:
    org = await new_org("Aggregates", "USD")
    a = await products.create_product(org, products.ProductSpec("a", "A", ProductKind.USAGE_CLASS, "unit"))
    b = await products.create_product(org, products.ProductSpec("b", "B", ProductKind.USAGE_CLASS, "unit"))
    acct = await accounts.create_account(org, accounts.AccountSpec(name="Acme"))
    contract = await create_contract(org, ContractSpec(
        account_id=acct.id, name="C", currency="USD", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
        billing_frequency=Frequency.MONTHLY))
    return org, contract.id, a.id, b.id


async def events(org: int, contract: int, rows: list[tuple[int, date, str]]) -> None:
    await UsageEvent.bulk_create([
        UsageEvent(organization_id=org, contract_id=contract, usage_class_id=cls, quantity=D(q), day=day,
                   occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC), idempotency_key=f"k{i}")
        for i, (cls, day, q) in enumerate(rows)
    ])


async def test_totals_are_exact_where_floating_point_is_not(db: str) -> None:
    org, contract, a, b = await setup()
    await events(org, contract, [(a, date(2026, 1, d), BIG) for d in (1, 2, 3)] + [(b, date(2026, 1, 4), "0.000000000001")])
    totals = await aggregates.usage_totals(org, contract, date(2026, 1, 1), date(2026, 2, 1))
    assert totals == {a: D("37037036703702.370370367"), b: D("1E-12")}
    assert str(totals[a]) == "37037036703702.370370367"


async def test_totals_group_by_class_and_honour_half_open_days(db: str) -> None:
    org, contract, a, b = await setup()
    await events(org, contract, [
        (a, date(2025, 12, 31), "100"),  # before
        (a, date(2026, 1, 1), "1.5"), (a, date(2026, 1, 31), "2.25"), (b, date(2026, 1, 15), "7"),
        (a, date(2026, 2, 1), "1000"),  # the end is exclusive
    ])
    assert await aggregates.usage_totals(org, contract, date(2026, 1, 1), date(2026, 2, 1)) == {a: D("3.75"), b: D(7)}
    assert await aggregates.usage_totals(org, contract, date(2026, 3, 1), date(2026, 4, 1)) == {}


async def test_totals_never_cross_tenants_or_contracts(db: str) -> None:
    org, contract, a, _ = await setup()
    other_org, other_contract, oa, _ = await setup()
    await events(org, contract, [(a, date(2026, 1, 5), "1")])
    await events(other_org, other_contract, [(oa, date(2026, 1, 5), "5")])
    assert await aggregates.usage_totals(org, contract, date(2026, 1, 1), date(2026, 2, 1)) == {a: D(1)}
    assert await aggregates.usage_totals(org, other_contract, date(2026, 1, 1), date(2026, 2, 1)) == {}


async def test_totals_by_period_in_one_statement(db: str) -> None:
    org, contract, a, b = await setup()
    await events(org, contract, [
        (a, date(2026, 1, 1), BIG), (a, date(2026, 1, 31), BIG), (a, date(2026, 2, 1), BIG),
        (b, date(2026, 2, 28), "0.5"), (b, date(2026, 3, 1), "0.25"), (a, date(2026, 5, 1), "9"),
    ])
    periods = [(date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 2, 1), date(2026, 3, 1)),
               (date(2026, 3, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 5, 1))]
    with count_queries() as statements:
        totals = await aggregates.usage_totals_by_period(org, contract, periods)
    assert len(statements) == 1
    assert totals == {
        (a, date(2026, 1, 1)): D("24691357802468.246913578"),
        (a, date(2026, 2, 1)): D(BIG),
        (b, date(2026, 2, 1)): D("0.5"),
        (b, date(2026, 3, 1)): D("0.25"),
    }
    # Overlapping periods each count their own days (a quarter over the same months).
    quarter = await aggregates.usage_totals_by_period(org, contract, [(date(2026, 1, 1), date(2026, 4, 1)),
                                                                     (date(2026, 2, 1), date(2026, 3, 1))])
    assert quarter[(a, date(2026, 1, 1))] == D("37037036703702.370370367")
    assert quarter[(a, date(2026, 2, 1))] == D(BIG)
    assert quarter[(b, date(2026, 1, 1))] == D("0.75")
    assert await aggregates.usage_totals_by_period(org, contract, periods + periods) == totals
    assert await aggregates.usage_totals_by_period(org, contract, []) == {}
    with pytest.raises(ValueError):
        await aggregates.usage_totals_by_period(org, contract, [periods[0], (date(2026, 1, 1), date(2026, 3, 1))])


async def test_many_periods_fit_one_statement(db: str) -> None:
    org, contract, a, _ = await setup()
    await events(org, contract, [(a, date(2026, 1, 1), "1")])
    days = [(date.fromordinal(date(2026, 1, 1).toordinal() + i), date.fromordinal(date(2026, 1, 1).toordinal() + i + 1))
            for i in range(600)]
    assert await aggregates.usage_totals_by_period(org, contract, days) == {(a, date(2026, 1, 1)): D(1)}


async def test_usage_totals_is_one_statement(db: str) -> None:
    org, contract, a, _ = await setup()
    await events(org, contract, [(a, date(2026, 1, d), "1") for d in range(1, 29)])
    with count_queries() as statements:
        await aggregates.usage_totals(org, contract, date(2026, 1, 1), date(2026, 2, 1))
    assert len(statements) == 1


async def test_sqlite_function_registration_is_idempotent(db: str) -> None:
    """ensure_sqlite_functions may be called any number of times; the connection is marked once."""
    org, contract, a, _ = await setup()
    await events(org, contract, [(a, date(2026, 1, 1), BIG)])
    await aggregates.ensure_sqlite_functions()
    await aggregates.ensure_sqlite_functions()
    if aggregates.dialect() == "sqlite":
        client = connections.get("default")
        raw = client._connection  # type: ignore[attr-defined]
        assert getattr(raw, "_billing_sqlite_functions", False)
        _, rows = await client.execute_query("SELECT decimal_sum(quantity) AS t FROM usage_event")
        assert D(rows[0]["t"]) == D(BIG)
    assert await aggregates.usage_totals(org, contract, date(2026, 1, 1), date(2026, 2, 1)) == {a: D(BIG)}


def test_decimal_sum_aggregate_is_exact_without_a_database() -> None:
    agg = aggregates.DecimalSum()
    assert agg.finalize() is None
    for value in (BIG, BIG, BIG, None, 1, "0.000000000001"):
        agg.step(value)
    assert agg.finalize() == "37037036703703.370370367001"
