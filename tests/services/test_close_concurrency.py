"""On PostgreSQL: concurrent closes give one invoice; a close cut off part-way leaves no trace."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import pytest
from tortoise import connections

from app.db.models import BillingPeriod, Invoice, InvoiceLine, LedgerEntry, RatedCharge
from app.services import activation, close_writes, closing
from app.services.errors import InvalidInput
from tests.services.test_closing import setup, use


async def test_ten_concurrent_closes_of_one_period_write_one_invoice(db: str, postgres_only: None) -> None:
    org, _, contract, usage = await setup(None)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "7")
    results = await asyncio.gather(
        *(closing.close_period(org, contract, date(2026, 1, 1)) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, Invoice) for r in results), results
    assert len({r.id for r in results}) == 1  # type: ignore[union-attr]
    assert await Invoice.all().count() == 1
    assert await RatedCharge.all().count() == 1


async def test_a_close_killed_part_way_leaves_nothing(db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    org, _, contract, usage = await setup(None)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "7")
    entries_before = await LedgerEntry.all().count()
    real_insert = close_writes.insert_rows

    async def killed(model: object, rows: object) -> None:
        if model is not InvoiceLine:
            return await real_insert(model, rows)  # type: ignore[arg-type]
        # The invoice row is written; now the server drops this connection mid-transaction.
        database = connections.get("default").database  # type: ignore[attr-defined]
        admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database=database)
        try:  # another connection terminates the one the close is writing on
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        finally:
            await admin.close()
        await real_insert(model, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(close_writes, "insert_rows", killed)
    with pytest.raises(Exception):  # noqa: B017 - the driver's error for a dead connection
        await closing.close_period(org, contract, date(2026, 1, 1))
    monkeypatch.setattr(close_writes, "insert_rows", real_insert)
    assert await Invoice.all().count() == 0
    assert await LedgerEntry.all().count() == entries_before
    assert await BillingPeriod.filter(status="CLOSED").count() == 0
    invoice = await closing.close_period(org, contract, date(2026, 1, 1))  # and it closes cleanly afterwards
    assert invoice.total > 0


async def test_closing_a_draft_is_refused(db: str) -> None:
    org, _, contract, _ = await setup(None)
    with pytest.raises(InvalidInput) as refused:
        await closing.close_period(org, contract)
    assert refused.value.errors[0].code.value == "CONTRACT_NOT_ACTIVE"
