"""The PgQueuer consumer: ``commitments worker`` and the server's in-process one on PostgreSQL.

Any number of consumers, on any machines, share one PostgreSQL: PgQueuer hands each job to one of
them (``FOR UPDATE SKIP LOCKED``) and runs the schedule's tick on one of them. A consumer beats a
heartbeat for every job it runs; a job whose heartbeat is older than ``COMMITMENTS_JOB_RETRY_SECONDS``
(default 30 s: its worker was killed or lost its machine) is picked again by another consumer.
A chunk is idempotent, so the retry closes only what the dead worker had not committed. A job
failing because the database is unavailable is put back with the same delay.
"""

import asyncio
import logging
from datetime import timedelta

import asyncpg
from pgqueuer import Job, PgQueuer, RetryRequested
from pgqueuer.models import Schedule

from app.db.outage import is_database_unavailable
from app.db.config import asyncpg_dsn
from app.jobs.queue import run_job
from app.jobs.schedule import SCHEDULED_CLOSE, enqueue_due_closes, schedule_expression
from app.services.close_runs import CLOSE_CHUNK
from app.settings import Settings

log = logging.getLogger(__name__)


def build_consumer(connection: asyncpg.Connection, settings: Settings, concurrency: int) -> PgQueuer:
    """A PgQueuer app over its own connection (it LISTENs on it) with our job types and schedule."""
    pgq = PgQueuer.from_asyncpg_connection(connection)
    running = asyncio.Semaphore(max(1, concurrency))
    retry = timedelta(seconds=settings.job_retry_seconds)

    @pgq.entrypoint(CLOSE_CHUNK, on_failure="hold")
    async def close_chunk(job: Job) -> None:
        async with running:
            try:
                await run_job(CLOSE_CHUNK, job.payload or b"")
            except Exception as exc:
                if is_database_unavailable(exc):
                    raise RetryRequested(retry, f"database unavailable: {type(exc).__name__}") from exc
                raise

    expression = schedule_expression(settings.close_schedule)
    if expression:
        @pgq.schedule(SCHEDULED_CLOSE, expression)
        async def scheduled_close(schedule: Schedule) -> None:
            await enqueue_due_closes()

    return pgq


async def consume(settings: Settings, stop: asyncio.Event, concurrency: int) -> None:
    """Run a consumer until ``stop`` is set; the jobs in hand are finished first (graceful)."""
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        pgq = build_consumer(connection, settings, concurrency)
        runner = asyncio.create_task(pgq.run(
            batch_size=1, max_concurrent_tasks=max(2, concurrency), dequeue_timeout=timedelta(seconds=5),
            heartbeat_timeout=timedelta(seconds=settings.job_retry_seconds)))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
        pgq.shutdown.set()
        stopping.cancel()
        await runner
    finally:
        await connection.close()
