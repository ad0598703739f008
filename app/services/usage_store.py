"""The SQL of usage ingestion: stored keys, the contract lock, closed periods and the insert.

Every function takes the connection of the caller's transaction, so that a batch's statements run
on one pool connection (STACK-NOTES: a statement outside a transaction borrows a connection and
asyncpg resets it on release, 7 of the 18 round trips of a batch were such resets).

PostgreSQL statements have ONE fixed text whatever the batch size (arrays, ``= ANY($n)`` and
``unnest``): asyncpg caches the prepared statement, where a 9,000-parameter ``VALUES`` list was
re-prepared for every batch (asyncpg does not cache a statement text over 15 KiB). SQLite keeps
multi-row ``VALUES`` (it has no arrays), in chunks under its 32,766-variable limit.

Why ``unnest`` and not COPY into a staging table then ``INSERT ... SELECT``: measured here on
batches of 5,000 new events (PostgreSQL 15, no foreign keys on usage_event, load ~2), the unnest
insert stored 90k rows/s and COPY + INSERT ... SELECT 84k rows/s: the staging table is written
once more for nothing, and the ``ON CONFLICT ... RETURNING`` insert is needed either way.

The lock: ``FOR SHARE`` on the involved contracts. A close takes ``FOR UPDATE`` on the contract, so
a batch either waits for the close (and then sees the period CLOSED) or the close waits for the
batch. (``FOR KEY SHARE`` would conflict with a close's explicit ``FOR UPDATE`` too, but not with
a plain ``UPDATE contract`` that takes no explicit lock; see bench/README.md "Two workers".)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

SQLITE_MAX_VARIABLES = 32766
EVENT_COLUMNS = ("organization_id", "contract_id", "usage_class_id", "quantity", "occurred_at", "day",
                 "idempotency_key", "connection_id", "created_at")
# The per-event values of a row, in EVENT_COLUMNS order without organization_id and created_at.
EventRow = tuple[int, int, Decimal, datetime, date, str, str | None]

# One probe of the unique (organization_id, idempotency_key) index per key, whatever the planner's
# statistics: ``idempotency_key = ANY($2)`` was planned as a scan of the organization's rows with a
# filter while the table grew faster than autovacuum analyzed it (120 ms per 1,000 keys at
# 1,000,000 rows, instead of 2 ms); a LATERAL ... LIMIT 1 runs once per key.
_PG_KEYS = ("SELECT k AS idempotency_key FROM unnest($2::text[]) AS k, LATERAL (SELECT 1 FROM usage_event e"
            " WHERE e.organization_id = $1 AND e.idempotency_key = k LIMIT 1) AS hit")
_PG_INSERT = (
    "INSERT INTO usage_event (organization_id, contract_id, usage_class_id, quantity, occurred_at, day,"
    " idempotency_key, connection_id, created_at)"
    " SELECT $1, c, u, q::numeric, o, d, k, n, $2 FROM unnest($3::int[], $4::int[], $5::text[], $6::timestamptz[],"
    " $7::date[], $8::text[], $9::text[]) AS t(c, u, q, o, d, k, n)"
    " ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING idempotency_key")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return str(conn.capabilities.dialect) == "postgres"


def _sqlite_chunks(items: Sequence[Any], width: int, fixed: int = 1) -> list[Sequence[Any]]:
    size = max(1, (SQLITE_MAX_VARIABLES - fixed) // width)
    return [items[i:i + size] for i in range(0, len(items), size)]


async def stored_keys(conn: BaseDBAsyncClient, org_id: int, keys: Sequence[str]) -> set[str]:
    """The keys of ``keys`` already stored for the organization."""
    if not keys:
        return set()
    if is_postgres(conn):
        return {r["idempotency_key"] for r in await conn.execute_query_dict(_PG_KEYS, [org_id, list(keys)])}
    found: set[str] = set()
    for chunk in _sqlite_chunks(keys, 1):
        sql = (f"SELECT idempotency_key FROM usage_event WHERE organization_id = ?"
               f" AND idempotency_key IN ({', '.join('?' * len(chunk))})")
        found.update(r["idempotency_key"] for r in await conn.execute_query_dict(sql, [org_id, *chunk]))
    return found


async def lock_contracts(conn: BaseDBAsyncClient, org_id: int, contract_ids: Sequence[int],
                         *, exclusive: bool = False) -> dict[int, str]:
    """Status of each contract, read under ``FOR SHARE`` on PostgreSQL (a close holds ``FOR UPDATE``;
    ``exclusive`` takes ``FOR UPDATE`` too, for writers that number rows per contract).
    SQLite has one writer at a time: a plain read in the transaction is enough there."""
    ids = sorted(set(contract_ids))
    if not ids:
        return {}
    if is_postgres(conn):
        sql = ("SELECT id, status FROM contract WHERE organization_id = $1 AND id = ANY($2::int[])"
               f" ORDER BY id FOR {'UPDATE' if exclusive else 'SHARE'}")
        values: list[Any] = [org_id, ids]
    else:
        sql = f"SELECT id, status FROM contract WHERE organization_id = ? AND id IN ({', '.join('?' * len(ids))})"
        values = [org_id, *ids]
    _, rows = await conn.execute_query(sql, values)
    return {int(r["id"]): str(r["status"]) for r in rows}


async def closed_periods(conn: BaseDBAsyncClient, org_id: int,
                         contract_ids: Sequence[int]) -> dict[int, list[tuple[date, date]]]:
    """The CLOSED billing periods [start, end) of each contract."""
    closed: dict[int, list[tuple[date, date]]] = defaultdict(list)
    ids = sorted(set(contract_ids))
    if not ids:
        return closed
    if is_postgres(conn):
        sql = ("SELECT contract_id, start_date, end_date FROM billing_period WHERE organization_id = $1"
               " AND contract_id = ANY($2::int[]) AND status = 'CLOSED'")
        values: list[Any] = [org_id, ids]
    else:
        sql = ("SELECT contract_id, start_date, end_date FROM billing_period WHERE organization_id = ?"
               f" AND contract_id IN ({', '.join('?' * len(ids))}) AND status = 'CLOSED'")
        values = [org_id, *ids]
    for r in await conn.execute_query_dict(sql, values):
        start, end = r["start_date"], r["end_date"]
        if isinstance(start, str):  # SQLite answers dates as text
            start, end = date.fromisoformat(start), date.fromisoformat(end)
        closed[int(r["contract_id"])].append((start, end))
    return closed


def in_closed(closed: dict[int, list[tuple[date, date]]], contract_id: int, day: date) -> bool:
    return closed_span(closed, contract_id, day) is not None


def closed_span(closed: dict[int, list[tuple[date, date]]], contract_id: int, day: date) -> tuple[date, date] | None:
    """The closed period ``[start, end)`` of the contract holding ``day``, if any."""
    return next(((start, end) for start, end in closed.get(contract_id, ()) if start <= day < end), None)


async def insert_events(conn: BaseDBAsyncClient, org_id: int, rows: Sequence[EventRow],
                        created_at: datetime) -> set[str]:
    """Insert ``rows`` ignoring stored keys; the keys actually inserted (a key not returned was
    stored concurrently). PostgreSQL: one fixed-text ``INSERT ... SELECT ... FROM unnest(...)``."""
    if not rows:
        return set()
    if is_postgres(conn):
        contracts, classes, quantities, occurred, days, keys, connections = zip(*rows, strict=True)
        # Quantities go as text: asyncpg's binary numeric encoder costs more than str() and the cast.
        conn.log.debug("%s: %s", _PG_INSERT, f"[{len(rows)} rows]")  # as Tortoise logs its statements
        async with conn.acquire_connection() as raw:  # asyncpg's records as they come: no dict per row
            result = await raw.fetch(_PG_INSERT, org_id, created_at, list(contracts), list(classes),
                                     [str(q) for q in quantities], list(occurred), list(days), list(keys),
                                     list(connections))
        return {r[0] for r in result}
    inserted: set[str] = set()
    row = "(" + ", ".join("?" * len(EVENT_COLUMNS)) + ")"
    for chunk in _sqlite_chunks(rows, len(EVENT_COLUMNS), 0):
        sql = (f"INSERT INTO usage_event ({', '.join(EVENT_COLUMNS)}) VALUES {', '.join([row] * len(chunk))}"
               " ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING idempotency_key")
        values = [v for r in chunk for v in (org_id, *r, created_at)]
        inserted.update(r["idempotency_key"] for r in await conn.execute_query_dict(sql, values))
    return inserted
