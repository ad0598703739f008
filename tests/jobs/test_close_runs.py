"""Due closes as jobs (README "Workers"), in-process (SQLite, and any process without PgQueuer):
closeDuePeriods waits for its run or answers at once, closeRun reports it, a chunk job run twice
closes and counts nothing twice, the schedule opens one job per chunk."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from app.clock import frozen_clock
from app.db.models import BillingPeriod, CloseRun, CloseRunChunk, Invoice
from app.jobs import queue as job_queue
from app.jobs.queue import InProcessQueue, use_queue
from app.jobs.schedule import enqueue_due_closes, schedule_expression
from app.services import close_batch
from app.services.close_runs import CLOSE_CHUNK, ChunkJob, close_chunk_job, start_run
from tests.api.helpers import gql, gql_raw
from tests.jobs.builders import PERIODS, org_with_contracts

RUN = "run { id status chunks chunksDone closed alreadyClosed }"
CLOSE = f"""mutation($wait: Boolean!) {{ closeDuePeriods(wait: $wait) {{ closed alreadyClosed asOf
  failures {{ code }} {RUN} userErrors {{ code }} }} }}"""
POLL = f"""query($id: ID!) {{ closeRun(id: $id) {{ status chunks chunksDone closed alreadyClosed asOf finishedAt }} }}"""


class Recorder:
    """A queue that keeps what was enqueued and runs nothing."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, bytes]] = []

    async def enqueue(self, entrypoint: str, payloads: list[bytes]) -> None:
        self.jobs.extend((entrypoint, p) for p in payloads)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(close_batch, "CHUNK_SIZE", 2)
    return 2


@pytest.fixture
def recorder() -> Recorder:
    rec = Recorder()
    previous = use_queue(rec)
    yield rec
    use_queue(previous)


async def test_close_due_periods_waits_for_its_in_process_run(db: str, small_chunks: int) -> None:
    org, contracts = await org_with_contracts(5)
    out = (await gql(org, CLOSE, {"wait": True}))["closeDuePeriods"]
    assert out["closed"] == 5 * PERIODS and out["alreadyClosed"] == 0 and out["failures"] == []
    assert out["run"]["status"] == "DONE"
    assert out["run"]["chunks"] == out["run"]["chunksDone"] == 3  # 5 contracts in chunks of 2
    assert await Invoice.filter(organization_id=org).count() == 5 * PERIODS
    assert not await BillingPeriod.filter(organization_id=org, status="OPEN").exists()
    again = (await gql(org, CLOSE, {"wait": True}))["closeDuePeriods"]
    assert again["closed"] == 0 and again["run"]["chunks"] == 0 and again["run"]["status"] == "DONE"


async def test_wait_false_answers_at_once_and_close_run_reports_progress(db: str, small_chunks: int) -> None:
    org, _ = await org_with_contracts(3)
    out = (await gql(org, CLOSE, {"wait": False}))["closeDuePeriods"]
    assert out["run"]["status"] == "QUEUED" and out["closed"] == 0 and out["run"]["chunks"] == 2
    run_id = out["run"]["id"]
    for _ in range(200):  # bounded poll of the in-process run
        run = (await gql(org, POLL, {"id": run_id}))["closeRun"]
        if run["status"] == "DONE":
            break
        await asyncio.sleep(0.05)
    assert run["status"] == "DONE" and run["chunksDone"] == 2 and run["closed"] == 3 * PERIODS
    assert run["finishedAt"] is not None
    other, _ = await org_with_contracts(0, name="Other")
    assert (await gql(other, POLL, {"id": run_id}))["closeRun"] is None  # another tenant's run
    wrong = await gql_raw(org, POLL, {"id": "Q29udHJhY3Q6MQ=="})  # a Contract id
    assert wrong.errors and wrong.errors[0].extensions["code"] == "INVALID_ID"


async def test_a_chunk_job_run_twice_closes_nothing_twice_and_counts_once(db: str, recorder: Recorder) -> None:
    org, _ = await org_with_contracts(3)
    run = await start_run(org)
    [(entrypoint, payload)] = recorder.jobs
    assert entrypoint == CLOSE_CHUNK and ChunkJob.decode(payload).run_id == run.id
    await close_chunk_job(payload)
    await close_chunk_job(payload)  # the same job again (a retry after its worker died)
    assert await Invoice.filter(organization_id=org).count() == 3 * PERIODS
    again = await CloseRun.get(id=run.id)
    assert (again.status, again.chunks_done, again.closed, again.already_closed) == ("DONE", 1, 3 * PERIODS, 0)
    assert await CloseRunChunk.filter(run_id=run.id).count() == 1


async def test_a_retried_chunk_counts_what_the_dead_attempt_closed_as_already_closed(db: str, recorder: Recorder) -> None:
    org, contracts = await org_with_contracts(2)
    run = await start_run(org)
    [(_, payload)] = recorder.jobs
    job = ChunkJob.decode(payload)
    await close_batch.close_chunk(org, job.targets[:1], job.as_of)  # the killed attempt got this far
    await close_chunk_job(payload)
    again = await CloseRun.get(id=run.id)
    assert (again.closed, again.already_closed) == (2 * PERIODS - 1, 1)
    assert await Invoice.filter(organization_id=org).count() == 2 * PERIODS


async def test_the_schedule_opens_one_job_per_chunk_for_each_organization_with_due_periods(
        db: str, recorder: Recorder, small_chunks: int) -> None:
    busy, contracts = await org_with_contracts(5, name="Busy")
    idle, _ = await org_with_contracts(0, name="Idle")
    with frozen_clock(date(2025, 2, 1)):  # January is due (grace 1 day: from 2 February) ... not yet
        assert await enqueue_due_closes() == []
    with frozen_clock(date(2025, 2, 2)):  # January of the 5 contracts is due; February is not
        [run] = await enqueue_due_closes()
    assert (run.organization_id, run.as_of, run.chunks, run.status) == (busy, date(2025, 2, 2), 3, "QUEUED")
    jobs = [ChunkJob.decode(p) for _, p in recorder.jobs]
    assert [j.chunk_no for j in jobs] == [0, 1, 2]
    assert sorted(c for j in jobs for c, _ in j.targets) == sorted(contracts)
    assert all(start == date(2025, 1, 1) for j in jobs for _, start in j.targets)


async def test_schedule_setting() -> None:
    assert schedule_expression("0 * * * *") == "0 * * * *"
    assert schedule_expression("off") is None
    with pytest.raises(ValueError):
        schedule_expression("every hour")


async def test_the_in_process_queue_runs_jobs_in_a_fresh_context(db: str) -> None:
    seen: list[bytes] = []

    async def handler(payload: bytes) -> None:
        seen.append(payload)

    job_queue.HANDLERS["test-echo"] = handler
    try:
        q = InProcessQueue(2)
        await q.enqueue("test-echo", [b"a", b"b", b"c"])
        await q.join()
        await q.stop()
    finally:
        del job_queue.HANDLERS["test-echo"]
    assert sorted(seen) == [b"a", b"b", b"c"]


async def test_the_server_runs_jobs_in_process_on_sqlite_and_hands_them_to_pgqueuer_on_postgres() -> None:
    from app.jobs.lifecycle import start_jobs
    from app.jobs.queue import PgQueuerQueue, current_queue
    from app.settings import load_settings

    base = load_settings()
    previous = current_queue()
    try:
        embedded = await start_jobs(base.model_copy(update={"database_url": "sqlite://:memory:"}))
        assert isinstance(current_queue(), InProcessQueue)
        assert [t.get_name() for t in embedded.tasks] == ["close-schedule"]
        await embedded.stop()
        assert all(t.done() for t in embedded.tasks)
        postgres = await start_jobs(base.model_copy(update={"database_url": "postgres://x@127.0.0.1:1/none",
                                                             "in_process_worker": False}))
        assert isinstance(current_queue(), PgQueuerQueue) and postgres.tasks == []
        await postgres.stop()
    finally:
        use_queue(previous)


async def test_wait_true_answers_with_the_run_running_when_its_wait_runs_out(db: str, recorder: Recorder,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api.lifecycle import mutations
    from app.settings import load_settings

    settings = load_settings().model_copy(update={"close_wait_seconds": 0.2, "request_timeout_seconds": 10})
    monkeypatch.setattr(mutations, "load_settings", lambda: settings)
    assert mutations.wait_seconds(settings.model_copy(update={"close_wait_seconds": 300})) == 8  # < the timeout
    org, _ = await org_with_contracts(1)
    out = await gql_raw(org, CLOSE, {"wait": True})  # nobody runs the recorded job
    assert out.errors is None
    assert out.data["closeDuePeriods"]["run"]["status"] == "QUEUED" and out.data["closeDuePeriods"]["closed"] == 0


def test_the_worker_command_needs_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import main

    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["worker"])
    assert "needs PostgreSQL" in str(exited.value.code)
