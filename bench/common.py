"""Shared pieces of the benchmarks: a fresh database per benchmark, timing, results, raw inserts."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tortoise import connections

from app.billing.terms import Frequency, PricingModel, ProductKind
from app.db.config import close_db, init_db
from app.db.migrate import apply_migrations

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
DBS = ("sqlite", "postgres")
YEAR = (date(2026, 1, 1), date(2027, 1, 1))


@dataclass
class Result:
    """One benchmark on one database. ``measured`` and ``floor`` are seconds for the same work;
    ``ratio`` = measured / floor (how many times the floor the real path costs)."""

    name: str
    db: str
    measured: float
    floor: float
    unit: str = "ms"  # "ms": shown as milliseconds; "ev/s": shown as ``events`` / seconds
    events: int = 0
    notes: list[str] = field(default_factory=list)

    def shown(self, seconds: float) -> str:
        if self.unit == "ev/s":
            return f"{self.events / seconds:,.0f} ev/s"
        return f"{seconds * 1000:.1f} ms"

    @property
    def ratio(self) -> float:
        return self.measured / self.floor


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = await fn()
    return time.perf_counter() - start, value


def say(message: str) -> None:
    print(f"  {message}", flush=True)


@asynccontextmanager
async def fresh_database(kind: str) -> AsyncIterator[str]:
    """A new empty database with the real migrations applied and Tortoise initialised on it.

    SQLite: a file in a temporary folder. PostgreSQL: ``bench_<hex>``, created here and dropped at
    the end (connections closed first, so nothing keeps the interpreter alive).
    """
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            url = f"sqlite://{Path(folder) / 'bench.sqlite3'}"
            await apply_migrations(url)
            await init_db(url)
            try:
                yield url
            finally:
                await close_db()
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"{POSTGRES_URL}/{name}"
    try:
        await apply_migrations(url)
        await init_db(url)
        try:
            yield url
        finally:
            await close_db()
    finally:
        admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def client() -> Any:
    return connections.get("default")


def is_postgres() -> bool:
    return str(client().capabilities.dialect) == "postgres"


def placeholders(width: int) -> str:
    if is_postgres():
        return ", ".join(f"${i + 1}" for i in range(width))
    return ", ".join("?" * width)


async def raw_executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """The driver's own executemany, in one transaction, on Tortoise's connection: asyncpg's on
    PostgreSQL, sqlite3's (through aiosqlite) on SQLite. Decimal/date/datetime go in as they are
    (Tortoise registers the same sqlite3 adapters it uses itself)."""
    db = client()
    async with db.acquire_connection() as con:
        if is_postgres():
            async with con.transaction():
                await con.executemany(sql, rows)
        else:
            await con.execute("BEGIN")
            try:
                await con.executemany(sql, rows)
            except Exception:
                await con.rollback()
                raise
            await con.commit()


USAGE_COLUMNS = ("organization_id", "contract_id", "usage_class_id", "quantity", "occurred_at", "day",
                 "idempotency_key", "connection_id", "created_at")


def usage_insert_sql() -> str:
    return (f"INSERT INTO usage_event ({', '.join(USAGE_COLUMNS)}) "
            f"VALUES ({placeholders(len(USAGE_COLUMNS))})")


async def usage_classes(org_id: int, n: int) -> list[int]:
    from app.services import products

    ids = []
    for i in range(n):
        spec = products.ProductSpec(f"usage-{i}", f"Usage class {i}", ProductKind.USAGE_CLASS, "unit")
        ids.append((await products.create_product(org_id, spec)).id)
    return ids


def per_unit_prices(class_ids: Sequence[int], amount: str = "0.01") -> tuple[Any, ...]:
    from app.services.specs import PriceSpec

    return tuple(PriceSpec(c, PricingModel.PER_UNIT, Decimal(amount)) for c in class_ids)


MONTHLY = Frequency.MONTHLY


def table(results: Sequence[Result]) -> str:
    head = ("benchmark", "db", "measured", "floor", "ratio")
    rows = [(r.name, r.db, r.shown(r.measured), r.shown(r.floor), f"{r.ratio:.1f}x") for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)
