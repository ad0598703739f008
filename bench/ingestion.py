"""Usage ingestion: ``record_usage`` in batches of 1,000 events vs the driver's raw executemany.

Measured: ``app.services.usage.record_usage`` over ``batches`` batches of 1,000 new events on one
ACTIVE contract (10 usage classes, events spread over the year): parsing, validation, the lookups,
the contract lock and its one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch.
Floor: the same rows (same columns, values already parsed) inserted by the driver's own
``executemany`` of a one-row ``INSERT ... VALUES``, one transaction per 1,000 rows (asyncpg on
PostgreSQL, sqlite3 via the aiosqlite connection on SQLite). Repetitions alternate between the two
so that both see a table of the same size; the median of each is kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.clock import utc_now
from app.services import accounts, activation
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import ContractSpec
from app.services.usage import EventStatus, UsageEventSpec, record_usage
from bench.common import (
    MONTHLY,
    YEAR,
    Result,
    fresh_database,
    median,
    per_unit_prices,
    raw_executemany,
    say,
    timed,
    usage_classes,
    usage_insert_sql,
)

BATCH = 1000
PLACES = Decimal(1).scaleb(-12)


async def _setup() -> tuple[int, int, list[int]]:
    org, _ = await create_organization("Bench ingestion", "USD")
    classes = await usage_classes(org.id, 10)
    account = await accounts.create_account(org.id, accounts.AccountSpec(name="Ingest"))
    contract = await create_contract(org.id, ContractSpec(
        account_id=account.id, name="Ingest", currency="USD", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=MONTHLY, prices=per_unit_prices(classes)))
    await activation.activate_contract(org.id, contract.id)
    return org.id, contract.id, classes


def _event(prefix: str, n: int, classes: list[int]) -> tuple[str, str, datetime, int]:
    """(key, quantity, timestamp, usage class) of the n-th event of a series."""
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=(n * 7919) % (364 * 86400))
    return f"{prefix}-{n:08d}", f"{(n % 997) + 1}.{n % 1000:03d}", at, classes[n % len(classes)]


async def run(db: str, quick: bool) -> Result:
    batches, reps = (4, 3) if quick else (20, 3)
    events = batches * BATCH
    async with fresh_database(db):
        org, contract, classes = await _setup()
        sql = usage_insert_sql()
        measured, floor = [], []
        # warm-up (caches, prepared statements, first pages of the table), not measured
        warm = [UsageEventSpec(quantity=q, timestamp=at.isoformat(), idempotency_key=key, contract_id=contract,
                               usage_class_id=cls) for key, q, at, cls in (_event("warm", i, classes) for i in range(BATCH))]
        await record_usage(org, warm)
        await raw_executemany(sql, [(org, contract, cls, Decimal(q).quantize(PLACES), at, at.date(), key, None, utc_now())
                                    for key, q, at, cls in (_event("warmraw", i, classes) for i in range(BATCH))])
        for rep in range(reps):
            specs = []
            for b in range(batches):
                specs.append([
                    UsageEventSpec(quantity=q, timestamp=at.isoformat(), idempotency_key=key,
                                   contract_id=contract, usage_class_id=cls)
                    for key, q, at, cls in (_event(f"svc{rep}", b * BATCH + i, classes) for i in range(BATCH))])
            now = utc_now()
            rows = []
            for b in range(batches):
                rows.append([
                    (org, contract, cls, Decimal(q).quantize(PLACES), at, at.date(), key, None, now)
                    for key, q, at, cls in (_event(f"raw{rep}", b * BATCH + i, classes) for i in range(BATCH))])

            async def service() -> int:
                accepted = 0
                for batch in specs:
                    results = await record_usage(org, batch)
                    accepted += sum(r.status is EventStatus.ACCEPTED for r in results)
                return accepted

            async def raw() -> None:
                for batch in rows:
                    await raw_executemany(sql, batch)

            # alternate which goes first, so neither always meets the smaller table
            order = [("service", service), ("raw", raw)] if rep % 2 == 0 else [("raw", raw), ("service", service)]
            for label, fn in order:
                seconds, value = await timed(fn)
                if label == "service":
                    if value != events:
                        raise AssertionError(f"record_usage accepted {value} of {events} events")
                    measured.append(seconds)
                else:
                    floor.append(seconds)
            say(f"rep {rep + 1}: record_usage {events / measured[-1]:,.0f} ev/s, "
                f"executemany {events / floor[-1]:,.0f} ev/s")
        result = Result(f"ingestion ({batches}x{BATCH} events)", db, median(measured), median(floor),
                        unit="ev/s", events=events)
        result.notes.append(f"record_usage {events / result.measured:,.0f} events/s vs raw executemany "
                            f"{events / result.floor:,.0f} events/s: {result.ratio:.1f}x the floor's time")
        return result
