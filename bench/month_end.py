"""Month-end due close at scale: ``close_due_periods`` over thousands of contracts vs its floor.

Set-up: ``bench.month_end_data.build_month_end`` (``contracts`` ACTIVE monthly contracts x 3
commitments, ``events`` usage events in January 2026; loaded with COPY / executemany, not measured).
Measured: ``app.services.closing.close_due_periods`` of January, in a fresh interpreter (so its
peak memory, ``ru_maxrss``, is the close's own plus the interpreter's; the figure before the close
is printed too), one run, wall time. Checked: every contract closed, no failure, the kept usage
totals equal the aggregate's.
Floor: one ``GROUP BY contract_id, usage_class_id`` over the month's events (exact sum, median of
3), plus writing as many invoice rows and invoice lines as the close wrote into empty tables of the
same shape (PostgreSQL: ``LIKE … INCLUDING ALL`` and COPY; SQLite: executemany in one transaction).

    .venv/bin/python -m bench.run --scale [--db postgres]   # 1,000 x 100k and 10,000 x 1M
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime

from app.db.aggregates import exact
from bench.common import Result, client, fresh_database, is_postgres, median, say, timed
from bench.month_end_data import MONTH, MonthEnd, _flush, build_month_end

SCALES = ((1_000, 100_000), (10_000, 1_000_000))
AS_OF = date(2026, 2, 10)  # January is due (closeGraceDays 1)
MARK = "@@month-end "


async def run(db: str, quick: bool) -> list[Result]:
    """``bench.run --scale``: the scales (``run_scales``); with ``--quick`` a smoke of 100
    contracts and 10,000 events (seconds, no timing asserted anywhere)."""
    return [await run_scale(db, 100, 10_000)] if quick else await run_scales(db)


async def run_scales(db: str) -> list[Result]:
    """``--scale``: 1,000 contracts x 100k events and 10,000 x 1M (SQLite: the first only)."""
    results = []
    for contracts, events in SCALES if db == "postgres" else SCALES[:1]:
        results.append((contracts, await run_scale(db, contracts, events)))
    if len(results) > 1:
        (small, first), (large, last) = results[0], results[-1]
        per_small, per_large = first.measured / small, last.measured / large
        last.notes.append(f"cost per contract {per_small * 1000:.2f} ms at {small:,} contracts vs "
                          f"{per_large * 1000:.2f} ms at {large:,}: {per_large / per_small:.2f}x")
    return [r for _, r in results]


async def run_scale(db: str, contracts: int, events: int) -> Result:
    async with fresh_database(db) as url:
        seconds, data = await timed(lambda: build_month_end(None, contracts, events))
        say(f"built {contracts:,} contracts x 3 commitments and {events:,} events in {seconds:.1f} s")
        totals, group_by = await _group_by(data)
        close = _close_in_child(url, data.org_id)
        if close["closed"] != contracts or close["failures"]:
            raise AssertionError(f"the close closed {close['closed']} of {contracts}: {close['failures']}")
        kept = await _kept(data)
        if kept != totals:
            raise AssertionError("the kept usage totals differ from the aggregate's")
        writes, invoices, lines = await _write_floor(data)
        floor = group_by + writes
        load = os.getloadavg()
        name = f"due close {contracts:,} contracts {events // 1000:,}k events"
        result = Result(name, db, close["seconds"], floor)
        result.notes.append(
            f"{name}: {close['seconds']:.2f} s = {close['seconds'] / contracts * 1000:.2f} ms/contract; floor "
            f"{floor:.2f} s (GROUP BY {group_by * 1000:.0f} ms + writing {invoices:,} invoices and {lines:,} lines "
            f"{writes * 1000:.0f} ms): {close['seconds'] / floor:.1f}x; the close's own CPU {close['cpu_seconds']:.2f} s; peak RSS {close['maxrss_mb']:.0f} MB "
            f"({close['rss_before_mb']:.0f} MB before the close); load average {load[0]:.2f} {load[1]:.2f}")
        say(result.notes[-1])
        return result


async def _group_by(data: MonthEnd) -> tuple[dict[tuple[int, int], object], float]:
    """The floor's aggregate, and its totals (for the check), median of 3 timed runs."""
    total = "SUM(quantity)" if is_postgres() else "decimal_sum(quantity)"
    p = (lambda i: f"${i}") if is_postgres() else (lambda i: "?")
    sql = (f"SELECT contract_id, usage_class_id, {total} AS total FROM usage_event WHERE organization_id = {p(1)}"
           f" AND day >= {p(2)} AND day < {p(3)} GROUP BY contract_id, usage_class_id")
    from app.db.aggregates import ensure_sqlite_functions

    await ensure_sqlite_functions()
    runs, rows = [], []
    for _ in range(3):
        start = time.perf_counter()
        _, rows = await client().execute_query(sql, [data.org_id, *MONTH])
        runs.append(time.perf_counter() - start)
    return {(int(r["contract_id"]), int(r["usage_class_id"])): exact(r["total"]) for r in rows}, median(runs)


async def _kept(data: MonthEnd) -> dict[tuple[int, int], object]:
    codes = {f"usage-{i}": cid for i, cid in enumerate(data.classes)}
    _, rows = await client().execute_query(
        "SELECT contract_id, usage_class, quantity FROM period_usage WHERE organization_id = "
        + ("$1" if is_postgres() else "?"), [data.org_id])
    return {(int(r["contract_id"]), codes[r["usage_class"]]): exact(r["quantity"]) for r in rows}


async def _write_floor(data: MonthEnd) -> tuple[float, int, int]:
    """Seconds to write the close's invoices and lines again into empty tables of the same shape."""
    db = client()
    p = "$1" if is_postgres() else "?"
    elapsed, counts = 0.0, []
    for table in ("invoice", "invoice_line"):
        _, rows = await db.execute_query(f"SELECT * FROM {table} WHERE organization_id = {p}", [data.org_id])
        records = [tuple(dict(r).values()) for r in rows]
        columns = list(dict(rows[0]).keys())
        copy = f"floor_{table}"
        if is_postgres():
            await db.execute_script(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
        else:
            await db.execute_script(f"CREATE TABLE {copy} AS SELECT * FROM {table} WHERE 0")
        start = time.perf_counter()
        await _flush(db, columns, copy, records)
        elapsed += time.perf_counter() - start
        counts.append(len(records))
    return elapsed, counts[0], counts[1]


def _close_in_child(url: str, org_id: int) -> dict:
    cmd = [sys.executable, "-m", "bench.month_end", "--close-child", url, str(org_id)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"the close child printed no result: {out.stdout[-2000:]} {out.stderr[-2000:]}")


async def _child(url: str, org_id: int) -> None:
    from app.clock import frozen_clock
    from app.db.config import close_db, init_db
    from app.services.closing import close_due_periods

    await init_db(url)
    try:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        with frozen_clock(datetime(2026, 2, 10, 12)):
            start = time.perf_counter()
            report = await close_due_periods(org_id, AS_OF)
            seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        await close_db()
    print(MARK + json.dumps({
        "seconds": seconds, "cpu_seconds": cpu, "closed": report.closed, "rss_before_mb": before / 1024, "maxrss_mb": peak / 1024,
        "failures": [f"{f.contract_id} {f.code} {f.message}" for f in report.failures[:5]],
    }), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--close-child"]:
        asyncio.run(_child(sys.argv[2], int(sys.argv[3])))
