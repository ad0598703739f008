"""PostgreSQL: due closes run as PgQueuer jobs by separate ``commitments worker`` processes.

Two workers close 1,000 contracts with exactly one invoice per period; a worker killed with
SIGKILL mid-run leaves nothing half-written and its job is retried by another, so everything is
closed exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import connections

from app.db.models import BillingPeriod, CloseRun, CloseRunChunk, Invoice, InvoiceLine
from app.jobs.engine import install_job_engine
from app.jobs.queue import PgQueuerQueue, use_queue
from app.services import close_batch
from app.services.close_runs import start_run
from tests.jobs.builders import PERIODS, org_with_contracts
from tests.jobs.workers import Workers

CONTRACTS = 1_000
DEADLINE = 180.0  # seconds for a run to finish: a bound, not a measurement


@pytest_asyncio.fixture
async def pgqueuer(db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """PgQueuer's tables in the test database, empty; jobs of this process go to PgQueuer."""
    client = connections.get("default")
    assert await install_job_engine(client)
    await client.execute_script("TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_schedules")
    monkeypatch.setattr(close_batch, "CHUNK_SIZE", 50)  # 20 chunk jobs for 1,000 contracts
    previous = use_queue(PgQueuerQueue())
    try:
        yield db
    finally:
        use_queue(previous)


@pytest.fixture
def workers(pgqueuer: str, tmp_path: Path) -> Workers:
    started = Workers(pgqueuer, tmp_path)
    yield started
    started.stop_all()


async def _wait_done(run_id: int, workers: Workers) -> CloseRun:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        run = await CloseRun.get(id=run_id)
        if run.status == "DONE":
            return run
        await asyncio.sleep(0.25)
    raise AssertionError(f"run {run_id} not DONE after {DEADLINE} s: {run.chunks_done}/{run.chunks}\n{workers.logs()}")


async def _assert_closed_exactly_once(org: int, contracts: list[int]) -> None:
    periods = CONTRACTS * PERIODS
    assert await BillingPeriod.filter(organization_id=org, status="CLOSED").count() == periods
    assert await Invoice.filter(organization_id=org).count() == periods
    rows = await Invoice.filter(organization_id=org).values_list("billing_period_id", flat=True)
    assert len(set(rows)) == periods  # one invoice per period
    # nothing half-written: no invoice without its period closed, no line without its invoice
    invoice_ids = set(await Invoice.filter(organization_id=org).values_list("id", flat=True))
    assert set(await InvoiceLine.filter(organization_id=org).values_list("invoice_id", flat=True)) <= invoice_ids


async def test_two_workers_close_1000_contracts_exactly_once(workers: Workers) -> None:
    org, contracts = await org_with_contracts(CONTRACTS)
    run = await start_run(org)
    assert run.chunks == CONTRACTS // 50
    workers.start()
    workers.start()
    done = await _wait_done(run.id, workers)
    assert (done.chunks_done, done.closed, done.already_closed) == (run.chunks, CONTRACTS * PERIODS, 0)
    await _assert_closed_exactly_once(org, contracts)
    workers.stop_all()
    assert all(p.returncode == 0 for p in workers.processes), workers.logs()  # SIGTERM: a clean exit


async def test_a_worker_killed_mid_run_is_retried_and_everything_closes_once(workers: Workers) -> None:
    org, contracts = await org_with_contracts(CONTRACTS)
    run = await start_run(org)
    first = workers.start()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and not await Invoice.filter(organization_id=org).exists():
        await asyncio.sleep(0.05)
    workers.kill(first)  # mid-run: it has closed some periods and holds a picked job
    picked = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS n FROM pgqueuer WHERE status = 'picked'")
    assert picked[0]["n"] >= 1, "the killed worker held no job"
    assert (await CloseRun.get(id=run.id)).status != "DONE"
    workers.start()
    workers.start()
    done = await _wait_done(run.id, workers)
    assert done.chunks_done == run.chunks
    assert done.closed + done.already_closed == CONTRACTS * PERIODS
    assert await CloseRunChunk.filter(run_id=run.id).count() == run.chunks
    await _assert_closed_exactly_once(org, contracts)


async def test_the_server_consumes_jobs_itself_on_postgres(pgqueuer: str) -> None:
    """The lifespan's start_jobs on PostgreSQL: jobs go to PgQueuer and the server's own consumer
    runs them, so closeDuePeriods(wait: true) completes with no worker process."""
    from app.jobs.lifecycle import start_jobs
    from app.jobs.queue import current_queue
    from app.settings import load_settings
    from tests.api.helpers import gql

    settings = load_settings().model_copy(update={"database_url": pgqueuer, "in_process_worker": True,
                                                  "close_schedule": "0 0 1 1 *"})  # registered with PgQueuer; no tick during the test
    previous = current_queue()
    background = await start_jobs(settings)
    try:
        assert isinstance(current_queue(), PgQueuerQueue)
        org, _ = await org_with_contracts(120)  # 3 chunks of 50
        out = (await gql(org, "mutation { closeDuePeriods { closed run { status chunks chunksDone } } }"))
        assert out["closeDuePeriods"] == {"closed": 120 * PERIODS,
                                          "run": {"status": "DONE", "chunks": 3, "chunksDone": 3}}
        logged = 0
        for _ in range(100):  # PgQueuer logs a job just after its handler returned: bounded poll
            rows = await connections.get("default").execute_query_dict(
                "SELECT count(*) AS n FROM pgqueuer_log WHERE entrypoint = 'close-chunk' AND status = 'successful'")
            if (logged := rows[0]["n"]) == 3:
                break
            await asyncio.sleep(0.05)
        assert logged == 3  # they went through PgQueuer
        schedules = await connections.get("default").execute_query_dict(
            "SELECT entrypoint, expression FROM pgqueuer_schedules")
        assert schedules == [{"entrypoint": "scheduled-due-close", "expression": "0 0 1 1 *"}]
    finally:
        await background.stop()
        use_queue(previous)
