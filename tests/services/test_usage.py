"""Usage ingestion and one-time charges through the service (SPEC §10), table-driven."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from app.billing.terms import CommitmentType, Frequency, PricingModel, ProductKind, RampStep
from app.db import aggregates
from app.db.models import BillingPeriod, Contract, OneTimeCharge, UsageEvent
from app.services import accounts, one_time_charges, products, usage, usage_store
from app.services.contracts import create_contract
from app.services.errors import ErrorCode, InvalidInput
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec
from app.services.one_time_charges import OneTimeChargeSpec
from app.services.usage_rules import EventStatus, UsageEventSpec
from tests.api.helpers import count_queries, new_org

YEAR = (date(2026, 1, 1), date(2027, 1, 1))
BIG = "12345678901234.123456789"
ACCEPTED, DUPLICATE, REJECTED = EventStatus.ACCEPTED, EventStatus.DUPLICATE, EventStatus.REJECTED


async def make_active(org_id: int, contract_id: int) -> None:
    """Activate through the activation service (billing periods, windows, pools)."""
    from app.services.activation import activate_contract

    await activate_contract(org_id, contract_id)


@dataclass
class World:
    org: int
    acme: int  # one active contract: prices "calls", commits (USAGE) on "gb"
    beta: int  # two active contracts pricing "calls"; the second from June: ambiguous from June
    empty: int  # an account without contracts
    c1: int
    c3: int
    c4: int
    draft: int  # acme's draft contract pricing "calls"
    calls: int
    gb: int
    sms: int  # a usage class no contract prices or commits on
    sim: int  # a SERVICE
    other_org: int
    other_contract: int
    other_account: int
    other_calls: int


async def build(name: str = "Usage") -> tuple[int, dict[str, int]]:
    org = await new_org(name, "USD")
    ids: dict[str, int] = {}
    for code, kind in (("calls", ProductKind.USAGE_CLASS), ("gb", ProductKind.USAGE_CLASS),
                       ("sms", ProductKind.USAGE_CLASS), ("sim", ProductKind.SERVICE)):
        ids[code] = (await products.create_product(org, products.ProductSpec(code, code, kind, "unit"))).id
    for acct in ("acme", "beta", "empty"):
        ids[acct] = (await accounts.create_account(org, accounts.AccountSpec(name=acct))).id

    async def contract(account: str, start: date, *, commit: bool = False, active: bool = True) -> int:
        row = await create_contract(org, ContractSpec(
            account_id=ids[account], name=account, currency="USD", start_date=start, end_date=YEAR[1],
            billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(ids["calls"], PricingModel.PER_UNIT, D("0.01")),),
            commitments=(CommitmentSpec(name="GB", type=CommitmentType.USAGE, frequency=Frequency.MONTHLY,
                                        ramp=(RampStep(1, D(100)),), usage_class_id=ids["gb"]),) if commit else ()))
        if active:
            await make_active(org, row.id)
        return row.id

    ids["c1"] = await contract("acme", YEAR[0], commit=True)
    ids["c3"] = await contract("beta", YEAR[0])
    ids["c4"] = await contract("beta", date(2026, 6, 1))
    ids["draft"] = await contract("acme", YEAR[0], active=False)
    return org, ids


@pytest.fixture
async def world(db: str) -> World:
    org, ids = await build()
    other, oids = await build("Other")
    return World(org=org, acme=ids["acme"], beta=ids["beta"], empty=ids["empty"], c1=ids["c1"], c3=ids["c3"],
                 c4=ids["c4"], draft=ids["draft"], calls=ids["calls"], gb=ids["gb"], sms=ids["sms"], sim=ids["sim"],
                 other_org=other, other_contract=oids["c1"], other_account=oids["acme"], other_calls=oids["calls"])


async def close_january(w: World) -> None:
    await BillingPeriod.filter(contract_id=w.c1, number=1).update(status="CLOSED", closed_at=datetime.now(UTC))


def ev(w: World, key: str = "k", **over: Any) -> UsageEventSpec:
    base = UsageEventSpec(quantity="1", timestamp="2026-02-10T12:00:00Z", idempotency_key=key,
                          contract_id=w.c1, usage_class_id=w.calls)
    return replace(base, **over)


# Each case: overrides of a valid event (contract c1, class "calls", 2026-02-10), status, code, field.
CASES: list[tuple[str, Any, EventStatus, ErrorCode | None, str | None]] = [
    ("valid", lambda w: {}, ACCEPTED, None, None),
    ("by usage class code", lambda w: {"usage_class_id": None, "usage_class_code": "calls"}, ACCEPTED, None, None),
    ("committed class", lambda w: {"usage_class_id": w.gb}, ACCEPTED, None, None),
    ("by account", lambda w: {"contract_id": None, "account_id": w.acme}, ACCEPTED, None, None),
    ("by account, committed class", lambda w: {"contract_id": None, "account_id": w.acme, "usage_class_id": w.gb},
     ACCEPTED, None, None),
    ("account: one of two contracts holds the day", lambda w: {"contract_id": None, "account_id": w.beta},
     ACCEPTED, None, None),
    ("account: two contracts hold the day", lambda w: {"contract_id": None, "account_id": w.beta,
                                                       "timestamp": "2026-07-01T00:00:00Z"},
     REJECTED, ErrorCode.AMBIGUOUS_CONTRACT, "accountId"),
    ("account without contracts", lambda w: {"contract_id": None, "account_id": w.empty},
     REJECTED, ErrorCode.NO_MATCHING_CONTRACT, "accountId"),
    ("account: no contract prices the class", lambda w: {"contract_id": None, "account_id": w.acme,
                                                         "usage_class_id": w.sms},
     REJECTED, ErrorCode.NO_MATCHING_CONTRACT, "accountId"),
    ("account: no contract term holds the day", lambda w: {"contract_id": None, "account_id": w.acme,
                                                           "timestamp": "2027-01-01T00:00:00Z"},
     REJECTED, ErrorCode.NO_MATCHING_CONTRACT, "accountId"),
    ("contract does not price the class", lambda w: {"usage_class_id": w.sms},
     REJECTED, ErrorCode.NO_MATCHING_CONTRACT, "usageClassId"),
    ("unknown contract", lambda w: {"contract_id": 10**9}, REJECTED, ErrorCode.NOT_FOUND, "contractId"),
    ("unknown account", lambda w: {"contract_id": None, "account_id": 10**9}, REJECTED, ErrorCode.NOT_FOUND,
     "accountId"),
    ("unknown usage class", lambda w: {"usage_class_id": 10**9}, REJECTED, ErrorCode.NOT_FOUND, "usageClassId"),
    ("unknown usage class code", lambda w: {"usage_class_id": None, "usage_class_code": "nope"},
     REJECTED, ErrorCode.NOT_FOUND, "usageClass"),
    ("another tenant's contract", lambda w: {"contract_id": w.other_contract}, REJECTED, ErrorCode.NOT_FOUND,
     "contractId"),
    ("another tenant's account", lambda w: {"contract_id": None, "account_id": w.other_account},
     REJECTED, ErrorCode.NOT_FOUND, "accountId"),
    ("another tenant's usage class", lambda w: {"usage_class_id": w.other_calls}, REJECTED, ErrorCode.NOT_FOUND,
     "usageClassId"),
    ("a service is not a usage class", lambda w: {"usage_class_id": w.sim}, REJECTED,
     ErrorCode.WRONG_PRODUCT_KIND, "usageClassId"),
    ("a service by code", lambda w: {"usage_class_id": None, "usage_class_code": "sim"}, REJECTED,
     ErrorCode.WRONG_PRODUCT_KIND, "usageClass"),
    ("draft contract", lambda w: {"contract_id": w.draft}, REJECTED, ErrorCode.CONTRACT_NOT_ACTIVE, "contractId"),
    ("before the term", lambda w: {"timestamp": "2025-12-31T23:59:59Z"}, REJECTED, ErrorCode.DATE_OUTSIDE_TERM,
     "timestamp"),
    ("the term's end is exclusive", lambda w: {"timestamp": "2027-01-01T00:00:00Z"}, REJECTED,
     ErrorCode.DATE_OUTSIDE_TERM, "timestamp"),
    ("in a closed period", lambda w: {"timestamp": "2026-01-15T00:00:00Z"}, REJECTED, ErrorCode.PERIOD_CLOSED,
     "timestamp"),
    ("closed period by account", lambda w: {"contract_id": None, "account_id": w.acme,
                                            "timestamp": "2026-01-31T23:59:59Z"},
     REJECTED, ErrorCode.PERIOD_CLOSED, "timestamp"),
    ("both contract and account", lambda w: {"account_id": w.acme}, REJECTED, ErrorCode.INVALID_INPUT, "contractId"),
    ("neither contract nor account", lambda w: {"contract_id": None}, REJECTED, ErrorCode.INVALID_INPUT,
     "contractId"),
    ("both class id and code", lambda w: {"usage_class_code": "calls"}, REJECTED, ErrorCode.INVALID_INPUT,
     "usageClassId"),
    ("no usage class", lambda w: {"usage_class_id": None}, REJECTED, ErrorCode.INVALID_INPUT, "usageClassId"),
    ("blank key", lambda w: {"idempotency_key": "  "}, REJECTED, ErrorCode.INVALID_INPUT, "idempotencyKey"),
    ("key too long", lambda w: {"idempotency_key": "x" * 201}, REJECTED, ErrorCode.INVALID_INPUT, "idempotencyKey"),
    ("connection id too long", lambda w: {"connection_id": "x" * 201}, REJECTED, ErrorCode.INVALID_INPUT,
     "connectionId"),
    ("negative quantity", lambda w: {"quantity": "-1"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("non-numeric quantity", lambda w: {"quantity": "ten"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("empty quantity", lambda w: {"quantity": ""}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("NaN", lambda w: {"quantity": "NaN"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("infinite", lambda w: {"quantity": "Infinity"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("too precise", lambda w: {"quantity": "1.0000000000001"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("too large", lambda w: {"quantity": "1e20"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("huge with decimals", lambda w: {"quantity": "123456789012345678901234567890.1234567890123"}, REJECTED,
     ErrorCode.INVALID_AMOUNT, "quantity"),
    ("underscores", lambda w: {"quantity": "1_000"}, REJECTED, ErrorCode.INVALID_AMOUNT, "quantity"),
    ("zero", lambda w: {"quantity": "0"}, ACCEPTED, None, None),
    ("exponent", lambda w: {"quantity": "1.5e3"}, ACCEPTED, None, None),
    ("smallest", lambda w: {"quantity": "0.000000000001"}, ACCEPTED, None, None),
    ("trailing zeros beyond 12 places", lambda w: {"quantity": "2.50000000000000"}, ACCEPTED, None, None),
    ("bad timestamp", lambda w: {"timestamp": "yesterday"}, REJECTED, ErrorCode.INVALID_TIMESTAMP, "timestamp"),
    ("impossible date", lambda w: {"timestamp": "2026-02-30T00:00:00Z"}, REJECTED, ErrorCode.INVALID_TIMESTAMP,
     "timestamp"),
    ("empty timestamp", lambda w: {"timestamp": ""}, REJECTED, ErrorCode.INVALID_TIMESTAMP, "timestamp"),
    ("offset timestamp", lambda w: {"timestamp": "2026-02-10T12:00:00+05:30"}, ACCEPTED, None, None),
    ("naive timestamp is UTC", lambda w: {"timestamp": "2026-02-10T12:00:00"}, ACCEPTED, None, None),
    ("bare date", lambda w: {"timestamp": "2026-02-10"}, ACCEPTED, None, None),
]


@pytest.mark.parametrize(("name", "over", "status", "code", "field"), CASES, ids=[c[0] for c in CASES])
async def test_one_event(world: World, name: str, over: Any, status: EventStatus, code: ErrorCode | None,
                         field: str | None) -> None:
    await close_january(world)
    [result] = await usage.record_usage(world.org, [ev(world, **over(world))])
    assert (result.index, result.status, result.code, result.field) == (0, status, code, field), result.message
    stored = await UsageEvent.filter(organization_id=world.org).count()
    assert stored == (1 if status is ACCEPTED else 0)


async def test_a_mixed_batch_keeps_the_valid_events(world: World) -> None:
    await close_january(world)
    batch = [ev(world, f"k{i}", **over(world)) for i, (_, over, *_rest) in enumerate(CASES)]
    results = await usage.record_usage(world.org, batch)
    assert [r.index for r in results] == list(range(len(CASES)))
    assert [(r.status, r.code, r.field) for r in results] == [(s, c, f) for _, _, s, c, f in CASES]
    accepted = {f"k{i}" for i, c in enumerate(CASES) if c[2] is ACCEPTED}
    assert set(await UsageEvent.filter(organization_id=world.org).values_list("idempotency_key", flat=True)) == accepted


async def test_day_is_the_utc_day_and_values_are_stored_exactly(world: World) -> None:
    results = await usage.record_usage(world.org, [
        ev(world, "late-evening", timestamp="2026-02-28T23:30:00-01:00", quantity=BIG),  # 00:30 UTC on 1 March
        ev(world, "naive", timestamp="2026-02-10T23:59:59", quantity=BIG, connection_id="conn-1"),
        ev(world, "exp", quantity="1.5E3"),
    ])
    assert [r.status for r in results] == [ACCEPTED] * 3
    rows = {r.idempotency_key: r for r in await UsageEvent.filter(organization_id=world.org)}
    assert rows["late-evening"].day == date(2026, 3, 1)
    assert rows["late-evening"].occurred_at == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    assert rows["naive"].day == date(2026, 2, 10)
    assert rows["naive"].occurred_at == datetime(2026, 2, 10, 23, 59, 59, tzinfo=UTC)
    assert rows["naive"].connection_id == "conn-1"
    assert rows["naive"].quantity == D(BIG)
    assert rows["exp"].quantity == D(1500)
    assert rows["naive"].contract_id == world.c1 and rows["naive"].usage_class_id == world.calls


async def test_exact_totals_of_recorded_usage(world: World) -> None:
    await usage.record_usage(world.org, [ev(world, f"b{i}", quantity=BIG) for i in range(3)])
    totals = await aggregates.usage_totals(world.org, world.c1, date(2026, 2, 1), date(2026, 3, 1))
    assert totals == {world.calls: D("37037036703702.370370367")}


async def test_same_key_twice_in_a_batch(world: World) -> None:
    results = await usage.record_usage(world.org, [ev(world, "a"), ev(world, "a", quantity="5"), ev(world, "b")])
    assert [(r.status, r.code) for r in results] == [(ACCEPTED, None), (DUPLICATE, ErrorCode.DUPLICATE), (ACCEPTED, None)]
    assert await UsageEvent.filter(organization_id=world.org).count() == 2
    assert (await UsageEvent.get(idempotency_key="a")).quantity == D(1)


async def test_a_rejected_first_occurrence_does_not_take_the_key(world: World) -> None:
    results = await usage.record_usage(world.org, [ev(world, "a", quantity="-1"), ev(world, "a", quantity="2")])
    assert [r.status for r in results] == [REJECTED, ACCEPTED]
    assert (await UsageEvent.get(idempotency_key="a")).quantity == D(2)


async def test_idempotency_across_batches_never_counts_twice(world: World) -> None:
    first = await usage.record_usage(world.org, [ev(world, f"k{i}") for i in range(5)])
    assert [r.status for r in first] == [ACCEPTED] * 5
    again = await usage.record_usage(world.org, [ev(world, f"k{i}", quantity="100") for i in range(3, 8)])
    assert [r.status for r in again] == [DUPLICATE, DUPLICATE, ACCEPTED, ACCEPTED, ACCEPTED]
    assert all(r.code is ErrorCode.DUPLICATE for r in again[:2])
    totals = await aggregates.usage_totals(world.org, world.c1, *YEAR)
    assert totals == {world.calls: D(5 + 300)}


async def test_a_stored_key_is_a_duplicate_even_after_its_period_closed(world: World) -> None:
    [first] = await usage.record_usage(world.org, [ev(world, "jan", timestamp="2026-01-20T00:00:00Z")])
    assert first.status is ACCEPTED
    await close_january(world)
    [again] = await usage.record_usage(world.org, [ev(world, "jan", timestamp="2026-01-20T00:00:00Z")])
    assert (again.status, again.code) == (DUPLICATE, ErrorCode.DUPLICATE)


async def test_keys_are_per_organization(world: World) -> None:
    [mine] = await usage.record_usage(world.org, [ev(world, "shared")])
    theirs = UsageEventSpec(quantity="1", timestamp="2026-02-10T00:00:00Z", idempotency_key="shared",
                            contract_id=world.other_contract, usage_class_id=world.other_calls)
    [other] = await usage.record_usage(world.other_org, [theirs])
    assert mine.status is ACCEPTED and other.status is ACCEPTED


async def test_a_full_batch_of_1000(world: World) -> None:
    results = await usage.record_usage(world.org, [ev(world, f"e{i:04}", quantity="0.001") for i in range(1000)])
    assert all(r.status is ACCEPTED for r in results)
    assert await aggregates.usage_totals(world.org, world.c1, *YEAR) == {world.calls: D(1)}


async def test_more_than_1000_events_is_refused_whole(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        await usage.record_usage(world.org, [ev(world, f"e{i}") for i in range(1001)])
    assert [(e.code, e.field) for e in caught.value.errors] == [(ErrorCode.INVALID_INPUT, "events")]
    assert await UsageEvent.filter(organization_id=world.org).count() == 0


async def test_an_empty_batch(world: World) -> None:
    assert await usage.record_usage(world.org, []) == []


async def test_statements_per_batch_do_not_grow_with_its_size(world: World) -> None:
    """Reads are per batch, not per event, and the insert is one statement."""
    def batch(prefix: str, n: int) -> list[UsageEventSpec]:
        out = []
        for i in range(n):
            if i % 3 == 0:
                out.append(ev(world, f"{prefix}{i}", contract_id=None, account_id=world.acme, usage_class_code="gb",
                              usage_class_id=None))
            elif i % 3 == 1:
                out.append(ev(world, f"{prefix}{i}", contract_id=None, account_id=world.beta))
            else:
                out.append(ev(world, f"{prefix}{i}", quantity="-1" if i % 7 == 0 else "2"))
        return out

    counts = []
    for prefix, n in (("small", 6), ("large", 1000)):
        with count_queries() as statements:
            await usage.record_usage(world.org, batch(prefix, n))
        counts.append(len(statements))
        inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) == 1, inserts
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10


# --- one-time charges ----------------------------------------------------------------------------

def charge(w: World, **over: Any) -> OneTimeChargeSpec:
    return replace(OneTimeChargeSpec(contract_id=w.c1, product_id=w.sim, amount=D("49.99"),
                                     service_date=date(2026, 3, 15), idempotency_key="setup-fee",
                                     description="Set-up fee"), **over)


async def test_post_charge_and_replay(world: World) -> None:
    row, created = await one_time_charges.post_charge(world.org, charge(world))
    assert created and row.amount == D("49.99") and row.product_id == world.sim
    again, created_again = await one_time_charges.post_charge(world.org, charge(world))
    assert (again.id, created_again) == (row.id, False)
    with pytest.raises(InvalidInput) as caught:
        await one_time_charges.post_charge(world.org, charge(world, amount=D("50")))
    assert [(e.code, e.field) for e in caught.value.errors] == [(ErrorCode.DUPLICATE, "input.idempotencyKey")]
    assert await OneTimeCharge.filter(organization_id=world.org).count() == 1


async def test_a_charge_replayed_after_its_period_closed_returns_the_stored_one(world: World) -> None:
    row, _ = await one_time_charges.post_charge(world.org, charge(world, service_date=date(2026, 1, 10)))
    await close_january(world)
    again, created = await one_time_charges.post_charge(world.org, charge(world, service_date=date(2026, 1, 10)))
    assert (again.id, created) == (row.id, False)


CHARGE_CASES: list[tuple[str, Any, ErrorCode, str]] = [
    ("negative", lambda w: {"amount": D("-1")}, ErrorCode.INVALID_AMOUNT, "input.amount"),
    ("too precise", lambda w: {"amount": D("1.0000000000001")}, ErrorCode.INVALID_AMOUNT, "input.amount"),
    ("too large", lambda w: {"amount": D("1e25")}, ErrorCode.INVALID_AMOUNT, "input.amount"),
    ("not finite", lambda w: {"amount": D("NaN")}, ErrorCode.INVALID_AMOUNT, "input.amount"),
    ("blank key", lambda w: {"idempotency_key": ""}, ErrorCode.INVALID_INPUT, "input.idempotencyKey"),
    ("long description", lambda w: {"description": "x" * 201}, ErrorCode.INVALID_INPUT, "input.description"),
    ("unknown contract", lambda w: {"contract_id": 10**9}, ErrorCode.NOT_FOUND, "input.contractId"),
    ("another tenant's contract", lambda w: {"contract_id": w.other_contract}, ErrorCode.NOT_FOUND,
     "input.contractId"),
    ("unknown product", lambda w: {"product_id": 10**9}, ErrorCode.NOT_FOUND, "input.productId"),
    ("another tenant's product", lambda w: {"product_id": w.other_calls}, ErrorCode.NOT_FOUND, "input.productId"),
    ("draft contract", lambda w: {"contract_id": w.draft}, ErrorCode.CONTRACT_NOT_ACTIVE, "input.contractId"),
    ("before the term", lambda w: {"service_date": date(2025, 12, 31)}, ErrorCode.DATE_OUTSIDE_TERM,
     "input.serviceDate"),
    ("at the term's end", lambda w: {"service_date": date(2027, 1, 1)}, ErrorCode.DATE_OUTSIDE_TERM,
     "input.serviceDate"),
    ("closed period", lambda w: {"service_date": date(2026, 1, 31)}, ErrorCode.PERIOD_CLOSED, "input.serviceDate"),
]


@pytest.mark.parametrize(("name", "over", "code", "field"), CHARGE_CASES, ids=[c[0] for c in CHARGE_CASES])
async def test_charge_refused(world: World, name: str, over: Any, code: ErrorCode, field: str) -> None:
    await close_january(world)
    with pytest.raises(InvalidInput) as caught:
        await one_time_charges.post_charge(world.org, charge(world, **over(world)))
    assert [(e.code, e.field) for e in caught.value.errors] == [(code, field)]
    assert await OneTimeCharge.filter(organization_id=world.org).count() == 0


async def test_a_charge_may_be_for_any_product_kind(world: World) -> None:
    for i, product in enumerate((world.sim, world.calls)):
        _, created = await one_time_charges.post_charge(world.org, charge(world, product_id=product, idempotency_key=f"c{i}",
                                                               amount=D(0) if i else D(10)))
        assert created


# --- PostgreSQL concurrency ------------------------------------------------------------------------

async def test_concurrent_batches_with_overlapping_keys_store_each_key_once(postgres_only: None, world: World,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    in_flight, peak = 0, 0
    lock_contracts = usage_store.lock_contracts

    async def counted(*args: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            result = await lock_contracts(*args)
            await asyncio.sleep(0.02)  # hold the transaction open so that batches overlap
            return result
        finally:
            in_flight -= 1

    monkeypatch.setattr(usage_store, "lock_contracts", counted)
    # Batch b holds keys b*10 .. b*10+29: every key is in up to three batches, in different orders.
    batches = [[ev(world, f"key{k:04}") for k in (range(b * 10, b * 10 + 30) if b % 2 else
                                                  reversed(range(b * 10, b * 10 + 30)))] for b in range(20)]
    results = await asyncio.gather(*(usage.record_usage(world.org, batch) for batch in batches))
    assert peak >= 2, "the batches did not run concurrently"
    keys = {f"key{k:04}" for k in range(0, 19 * 10 + 30)}
    accepted = [batch[r.index].idempotency_key for batch, rs in zip(batches, results, strict=True)
                for r in rs if r.status is ACCEPTED]
    assert sorted(accepted) == sorted(keys)
    assert all(r.status in (ACCEPTED, DUPLICATE) for rs in results for r in rs)
    assert await UsageEvent.filter(organization_id=world.org).count() == len(keys)
    assert await aggregates.usage_totals(world.org, world.c1, *YEAR) == {world.calls: D(len(keys))}


async def test_a_batch_waits_for_a_concurrent_close_and_then_refuses_its_period(postgres_only: None,
                                                                                world: World) -> None:
    """A close holds FOR UPDATE on the contract: the batch waits, then sees the period CLOSED."""
    locked, release = asyncio.Event(), asyncio.Event()

    async def close() -> None:
        async with in_transaction():
            await Contract.filter(id=world.c1).select_for_update().first()
            await BillingPeriod.filter(contract_id=world.c1, number=1).update(status="CLOSED")
            locked.set()
            await release.wait()

    closing = asyncio.create_task(close())
    await locked.wait()
    recording = asyncio.create_task(usage.record_usage(world.org, [ev(world, "late", timestamp="2026-01-31T10:00:00Z"),
                                                                   ev(world, "feb")]))
    done, _ = await asyncio.wait({recording}, timeout=0.3)
    assert not done, "the batch must wait for the close's lock"
    release.set()
    await closing
    late, feb = await recording
    assert (late.status, late.code) == (REJECTED, ErrorCode.PERIOD_CLOSED)
    assert feb.status is ACCEPTED


async def test_a_product_with_usage_cannot_be_deleted(world: World) -> None:
    """usage_event has no foreign keys on PostgreSQL (migration 0007): the service keeps the reference."""
    await UsageEvent.create(organization_id=world.org, contract_id=world.c1, usage_class_id=world.sms,
                            quantity=D(1), occurred_at=datetime(2026, 2, 1, tzinfo=UTC), day=date(2026, 2, 1),
                            idempotency_key="direct")
    with pytest.raises(InvalidInput) as raised:
        await products.delete_product(world.org, world.sms)
    assert raised.value.errors[0].code is ErrorCode.IN_USE
    assert await UsageEvent.filter(organization_id=world.org, usage_class_id=world.sms).count() == 1
