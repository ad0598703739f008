"""The command line: ``commitments serve | migrate | create-org | close-due-periods | worker``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from typing import Any

from app.settings import Settings, load_settings


async def _create_org(settings: Settings, name: str, currency: str) -> tuple[int, str]:
    from app.db.config import close_db, init_db
    from app.services.organizations import create_organization

    await init_db(settings.database_url)
    try:
        org, key = await create_organization(name, currency)
        return org.id, key
    finally:
        await close_db()


def cmd_migrate(settings: Settings) -> None:
    from app.db.migrate import apply_migrations

    asyncio.run(apply_migrations(settings.database_url))
    print(f"migrated {settings.database_url}")


def cmd_create_org(settings: Settings, name: str, currency: str) -> None:
    from app.services.errors import InvalidInput

    try:
        org_id, key = asyncio.run(_create_org(settings, name, currency))
    except InvalidInput as exc:
        sys.exit(f"error: {exc}")
    print(f"organization {org_id} created: {name}")
    print(f"API key (shown once, stored hashed): {key}")


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} periods")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def _close_due(settings: Settings, as_of: date | None, org_ids: list[int]) -> int:
    from app.db.config import close_db, init_db
    from app.db.models import Organization
    from app.services.closing import close_due_periods

    await init_db(settings.database_url)
    failures = 0
    try:
        ids = org_ids or list(await Organization.all().order_by("id").values_list("id", flat=True))
        for org_id in ids:
            report = await close_due_periods(org_id, as_of, progress=_bar)
            if as_of is not None and report.as_of != as_of:
                print(f"--as-of {as_of} is after today: closing what is due by today, {report.as_of}")
                as_of = report.as_of  # say it once
            # "closed" is what this run closed; periods a concurrent run closed first are counted apart
            already = f"; {report.already_closed} closed meanwhile by another run" if report.already_closed else ""
            print(f"organization {org_id}: {report.closed} closed, {len(report.failures)} failed "
                  f"(due by {report.as_of}){already}")
            for f in report.failures:
                print(f"  contract {f.contract_id} period {f.period_start}: {f.code} {f.message}")
            failures += len(report.failures)
    finally:
        await close_db()
    return failures


def cmd_close_due(settings: Settings, as_of: date | None, org_ids: list[int]) -> None:
    failures = asyncio.run(_close_due(settings, as_of, org_ids))
    if failures:
        sys.exit(1)


async def _worker(settings: Settings, concurrency: int) -> None:
    import signal

    from app.db.config import close_db, init_db
    from app.jobs.queue import PgQueuerQueue, use_queue
    from app.jobs.worker import consume

    await init_db(settings.database_url)
    use_queue(PgQueuerQueue())  # the schedule's runs queue their chunks for the cluster
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # finish the jobs in hand, then exit
    try:
        await consume(settings, stop, concurrency)
    finally:
        await close_db()


def cmd_worker(settings: Settings, concurrency: int | None) -> None:
    if settings.is_embedded:
        sys.exit("error: `commitments worker` needs PostgreSQL (DATABASE_URL); on the embedded SQLite "
                 "default the server runs the jobs in its own process")
    print(f"worker consuming jobs from {settings.database_url.rsplit('@', 1)[-1]}", flush=True)
    asyncio.run(_worker(settings, concurrency or settings.worker_concurrency))


def cmd_ingest(settings: Settings, path: str, url: str | None, key: str | None, batch: int) -> None:
    """README "Bulk ingest": post a usage file to a running service (app/ingest_client.py)."""
    import os
    from pathlib import Path

    from app.ingest_client import MAX_EVENTS, ingest, report

    key = key or os.environ.get("COMMITMENTS_API_KEY")
    if not key:
        sys.exit("error: give --key or set COMMITMENTS_API_KEY")
    try:
        totals = ingest(Path(path), url or f"http://{settings.host}:{settings.port}", key, min(batch, MAX_EVENTS),
                        show_progress=sys.stderr.isatty())
    except (OSError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    sys.exit(report(totals))


def cmd_serve(settings: Settings) -> None:
    import uvicorn

    from app.db.migrate import apply_migrations
    from app.demo import ensure_embedded_org
    from app.main import create_app

    asyncio.run(apply_migrations(settings.database_url))
    key = None
    if settings.is_embedded:
        key = asyncio.run(ensure_embedded_org(settings))
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"\n  GraphiQL: {url}")
    if key:
        print(f"  API key:  {key}   (GraphiQL sends it for you)\n")
    # Server limits, logging and the request-head deadline: app/server.py (README "Server limits").
    # Several workers are separate processes: uvicorn imports the app by name in each.
    from app.server import uvicorn_options

    options = uvicorn_options(settings)
    target: Any = create_app(settings, graphiql_api_key=key)
    if options["workers"] > 1:
        target = "app.main:app"
    uvicorn.run(target, **options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="commitments", description="Usage-based billing commitments service.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="Migrate, then serve GraphQL (embedded SQLite: with a demo organization).")
    sub.add_parser("migrate", help="Apply database migrations to DATABASE_URL.")
    create = sub.add_parser("create-org", help="Create an organization and print its API key.")
    create.add_argument("name")
    create.add_argument("--currency", default="USD")
    due = sub.add_parser("close-due-periods", help="Close every billing period due by --as-of: a period "
                         "[start, end) is due from end + the organization's closeGraceDays.")
    due.add_argument("--as-of", type=date.fromisoformat, default=None,
                     help="YYYY-MM-DD (default today, UTC; a later day counts as today)")
    due.add_argument("--org", type=int, action="append", default=[], help="organization id (default: all)")
    worker = sub.add_parser("worker", help="Run due-close jobs from PostgreSQL's job queue (PgQueuer); any "
                            "number of workers on any machines. SIGTERM finishes the jobs in hand, then exits.")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="jobs at once in this process (default COMMITMENTS_WORKER_CONCURRENCY, 2)")
    ingest = sub.add_parser("ingest", help="Post a usage file (.ndjson, .jsonl or .csv, optionally .gz) to a "
                            "running service's POST /v1/usage, with a progress bar. Exit 1 if any event is "
                            "rejected, 2 if a request is refused.")
    ingest.add_argument("file")
    ingest.add_argument("--url", default=None, help="the service (default http://HOST:PORT)")
    ingest.add_argument("--key", default=None, help="API key (default: env COMMITMENTS_API_KEY)")
    ingest.add_argument("--batch", type=int, default=100_000, help="events per request (at most 100,000)")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "serve":
        cmd_serve(settings)
    elif args.command == "migrate":
        cmd_migrate(settings)
    elif args.command == "worker":
        cmd_worker(settings, args.concurrency)
    elif args.command == "close-due-periods":
        cmd_close_due(settings, args.as_of, args.org)
    elif args.command == "ingest":
        cmd_ingest(settings, args.file, args.url, args.key, args.batch)
    elif args.command == "create-org":
        cmd_create_org(settings, args.name, args.currency)


if __name__ == "__main__":
    main()
