"""Run every benchmark on one or both databases and print one table.

    .venv/bin/python -m bench.run [--db sqlite|postgres] [--quick]

Each benchmark builds its own fresh database (a temporary SQLite file, or a random ``bench_<hex>``
PostgreSQL database dropped afterwards) and reports its measurement next to a floor measured in the
same run on the same machine; ratio = measured time / floor time for the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from bench import closing, graphql_read, http_read, ingest_http, ingestion, month_end
from bench.common import DBS, POSTGRES_URL, Result, table

BENCHMARKS = (("usage ingestion", ingestion), ("period close", closing), ("nested GraphQL read", graphql_read),
              ("reads over HTTP", http_read), ("ingest over HTTP", ingest_http))
# ``--scale`` (BENCH_SCALE=1 in the children): the month-end due close over 1,000 and 10,000 contracts.
SCALE = (("month-end due close at scale", month_end),)


async def main(dbs: list[str], quick: bool) -> list[Result]:
    results = []
    for db in dbs:
        for title, module in (SCALE if os.environ.get("BENCH_SCALE") else BENCHMARKS):
            print(f"[{db}] {title}", flush=True)
            start = time.perf_counter()
            result = await module.run(db, quick)
            print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)
            results.extend(result if isinstance(result, list) else [result])  # http_read gives two
    return results


MARK = "@@bench-result "


def child(db: str, quick: bool) -> None:
    """One database in this process; results as JSON lines for the parent."""
    for r in asyncio.run(main([db], quick)):
        print(MARK + json.dumps({"name": r.name, "db": r.db, "measured": r.measured, "floor": r.floor,
                                 "unit": r.unit, "events": r.events, "notes": r.notes}), flush=True)


def in_subprocess(db: str, quick: bool) -> list[Result]:
    """Tortoise caches per-model SQL for the dialect it was first initialised with: each database
    kind runs in its own interpreter."""
    cmd = [sys.executable, "-m", "bench.run", "--db", db, "--child"] + (["--quick"] if quick else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    results = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(MARK):
            results.append(Result(**json.loads(line[len(MARK):])))
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"the {db} benchmarks failed (exit {proc.returncode})")
    return results


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DBS, action="append",
                        help=f"sqlite or postgres (repeatable; default both; PostgreSQL at {POSTGRES_URL}, "
                             "override with BENCH_POSTGRES_URL)")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repetitions (smoke run)")
    parser.add_argument("--scale", action="store_true",
                        help="only the month-end due close at scale (bench/month_end.py; with --quick: a smoke size)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale:
        os.environ["BENCH_SCALE"] = "1"  # read by the children
    if args.child:
        child(args.db[0], args.quick)
        return
    started = time.perf_counter()
    results = [r for db in (args.db or list(DBS)) for r in in_subprocess(db, args.quick)]
    print()
    print(table(results))
    print()
    for r in results:
        for note in r.notes:
            print(f"{r.db:8}  {note}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s{' (--quick)' if args.quick else ''}; "
          "ratio = measured time / floor time for the same work (1.0x = as fast as the floor)")


if __name__ == "__main__":
    cli()
