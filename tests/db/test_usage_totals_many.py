"""Exact usage totals of many contracts, each over its own period, in one statement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from app.billing.terms import Frequency
from app.db import aggregates
from app.db.models import Contract, UsageEvent
from app.services.contracts import create_contract
from app.services.specs import ContractSpec
from tests.api.helpers import count_queries
from tests.db.test_aggregates import BIG, events, setup

JAN, FEB = (date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 2, 1), date(2026, 3, 1))


async def more_events(org: int, contract: int, rows: list[tuple[int, date, str]]) -> None:
    await UsageEvent.bulk_create([
        UsageEvent(organization_id=org, contract_id=contract, usage_class_id=cls, quantity=D(q), day=day,
                   occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC), idempotency_key=f"more{i}")
        for i, (cls, day, q) in enumerate(rows)
    ])


async def test_each_contract_sums_its_own_days_exactly_in_one_statement(db: str) -> None:
    org, first, a, b = await setup()
    account_id = (await Contract.get(id=first)).account_id
    second = (await create_contract(org, ContractSpec(
        account_id=account_id, name="D", currency="USD", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
        billing_frequency=Frequency.MONTHLY))).id
    await events(org, first, [(a, date(2026, 1, d), BIG) for d in (1, 2, 3)] + [(b, date(2026, 2, 1), "9")])
    await more_events(org, second, [(a, date(2026, 1, 31), "1"), (a, date(2026, 2, 1), "2.5"), (b, date(2026, 2, 28), "3")])
    with count_queries() as statements:
        totals = await aggregates.usage_totals_many(org, [(first, *JAN), (second, *FEB)])
    assert totals == {(first, a): D("37037036703702.370370367"), (second, a): D("2.5"), (second, b): D(3)}
    assert len(statements) == 1
    assert await aggregates.usage_totals_many(org, []) == {}
    with pytest.raises(ValueError):
        await aggregates.usage_totals_many(org, [(first, *JAN), (first, *FEB)])


async def test_a_batch_larger_than_a_chunk_is_split_and_never_crosses_tenants(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org, contract, a, _ = await setup()
    other_org, other_contract, oa, _ = await setup()
    await events(org, contract, [(a, date(2026, 1, 5), "1")])
    await more_events(other_org, other_contract, [(oa, date(2026, 1, 5), "5")])
    monkeypatch.setattr(aggregates, "USAGE_TOTALS_CHUNK", 1)
    with count_queries() as statements:
        totals = await aggregates.usage_totals_many(org, [(contract, *JAN), (other_contract, *JAN)])
    assert totals == {(contract, a): D(1)} and len(statements) == 2
