"""The floors of ``bench.http_read``: a plain Starlette app served by uvicorn like the service.

- ``GET /plain``: ``{"data": {"__typename": "Query"}}`` as a ``JSONResponse``: the least any JSON
  endpoint costs on this stack (the floor of ``{ __typename }`` with a key).
- ``GET /read?org=N``: the nested read's ``data`` built from plain driver queries (asyncpg on
  PostgreSQL, the standard library's sqlite3 on SQLite), one statement per table, plus one usage
  aggregate for the open windows; decimals formatted as the API formats them (``app.api.scalars``),
  serialized with orjson. No ORM, no GraphQL, no API-key check.

The database comes from ``BENCH_FLOOR_DB`` (a Tortoise URL, as the service's ``DATABASE_URL``).
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.scalars import money, quantity
from app.db.aggregates import DecimalSum

URL = os.environ.get("BENCH_FLOOR_DB", "")
_state: dict[str, Any] = {}

CONTRACTS = "SELECT id, name FROM contract WHERE organization_id = {o} AND status = 'ACTIVE' ORDER BY id LIMIT 100"
INVOICES = ("SELECT id, contract_id, number, currency, total FROM invoice WHERE organization_id = {o}"
            " AND contract_id IN ({ids}) ORDER BY contract_id, id")
LINES = ("SELECT invoice_id, type, amount FROM invoice_line WHERE organization_id = {o}"
         " AND invoice_id IN ({ids}) ORDER BY invoice_id, id")
COMMITMENTS = ("SELECT id, contract_id, usage_class_id FROM commitment WHERE organization_id = {o}"
               " AND contract_id IN ({ids}) ORDER BY contract_id, id")
WINDOWS = ("SELECT id, commitment_id, number, start_date, end_date, committed, measured, shortfall, settled"
           " FROM commitment_window WHERE organization_id = {o} AND commitment_id IN ({ids})"
           " ORDER BY commitment_id, number")
LIVE = ("SELECT p.wid, {sum}(e.quantity) AS total FROM usage_event e JOIN (VALUES {rows}) AS p(wid, cid, uid, ps, pe)"
        " ON e.contract_id = p.cid AND e.usage_class_id = p.uid AND e.day >= p.ps AND e.day < p.pe"
        " WHERE e.organization_id = {o} GROUP BY p.wid")


def _ints(values: Any) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


Fetch = Callable[[str], Awaitable[list[Any]]]


@asynccontextmanager
async def _connection() -> AsyncIterator[Fetch]:
    """One connection for the whole request (the floor does what the best hand-written code would)."""
    if "pool" in _state:
        async with _state["pool"].acquire() as con:
            async def fetch_pg(sql: str) -> list[Any]:
                return list(await con.fetch(sql))
            yield fetch_pg
        return
    lite: sqlite3.Connection = _state["sqlite"]

    async def fetch_lite(sql: str) -> list[Any]:
        return list(lite.execute(sql).fetchall())
    yield fetch_lite


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


async def nested_read(org: int, _rows: Fetch) -> dict[str, Any]:
    postgres = "pool" in _state
    contracts = await _rows(CONTRACTS.format(o=org))
    cids = [r["id"] for r in contracts]
    invoices = await _rows(INVOICES.format(o=org, ids=_ints(cids)))
    lines = await _rows(LINES.format(o=org, ids=_ints(r["id"] for r in invoices)))
    commitments = await _rows(COMMITMENTS.format(o=org, ids=_ints(cids)))
    windows = await _rows(WINDOWS.format(o=org, ids=_ints(r["id"] for r in commitments)))
    owner = {r["id"]: r for r in commitments}
    open_windows = [w for w in windows if not w["settled"]]
    live: dict[int, Decimal] = {}
    if open_windows:
        def date_sql(d: Any) -> str:
            return f"'{d}'::date" if postgres else f"'{d}'"
        rows = ", ".join(f"({w['id']}, {owner[w['commitment_id']]['contract_id']}, "
                         f"{owner[w['commitment_id']]['usage_class_id']}, {date_sql(w['start_date'])}, "
                         f"{date_sql(w['end_date'])})" for w in open_windows)
        sql = LIVE.format(sum="SUM" if postgres else "decimal_sum", rows=rows, o=org)
        if not postgres:  # SQLite names VALUES columns column1..: rename them in a sub-select
            sql = sql.replace("(VALUES " + rows + ") AS p(wid, cid, uid, ps, pe)",
                              "(SELECT column1 AS wid, column2 AS cid, column3 AS uid, column4 AS ps, column5 AS pe"
                              " FROM (VALUES " + rows + ")) AS p")
        live = {r["wid"]: _dec(r["total"]) for r in await _rows(sql)}
    lines_of: dict[int, list[Any]] = defaultdict(list)
    for r in lines:
        lines_of[r["invoice_id"]].append(r)
    invoices_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in invoices:
        cur = r["currency"]
        invoices_of[r["contract_id"]].append({"number": r["number"], "total": str(money(_dec(r["total"]), cur)), "lines": {
            "nodes": [{"type": x["type"], "amount": str(money(_dec(x["amount"]), cur))} for x in lines_of[r["id"]]]}})
    windows_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for w in windows:
        committed = _dec(w["committed"])
        if w["settled"]:
            measured, shortfall = _dec(w["measured"]), _dec(w["shortfall"])
        else:
            measured = live.get(w["id"], Decimal(0))
            shortfall = max(Decimal(0), committed - measured)
        windows_of[w["commitment_id"]].append({
            "number": w["number"], "startDate": str(w["start_date"]), "endDate": str(w["end_date"]),
            "committed": str(quantity(committed)), "measured": str(quantity(measured)),
            "shortfall": str(quantity(shortfall)), "settled": bool(w["settled"])})
    commitments_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in commitments:
        commitments_of[c["contract_id"]].append({"windows": {"nodes": windows_of[c["id"]]}})
    return {"contracts": {"nodes": [
        {"name": c["name"], "invoices": {"nodes": invoices_of[c["id"]][:12]},
         "commitments": {"nodes": commitments_of[c["id"]]}} for c in contracts]}}


async def read(request: Request) -> Response:
    async with _connection() as fetch:
        data = await nested_read(int(request.query_params["org"]), fetch)
    return Response(orjson.dumps({"data": data}), media_type="application/json")


async def plain(_: Request) -> JSONResponse:
    return JSONResponse({"data": {"__typename": "Query"}})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    if URL.startswith("sqlite://"):
        con = sqlite3.connect(URL[len("sqlite://"):], check_same_thread=False)
        con.row_factory = sqlite3.Row
        con.create_aggregate("decimal_sum", 1, DecimalSum)  # type: ignore[arg-type]
        _state["sqlite"] = con
    elif URL:
        import asyncpg

        _state["pool"] = await asyncpg.create_pool(URL, min_size=1, max_size=4)
    try:
        yield
    finally:
        if "pool" in _state:
            await _state.pop("pool").close()
        if "sqlite" in _state:
            _state.pop("sqlite").close()


app = Starlette(routes=[Route("/plain", plain), Route("/read", read)], lifespan=lifespan)
