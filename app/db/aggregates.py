"""Exact sums of usage quantities in the database, on PostgreSQL and on SQLite.

PostgreSQL's ``SUM`` over ``numeric`` is exact. SQLite stores Tortoise's DecimalField as text and its
``SUM`` runs in floating point (3 × 12345678901234.123456789 comes back as …702.3671875), so on
SQLite the sums use ``decimal_sum``, an exact aggregate registered on the connection by
``ensure_sqlite_functions``. Raw events never travel to Python: one statement returns the totals.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

CONNECTION = "default"
_MARKER = "_billing_sqlite_functions"
# Wide enough for any sum of NUMERIC(32, 12) values the service can hold: nothing is ever rounded.
_EXACT = decimal.Context(prec=100, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


class DecimalSum:
    """SQLite aggregate ``decimal_sum(x)``: the exact decimal sum of x as text, NULL over no rows.

    It runs on aiosqlite's thread, whose decimal context is not the application's: every operation
    uses an explicit, wide context.
    """

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is None:
            return
        amount = Decimal(str(value))
        self.total = amount if self.total is None else _EXACT.add(self.total, amount)

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


def client(conn: BaseDBAsyncClient | None = None) -> BaseDBAsyncClient:
    """The given client, else the current one (a transaction's when inside ``in_transaction``)."""
    return conn if conn is not None else connections.get(CONNECTION)


def dialect(conn: BaseDBAsyncClient | None = None) -> str:
    """``postgres`` or ``sqlite``."""
    return str(client(conn).capabilities.dialect)


async def ensure_sqlite_functions(conn: BaseDBAsyncClient | None = None) -> None:
    """Register ``decimal_sum`` on the SQLite connection; a no-op on PostgreSQL.

    Safe to call any number of times: the aiosqlite connection is marked once registered. Tortoise's
    SQLite client holds one connection and re-creates it lazily after a close, so callers of the
    aggregate queries call this first (it costs no round trip once registered).
    """
    db = client(conn)
    if db.capabilities.dialect != "sqlite":
        return
    async with db.acquire_connection() as raw:
        if getattr(raw, _MARKER, False):
            return
        await raw._execute(raw._conn.create_aggregate, "decimal_sum", 1, DecimalSum)
        setattr(raw, _MARKER, True)


def exact(value: Any) -> Decimal:
    """A database total as an exact Decimal without trailing zeros or exponent notation."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    normalized = _EXACT.normalize(amount)
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1), context=_EXACT)
    return normalized


class _Sql:
    """Placeholders and the exact sum for one dialect."""

    def __init__(self, dialect_name: str) -> None:
        self.postgres = dialect_name == "postgres"
        self.values: list[Any] = []

    def param(self, value: Any, cast: str | None = None) -> str:
        self.values.append(value)
        if not self.postgres:
            return "?"
        return f"${len(self.values)}::{cast}" if cast else f"${len(self.values)}"

    def total(self, column: str) -> str:
        return f"SUM({column})" if self.postgres else f"decimal_sum({column})"


async def usage_totals(org_id: int, contract_id: int, start: date, end: date) -> dict[int, Decimal]:
    """usage_class_id → exact total quantity of the contract's events on days [start, end)."""
    db = client()
    await ensure_sqlite_functions(db)
    q = _Sql(db.capabilities.dialect)
    sql = (
        f"SELECT usage_class_id, {q.total('quantity')} AS total FROM usage_event"
        f" WHERE organization_id = {q.param(org_id)} AND contract_id = {q.param(contract_id)}"
        f" AND day >= {q.param(start)} AND day < {q.param(end)}"
        " GROUP BY usage_class_id"
    )
    _, rows = await db.execute_query(sql, q.values)
    return {int(r["usage_class_id"]): exact(r["total"]) for r in rows}


async def usage_totals_by_period(
    org_id: int, contract_id: int, periods: Sequence[tuple[date, date]]
) -> dict[tuple[int, date], Decimal]:
    """(usage_class_id, period start) → exact total over each period [start, end), one statement:
    ``usage_totals_by_contract_period`` for one contract."""
    totals = await usage_totals_by_contract_period(org_id, [(contract_id, start, end) for start, end in periods])
    return {(usage_class, start): total for (_, usage_class, start), total in totals.items()}


PERIODS_CHUNK = 2000
"""(contract, period) rows per statement in ``usage_totals_by_contract_period`` (4 parameters each:
8,000, under SQLite's 32,766 and PostgreSQL's 32,767)."""


async def usage_totals_by_contract_period(
    org_id: int, periods: Sequence[tuple[int, date, date]]
) -> dict[tuple[int, int, date], Decimal]:
    """(contract_id, usage_class_id, period start) → exact total of the contract's events over each
    of its periods [start, end): one statement for up to ``PERIODS_CHUNK`` periods of any number of
    contracts (the live windows of every contract of a request).

    The periods are joined as an inline table, so a contract's periods may overlap (each counts its
    own days). A period with no events has no key. The same period given twice counts once; two
    periods of one contract with the same start and different ends are a ValueError (the key could
    not tell them apart).
    """
    unique: dict[tuple[int, date], date] = {}
    for contract_id, start, end in periods:
        if unique.setdefault((contract_id, start), end) != end:
            raise ValueError(f"two periods of contract {contract_id} start on {start} with different ends")
    items = list(unique.items())
    out: dict[tuple[int, int, date], Decimal] = {}
    for at in range(0, len(items), PERIODS_CHUNK):
        out.update(await _periods_chunk(org_id, items[at:at + PERIODS_CHUNK]))
    return out


async def _periods_chunk(
    org_id: int, items: Sequence[tuple[tuple[int, date], date]]
) -> dict[tuple[int, int, date], Decimal]:
    db = client()
    await ensure_sqlite_functions(db)
    q = _Sql(db.capabilities.dialect)
    # Parameters are added in the order they appear in the text (SQLite's ? are positional).
    rows_sql = ", ".join(
        f"({q.param(i, 'int')}, {q.param(cid, 'int')}, {q.param(start, 'date')}, {q.param(end, 'date')})"
        for i, ((cid, start), end) in enumerate(items)
    )
    # VALUES columns are column1.. on both databases; a VALUES list has no compound-SELECT limit.
    # Joined on (contract_id, day), the index on usage_event (contract_id, day, usage_class_id) serves
    # each period with a range scan.
    sql = (
        f"SELECT p.pi, e.usage_class_id, {q.total('e.quantity')} AS total FROM"
        f" (SELECT column1 AS pi, column2 AS pc, column3 AS ps, column4 AS pe FROM (VALUES {rows_sql}) AS v) p"
        " JOIN usage_event e ON e.contract_id = p.pc AND e.day >= p.ps AND e.day < p.pe"
        f" WHERE e.organization_id = {q.param(org_id)}"
        " GROUP BY p.pi, e.usage_class_id"
    )
    _, rows = await db.execute_query(sql, q.values)
    out: dict[tuple[int, int, date], Decimal] = {}
    for r in rows:
        (contract_id, start), _ = items[int(r["pi"])]
        out[(contract_id, int(r["usage_class_id"]), start)] = exact(r["total"])
    return out


USAGE_TOTALS_CHUNK = 300
"""Contracts per statement in ``usage_totals_many`` (3 parameters each, far below SQLite's limit)."""


async def usage_totals_many(
    org_id: int, spans: Sequence[tuple[int, date, date]]
) -> dict[tuple[int, int], Decimal]:
    """(contract_id, usage_class_id) → exact total of the contract's events on days [start, end).

    ``spans`` gives one ``(contract_id, start, end)`` per contract: one statement for up to
    ``USAGE_TOTALS_CHUNK`` contracts, whatever their number of events. For one contract the statement
    is ``usage_totals``' own, with the contract id in the result.
    """
    unique: dict[int, tuple[date, date]] = {}
    for contract_id, start, end in spans:
        if unique.setdefault(contract_id, (start, end)) != (start, end):
            raise ValueError(f"contract {contract_id} is given two different spans")
    items = list(unique.items())
    out: dict[tuple[int, int], Decimal] = {}
    for at in range(0, len(items), USAGE_TOTALS_CHUNK):
        out.update(await _usage_totals_chunk(org_id, items[at:at + USAGE_TOTALS_CHUNK]))
    return out


async def _usage_totals_chunk(
    org_id: int, items: Sequence[tuple[int, tuple[date, date]]]
) -> dict[tuple[int, int], Decimal]:
    db = client()
    await ensure_sqlite_functions(db)
    q = _Sql(db.capabilities.dialect)
    organization = q.param(org_id)
    ranges = " OR ".join(
        f"(contract_id = {q.param(cid)} AND day >= {q.param(start)} AND day < {q.param(end)})"
        for cid, (start, end) in items
    )
    sql = (
        f"SELECT contract_id, usage_class_id, {q.total('quantity')} AS total FROM usage_event"
        f" WHERE organization_id = {organization} AND ({ranges})"
        " GROUP BY contract_id, usage_class_id"
    )
    _, rows = await db.execute_query(sql, q.values)
    return {(int(r["contract_id"]), int(r["usage_class_id"])): exact(r["total"]) for r in rows}
