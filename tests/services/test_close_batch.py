"""The batched due close (``close_batch.close_chunk``): a fixed number of statements per chunk, the
same results as ``closePeriod`` one period at a time, one contract's failure kept to itself, and a
chunk closed twice closes nothing twice."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from app.billing import close as core
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import PaymentTiming
from app.db.models import BillingPeriod, Contract, Invoice, PeriodUsage
from app.services import close_batch, close_writes, closing
from app.services.close_batch import close_chunk, period_ends, plan_chunks, rounds
from tests.api.helpers import count_queries
from tests.services.close_batch_data import (
    D,
    FEB,
    JAN,
    Org,
    account,
    add_contract,
    new_org,
    snapshot,
    spend,
    two_months,
    varied_org,
)

AS_OF = date(2100, 1, 1)


class _Undo(Exception):
    """Raised to roll back a close made only to look at what it wrote."""


async def closed_then_undone(org_id: int, close: Any) -> dict[str, Any]:
    """What ``close()`` writes, seen inside a transaction that is then rolled back."""
    seen: dict[str, Any] = {}
    try:
        async with in_transaction():
            await close()
            seen.update(await snapshot(org_id))
            raise _Undo
    except _Undo:
        pass
    return seen


async def test_a_chunk_writes_what_close_period_writes_one_by_one(db: str) -> None:
    org = await varied_org("Same")
    before = await snapshot(org.id)
    targets = two_months(org)

    ends = await period_ends(org.id, targets)

    async def one_by_one() -> None:  # in the chunk's order: every January, then every February
        for round_ in rounds(targets, ends):
            for contract_id, start in round_:
                await closing.close_period(org.id, contract_id, start)

    single = await closed_then_undone(org.id, one_by_one)
    assert await snapshot(org.id) == before  # undone
    report = await close_chunk(org.id, targets, AS_OF)
    assert (report.closed, report.already_closed, report.failures) == (len(targets), 0, ())
    batched = await snapshot(org.id)
    assert batched == single
    # the data exercises what it should: the shared balance drawn by both contracts, an ended contract
    balance = [p for p in batched["pools"] if p[1] == "BALANCE" and p[0] in {q[12] for q in batched["lines"]}]
    assert len({e[6] for e in batched["entries"] if e[0] in {b[0] for b in balance} and e[1] == "CONSUME"}) >= 3
    assert ("ENDED" in {s for _, s in batched["contracts"]}) and len(batched["invoices"]) == len(targets)


async def chunk_of(n: int) -> Org:
    """``n`` contracts of one shape: each its own account with a balance, prepaid and postpaid pools."""
    org = await new_org(f"N{n}")
    for i in range(n):
        contract = await add_contract(org, await account(org, f"A{i}", balance="25"),
                                      spend("Prepaid", PaymentTiming.PREPAID, "100", amount_prepaid=D(100)),
                                      spend("Postpaid", PaymentTiming.POSTPAID, "300"))
        await org.use(contract, org.mb, "140", date(2026, 1, 9))
        await org.use(contract, org.gb, "10", date(2026, 1, 9))
    return org


async def test_a_chunk_costs_the_same_statements_for_5_contracts_as_for_50(db: str) -> None:
    counts = []
    for n in (5, 50):
        org = await chunk_of(n)
        with count_queries() as statements:
            report = await close_chunk(org.id, [(cid, JAN) for cid in org.contracts], AS_OF)
        assert (report.closed, report.failures) == (n, ())
        assert await Invoice.filter(organization_id=org.id).count() == n
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 40, counts


async def test_a_contract_whose_billing_core_fails_is_reported_and_the_others_close(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await chunk_of(3)
    bad = org.contracts[1]
    calls = []

    def failing_second(data: core.CloseInput) -> core.CloseResult:
        calls.append(data)
        if len(calls) == 2:  # contracts go in id order: the second is ``bad``
            raise BillingError(BillingErrorCode.INVALID_PERIOD, "refused for the test", "period")
        return core.close_period(data)

    monkeypatch.setattr(close_batch, "core_close", failing_second)
    targets = [(cid, start) for cid in org.contracts for start in (JAN, FEB)]
    report = await close_chunk(org.id, targets, AS_OF)
    assert report.closed == 4 and report.already_closed == 0
    assert [(f.contract_id, f.period_start, f.code) for f in report.failures] == [(bad, JAN, "INVALID_PERIOD")]
    assert await BillingPeriod.filter(contract_id=bad, status="CLOSED").count() == 0  # February too stays open
    assert await Invoice.filter(organization_id=org.id).count() == 4


async def test_a_database_error_in_one_contracts_write_is_reported_and_the_others_close(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk write fails on a real SQL error (PostgreSQL aborts the transaction): the savepoint
    is rolled back and the contracts are closed one by one; only the faulty one fails."""
    org = await chunk_of(3)
    bad = org.contracts[1]
    real = close_writes.insert_rows

    async def failing_for_bad(model: Any, rows: Any) -> None:
        if model is PeriodUsage and any(r["contract_id"] == bad for r in rows):
            await connections.get("default").execute_query("SELECT * FROM no_such_table_for_the_test")
        await real(model, rows)

    monkeypatch.setattr(close_writes, "insert_rows", failing_for_bad)
    targets = [(cid, start) for cid in org.contracts for start in (JAN, FEB)]
    report = await close_chunk(org.id, targets, AS_OF)
    assert [(f.contract_id, f.period_start, f.code) for f in report.failures] == [(bad, JAN, "INTERNAL_ERROR")]
    assert report.closed == 4
    assert sorted(await Invoice.filter(organization_id=org.id).values_list("contract_id", flat=True)) == sorted(
        [c for c in org.contracts if c != bad] * 2)
    assert await BillingPeriod.filter(contract_id=bad, status="CLOSED").count() == 0
    assert await PeriodUsage.filter(contract_id=bad).count() == 0


async def test_a_chunk_closed_twice_closes_nothing_twice(db: str) -> None:
    org = await varied_org("Twice")
    targets = two_months(org)
    first = await close_chunk(org.id, targets, AS_OF)
    after_first = await snapshot(org.id)
    second = await close_chunk(org.id, targets, AS_OF)
    assert (first.closed, first.already_closed) == (len(targets), 0)
    assert (second.closed, second.already_closed, second.failures) == (0, len(targets), ())
    assert await snapshot(org.id) == after_first


async def test_two_callers_of_one_chunk_add_up_to_it(db: str, postgres_only: None) -> None:
    org = await chunk_of(6)
    targets = [(cid, start) for cid in org.contracts for start in (JAN, FEB)]
    reports = await asyncio.gather(close_chunk(org.id, targets, AS_OF), close_chunk(org.id, targets, AS_OF))
    assert sum(r.closed for r in reports) == len(targets)
    assert sum(r.already_closed for r in reports) == len(targets)
    assert all(r.failures == () for r in reports)
    assert await Invoice.filter(organization_id=org.id).count() == len(targets)


async def test_a_due_close_keeps_the_rules_of_close_period(db: str) -> None:
    """A contract that is not ACTIVE/ENDED, and a period asked for out of order, fail as closePeriod does."""
    org = await chunk_of(3)
    draft_like, skipped = org.contracts[0], org.contracts[2]
    await Contract.filter(id=draft_like).update(status="CANCELLED")
    report = await close_chunk(org.id, [(draft_like, JAN), (org.contracts[1], JAN), (skipped, FEB)], AS_OF)
    assert report.closed == 1
    assert sorted((f.contract_id, f.code) for f in report.failures) == [
        (draft_like, "CONTRACT_NOT_ACTIVE"), (skipped, "EARLIER_PERIOD_OPEN")]


def test_rounds_take_every_contracts_next_period_in_turn() -> None:
    targets = [(2, JAN), (2, FEB), (1, JAN), (3, JAN), (3, FEB)]
    ends = {(c, JAN): FEB for c in (1, 2, 3)} | {(c, FEB): date(2026, 3, 1) for c in (1, 2, 3)}
    assert rounds(targets, ends) == [[(1, JAN), (2, JAN), (3, JAN)], [(2, FEB), (3, FEB)]]
    assert plan_chunks(targets, size=2) == [[(2, JAN), (2, FEB), (1, JAN)], [(3, JAN), (3, FEB)]]


def test_rounds_follow_the_ends_of_the_periods_not_their_rank() -> None:
    """A contract catching up on October and November closes them before a sibling's December: a
    balance of their account that ends on 30 November must pay November before December's close
    expires it. (Rounds by rank put contract 1's October beside contract 2's December.)"""
    oct_, nov, dec, jan = date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)
    targets = [(1, oct_), (1, nov), (1, dec), (2, dec)]
    ends = {(1, oct_): nov, (1, nov): dec, (1, dec): jan, (2, dec): jan}
    assert rounds(targets, ends) == [[(1, oct_)], [(1, nov)], [(1, dec), (2, dec)]]


def test_an_accounts_contracts_stay_in_one_chunk() -> None:
    """Chunks run on several workers at once: only one of them may draw on an account's balances."""
    targets = [(1, JAN), (2, JAN), (3, JAN), (4, JAN), (5, JAN)]
    account_of = {1: 10, 2: 20, 3: 10, 4: 20, 5: 30}
    assert plan_chunks(targets, size=2, account_of=account_of) == [
        [(1, JAN), (3, JAN)], [(2, JAN), (4, JAN)], [(5, JAN)]]
    one_account = {c: 10 for c in range(1, 6)}  # up to ACCOUNT_CHUNKS x size, then cut even so
    assert [len(c) for c in plan_chunks(targets, size=1, account_of=one_account)] == [4, 1]


async def test_a_database_outage_is_raised_for_a_retry_not_blamed_on_the_contracts(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await chunk_of(3)

    async def unreachable(model: Any, rows: Any) -> None:
        raise ConnectionRefusedError("the database went away")

    monkeypatch.setattr(close_writes, "insert_rows", unreachable)
    targets = [(cid, JAN) for cid in org.contracts]
    with pytest.raises(ConnectionRefusedError):
        await close_chunk(org.id, targets, AS_OF)
    monkeypatch.undo()
    assert await BillingPeriod.filter(organization_id=org.id, status="CLOSED").count() == 0
    report = await close_chunk(org.id, targets, AS_OF)  # the job's retry
    assert (report.closed, report.failures) == (3, ())
