"""The command line (typer): ``commitments serve | migrate | create-org | close-due-periods | worker |
ingest``. Exit codes: 0 done, 1 some work failed (periods, rejected events), 2 refused (a bad
argument or setting, an unusable database folder, a request the service refused)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from app.settings import Settings, SettingsError, load_settings

app = typer.Typer(name="commitments", help="Usage-based billing commitments service.", add_completion=False,
                  no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="markdown")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, ``error: ...``, then exit (2: refused before doing anything)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def _database_settings() -> Settings:
    """The settings of a command that opens the database: on the embedded SQLite default its
    folder must be writable (a read-only image or filesystem is refused here, not by a traceback)."""
    settings = _settings()
    if settings.is_embedded and ":memory:" not in settings.database_url:
        for folder in dict.fromkeys((Path(settings.database_url.removeprefix("sqlite://")).parent, settings.data_dir)):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=folder):
                    pass
            except OSError as exc:
                fail(f"the embedded database's folder {str(folder)!r} is not writable ({exc.strerror}): set "
                     "DATABASE_URL to a PostgreSQL database, or COMMITMENTS_DATA_DIR to a writable folder")
    return settings


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


async def _close_due(settings: Settings, as_of: date | None, org_ids: list[int]) -> int:
    from app.db.config import close_db, init_db
    from app.db.models import Organization
    from app.progress import progress
    from app.services.closing import close_due_periods

    await init_db(settings.database_url)
    failures = 0
    try:
        ids = org_ids or list(await Organization.all().order_by("id").values_list("id", flat=True))
        for org_id in ids:
            with progress(f"close organization {org_id}", 0, "periods") as update:
                report = await close_due_periods(org_id, as_of, progress=update)
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

    from app.ingest_client import MAX_EVENTS, ingest, report

    key = key or os.environ.get("COMMITMENTS_API_KEY")
    if not key:
        sys.exit("error: give --key or set COMMITMENTS_API_KEY")
    try:
        totals = ingest(Path(path), url or f"http://{settings.host}:{settings.port}", key, min(batch, MAX_EVENTS))
    except (OSError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    sys.exit(report(totals))


def cmd_serve(settings: Settings) -> None:
    import uvicorn

    from app.db.migrate import apply_migrations
    from app.demo import ensure_embedded_org
    from app.main import create_app

    if settings.migrate_on_start:
        asyncio.run(apply_migrations(settings.database_url))
    else:  # README "Running in production": `commitments migrate` is a step of its own
        print("migrations are not applied at start (COMMITMENTS_MIGRATE_ON_START=false): run "
              "`commitments migrate` before the rollout; /ready answers 503 until then", flush=True)
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
    from app.observability.multiprocess import shared_metrics_dir

    with shared_metrics_dir(options["workers"]):  # README "Metrics": one /metrics for every worker
        uvicorn.run(target, **options)


@app.command("serve")
def serve() -> None:
    """Serve GraphQL, after applying migrations when COMMITMENTS_MIGRATE_ON_START (default: on the
    embedded SQLite, with a demo organization; off on PostgreSQL: run `commitments migrate` first)."""
    cmd_serve(_database_settings())


@app.command("migrate")
def migrate() -> None:
    """Apply database migrations to DATABASE_URL."""
    cmd_migrate(_database_settings())


@app.command("create-org")
def create_org(name: Annotated[str, typer.Argument(metavar="NAME", help="the organization's name")],
               currency: Annotated[str, typer.Option(help="its currency, ISO 4217")] = "USD") -> None:
    """Create an organization and print its API key."""
    cmd_create_org(_database_settings(), name, currency)


@app.command("close-due-periods")
def close_due_periods(
    as_of: Annotated[date | None, typer.Option("--as-of", parser=_day, metavar="YYYY-MM-DD",
                                               help="default today, UTC; a later day counts as today")] = None,
    org: Annotated[list[int] | None, typer.Option("--org", metavar="N",
                                                  help="organization id, repeatable (default: all)")] = None,
) -> None:
    """Close every billing period due by --as-of: a period [start, end) is due from end + the
    organization's closeGraceDays."""
    cmd_close_due(_database_settings(), as_of, org or [])


@app.command("worker")
def worker(concurrency: Annotated[int | None, typer.Option(
        min=1, help="jobs at once in this process (default COMMITMENTS_WORKER_CONCURRENCY, 2)")] = None) -> None:
    """Run due-close jobs from PostgreSQL's job queue (PgQueuer); any number of workers on any
    machines. SIGTERM finishes the jobs in hand, then exits."""
    cmd_worker(_settings(), concurrency)


@app.command("ingest")
def ingest(file: Annotated[str, typer.Argument(metavar="FILE", help=".ndjson, .jsonl or .csv, optionally .gz")],
           url: Annotated[str | None, typer.Option(help="the service (default http://HOST:PORT)")] = None,
           key: Annotated[str | None, typer.Option(help="API key (default: env COMMITMENTS_API_KEY)")] = None,
           batch: Annotated[int, typer.Option(min=1, help="events per request (at most 100,000)")] = 100_000) -> None:
    """Post a usage file to a running service's POST /v1/usage, with a progress bar. Exit 1 if
    any event is rejected, 2 if a request is refused."""
    cmd_ingest(_settings(), file, url, key, batch)


def main(argv: list[str] | None = None) -> None:
    """The ``commitments`` script; returns when a command ends normally (exit code 0)."""
    try:
        app(args=argv, prog_name="commitments")
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


if __name__ == "__main__":
    main()
