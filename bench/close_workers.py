"""Month-end due close on 2 ``commitments worker`` processes (PostgreSQL, PgQueuer; README "Workers").

    .venv/bin/python -m bench.close_workers [--quick] [--contracts N] [--events M] [--workers W]

Set-up (not measured): ``bench.month_end_data.build_month_end`` (N ACTIVE monthly contracts x 3
commitments, M usage events in January 2026, loaded with COPY), then W worker processes started
and idle. Measured: from ``close_runs.start_run`` as of 2026-02-10 (the run row and one job per
chunk, as closeDuePeriods does) until the run is DONE, i.e. every contract's January closed by the
workers (on the real clock: January is long due). Checked: every contract closed, no failure, the
kept usage totals equal the aggregate's. ``os.getloadavg()`` printed.
Floor: ``bench.month_end``'s: one GROUP BY (contract, usage class) of the month's events plus
COPY of the same invoice and invoice-line rows into empty tables of the same shape.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from app.db.models import CloseRun
from app.jobs.queue import PgQueuerQueue, use_queue
from app.services.close_runs import start_run
from bench.common import fresh_database, say
from bench.month_end import AS_OF, _group_by, _kept, _write_floor
from bench.month_end_data import build_month_end

REPO = Path(__file__).resolve().parents[1]


def start_workers(url: str, n: int) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITMENTS_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": url, "COMMITMENTS_CLOSE_SCHEDULE": "off", "COMMITMENTS_LOG_LEVEL": "WARNING"})
    return [subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--concurrency", "1"], cwd=REPO, env=env)
            for _ in range(n)]


async def run(contracts: int, events: int, workers: int) -> dict[str, float]:
    async with fresh_database("postgres") as url:
        started = time.perf_counter()
        data = await build_month_end(None, contracts, events)
        say(f"built {contracts:,} contracts x 3 commitments, {events:,} events in {time.perf_counter() - started:.0f} s")
        procs = start_workers(url, workers)
        try:
            await asyncio.sleep(5)  # let them start and go idle
            use_queue(PgQueuerQueue())
            started = time.perf_counter()
            run_row = await start_run(data.org_id, AS_OF)
            while (await CloseRun.get(id=run_row.id)).status != "DONE":
                await asyncio.sleep(0.05)
            measured = time.perf_counter() - started
            load = os.getloadavg()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=60)
        done = await CloseRun.get(id=run_row.id)
        failures = json.loads(done.failures)
        if done.closed != contracts or failures:
            raise AssertionError(f"closed {done.closed} of {contracts}: {failures[:5]}")
        totals, group_by = await _group_by(data)
        if await _kept(data) != totals:
            raise AssertionError("the kept usage totals differ from the aggregate's")
        writes, invoices, lines = await _write_floor(data)
        floor = group_by + writes
        say(f"due close on {workers} workers, {contracts:,} contracts x 3 commitments, {events:,} events: "
            f"{measured:.2f} s ({done.chunks} chunk jobs); floor {floor:.2f} s (GROUP BY {group_by * 1000:.0f} ms + "
            f"COPY of {invoices:,} invoices and {lines:,} lines {writes * 1000:.0f} ms): {measured / floor:.1f}x; "
            f"load average during the close {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        return {"seconds": measured, "floor": floor}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 contracts, 20,000 events")
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    contracts, events = (200, 20_000) if args.quick else (args.contracts, args.events)
    asyncio.run(run(contracts, events, args.workers))


if __name__ == "__main__":
    main()
