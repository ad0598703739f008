"""Ingest over HTTP: bulk ``POST /v1/usage`` and GraphQL ``recordUsage`` vs a COPY floor.

    .venv/bin/python -m bench.ingest_http [--db sqlite|postgres] [--quick] [--events N]

One uvicorn worker (``app.main:app``, the real middleware, key check and limits) on 127.0.0.1, the
client on one keep-alive connection, one request at a time. One ACTIVE contract with 10 usage
classes; events spread over 2026, each with a new key.

(a) Bulk: ``events`` (default 1,000,000; ``--quick`` 50,000) new events as NDJSON, in requests of
100,000. (b) GraphQL: ``recordUsage`` in batches of 1,000 (a tenth of ``events``, at least 10
batches), the events as variables.

Floor, the same for both: the same rows, already parsed, loaded by the driver's bulk path into a
table of the same shape and indexes: PostgreSQL asyncpg ``copy_records_to_table`` into
``CREATE TABLE ... (LIKE usage_event INCLUDING ALL)`` (no foreign keys), in copies of 100,000 rows;
SQLite ``executemany`` of a one-row INSERT into ``usage_event`` in one transaction per 100,000 rows.
Printed: each rate, the ratio rate / floor rate (the issue's goals: bulk ≥ 0.5, GraphQL ≥ 0.2), and
``os.getloadavg()`` before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from decimal import Decimal
from typing import Any

import httpx
import orjson

from app.api import ids
from app.clock import utc_now
from app.services.organizations import issue_api_key
from bench.common import Result, client, fresh_database, is_postgres, raw_executemany, say, usage_insert_sql
from bench.http_read import Server
from bench.ingestion import PLACES, _event, _setup

REQUEST_EVENTS = 100_000
GRAPHQL_BATCH = 1000
RECORD = ("mutation($events: [UsageEventInput!]!) { recordUsage(events: $events) "
          "{ accepted duplicates rejected userErrors { code } } }")


def _json_events(prefix: str, start: int, n: int, contract: str, classes: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in range(start, start + n):
        key, quantity, at, cls = _event(prefix, i, list(range(len(classes))))
        out.append({"contractId": contract, "usageClassId": classes[cls], "quantity": quantity,
                    "timestamp": at.isoformat(), "idempotencyKey": key})
    return out


async def _floor(org: int, contract: int, classes: list[int], events: int) -> float:
    """Seconds to load ``events`` parsed rows with the driver's bulk path (see the module doc)."""
    now = utc_now()
    batches = []
    for start in range(0, events, REQUEST_EVENTS):
        rows = []
        for i in range(start, min(events, start + REQUEST_EVENTS)):
            key, quantity, at, cls = _event("floor", i, classes)
            rows.append((org, contract, cls, Decimal(quantity).quantize(PLACES), at, at.date(), key, None, now))
        batches.append(rows)
    columns = ["organization_id", "contract_id", "usage_class_id", "quantity", "occurred_at", "day",
               "idempotency_key", "connection_id", "created_at"]
    if is_postgres():
        async with client().acquire_connection() as con:
            await con.execute("CREATE TABLE usage_floor (LIKE usage_event INCLUDING ALL)")
            started = time.perf_counter()
            for rows in batches:
                await con.copy_records_to_table("usage_floor", records=rows, columns=columns)
            return time.perf_counter() - started
    started = time.perf_counter()
    for rows in batches:
        await raw_executemany(usage_insert_sql(), rows)
    return time.perf_counter() - started


def _bulk(server: Server, key: str, events: int, contract: str, classes: list[str]) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    spent = 0.0
    with httpx.Client(timeout=600) as http:
        for start in range(0, events, REQUEST_EVENTS):
            body = b"\n".join(orjson.dumps(e) for e in _json_events(
                "bulk", start, min(REQUEST_EVENTS, events - start), contract, classes))
            began = time.perf_counter()
            response = http.post(server.url + "/v1/usage", content=body, headers=headers)
            spent += time.perf_counter() - began
            answer = response.json()
            if response.status_code != 200 or answer["accepted"] != min(REQUEST_EVENTS, events - start):
                raise AssertionError(f"bulk request answered {response.status_code}: {str(answer)[:300]}")
    return spent


def _graphql(server: Server, key: str, batches: int, contract: str, classes: list[str], prefix: str = "gql") -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    spent = 0.0
    with httpx.Client(timeout=120) as http:
        for b in range(batches):
            body = orjson.dumps({"query": RECORD, "variables": {
                "events": _json_events(prefix, b * GRAPHQL_BATCH, GRAPHQL_BATCH, contract, classes)}})
            began = time.perf_counter()
            response = http.post(server.url + "/graphql", content=body, headers=headers)
            spent += time.perf_counter() - began
            answer = response.json()["data"]["recordUsage"]
            if answer["accepted"] != GRAPHQL_BATCH:
                raise AssertionError(f"recordUsage answered {answer}")
    return spent


async def run(db: str, quick: bool, events: int | None = None) -> list[Result]:
    events = events or (50_000 if quick else 1_000_000)
    batches = max(10, events // 10 // GRAPHQL_BATCH)
    load_before = os.getloadavg()
    async with fresh_database(db) as url:
        org, contract, classes = await _setup()
        key = await issue_api_key(org)
        gid, class_ids = ids.encode("Contract", contract), [ids.encode("Product", c) for c in classes]
        floor = await _floor(org, contract, classes, events)
        say(f"floor: {events / floor:,.0f} rows/s")
        server = Server("app.main:app", {"DATABASE_URL": url, "COMMITMENTS_CLOSE_SCHEDULE": "off",
                                         "COMMITMENTS_IN_PROCESS_WORKER": "false", "COMMITMENTS_BODY_TIMEOUT": "300"})
        try:
            _graphql(server, key, 2, gid, class_ids, "warm")  # warm-up: connections, prepared statements
            bulk = await asyncio.to_thread(_bulk, server, key, events, gid, class_ids)
            say(f"bulk POST /v1/usage: {events / bulk:,.0f} ev/s = {floor / bulk:.2f} x the floor's rate")
            gql_events = batches * GRAPHQL_BATCH
            graphql = await asyncio.to_thread(_graphql, server, key, batches, gid, class_ids)
            say(f"GraphQL recordUsage x{GRAPHQL_BATCH}: {gql_events / graphql:,.0f} ev/s = "
                f"{(floor / events) * gql_events / graphql:.2f} x the floor's rate")
        finally:
            server.stop()
    load = f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    say(load)
    results = [Result(f"HTTP bulk ingest ({events:,} ev)", db, bulk, floor, unit="ev/s", events=events),
               Result(f"HTTP recordUsage ({batches}x{GRAPHQL_BATCH})", db, graphql, floor * gql_events / events,
                      unit="ev/s", events=gql_events)]
    for r in results:
        r.notes.append(f"{r.name}: {r.events / r.measured:,.0f} ev/s, {r.floor / r.measured:.2f} x the COPY "
                       f"floor's rate ({r.events / r.floor:,.0f} rows/s); {load}")
    return results


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_http", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    for r in asyncio.run(run(args.db, args.quick, args.events)):
        print(r.notes[0])


if __name__ == "__main__":
    cli()
