"""Due-close runs (README "Workers"): a due close cut into chunk jobs, and its recorded progress.

``open_run`` writes a ``close_run`` row (QUEUED, with the number of chunks) and queues one
``close-chunk`` job per chunk of ``close_batch.due_chunks``. A chunk job (``close_chunk_job``)
closes its chunk with ``close_batch.close_chunk`` and then, in one transaction with the run row
locked, writes the chunk's ``close_run_chunk`` row and adds its figures to the run, unless that
row exists: a job that runs twice (a retry after its worker died) closes nothing twice (the
close is idempotent) and is counted once. A chunk whose first attempt closed some periods before
its worker died reports those as ``already_closed`` on the retry: ``closed + already_closed``
is always every due period of the run. The run is DONE when every chunk has reported.

The run row is committed before its jobs are queued: a crash between the two leaves a QUEUED
run with no jobs, and the next run (the schedule or a call) closes what is still due.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from time import monotonic

from tortoise import timezone
from tortoise.transactions import in_transaction

from app.clock import utc_now
from app.db.models import CloseRun, CloseRunChunk
from app.jobs.queue import current_queue
from app.services.close_batch import close_chunk, due_chunks
from app.services.closing import CloseFailure, DueCloseReport

CLOSE_CHUNK = "close-chunk"  # the job type (PgQueuer entrypoint)


@dataclass(frozen=True)
class ChunkJob:
    """The payload of one close-chunk job."""

    run_id: int
    chunk_no: int
    org_id: int
    as_of: date
    targets: tuple[tuple[int, date], ...]

    def encode(self) -> bytes:
        return json.dumps({"run": self.run_id, "chunk": self.chunk_no, "org": self.org_id,
                           "as_of": self.as_of.isoformat(),
                           "targets": [[c, s.isoformat()] for c, s in self.targets]}).encode()

    @classmethod
    def decode(cls, payload: bytes) -> ChunkJob:
        data = json.loads(payload)
        return cls(int(data["run"]), int(data["chunk"]), int(data["org"]), date.fromisoformat(data["as_of"]),
                   tuple((int(c), date.fromisoformat(s)) for c, s in data["targets"]))


async def open_run(org_id: int, as_of: date, chunks: Sequence[Sequence[tuple[int, date]]]) -> CloseRun:
    """Record a run of ``chunks`` and queue one close-chunk job per chunk (none: the run is DONE)."""
    run = await CloseRun.create(organization_id=org_id, as_of=as_of, chunks=len(chunks),
                                status="QUEUED" if chunks else "DONE",
                                finished_at=None if chunks else utc_now())
    await current_queue().enqueue(CLOSE_CHUNK, [
        ChunkJob(run.id, i, org_id, as_of, tuple(chunk)).encode() for i, chunk in enumerate(chunks)])
    return run


async def start_run(org_id: int, as_of: date | None = None) -> CloseRun:
    """Plan and open a run of every period due by ``as_of`` (closeDuePeriods)."""
    day, chunks = await due_chunks(org_id, as_of)
    return await open_run(org_id, day, chunks)


async def close_chunk_job(payload: bytes) -> None:
    """The close-chunk job: close the chunk, then record its figures once."""
    job = ChunkJob.decode(payload)
    await CloseRun.filter(id=job.run_id, status="QUEUED").update(status="RUNNING", updated_at=timezone.now())  # bypasses auto_now
    report = await close_chunk(job.org_id, job.targets, job.as_of)
    await record_chunk(job, report)


async def record_chunk(job: ChunkJob, report: DueCloseReport) -> bool:
    """Add a chunk's figures to its run, once; False if this chunk had reported before."""
    async with in_transaction():
        run = await CloseRun.filter(id=job.run_id).select_for_update().first()
        if run is None or await CloseRunChunk.filter(run_id=job.run_id, chunk_no=job.chunk_no).exists():
            return False
        failures = [{"contract_id": f.contract_id, "period_start": f.period_start.isoformat(),
                     "code": f.code, "message": f.message} for f in report.failures]
        await CloseRunChunk.create(organization_id=job.org_id, run_id=job.run_id, chunk_no=job.chunk_no,
                                   closed=report.closed, already_closed=report.already_closed,
                                   failures=json.dumps(failures))
        run.chunks_done += 1
        run.closed += report.closed
        run.already_closed += report.already_closed
        run.failures = json.dumps(json.loads(run.failures) + failures)
        if run.chunks_done >= run.chunks:
            run.status, run.finished_at = "DONE", utc_now()
        elif run.status == "QUEUED":
            run.status = "RUNNING"
        await run.save(update_fields=["chunks_done", "closed", "already_closed", "failures", "status",
                                      "finished_at", "updated_at"])
    return True


def run_failures(run: CloseRun) -> tuple[CloseFailure, ...]:
    return tuple(CloseFailure(int(f["contract_id"]), date.fromisoformat(f["period_start"]), f["code"], f["message"])
                 for f in json.loads(run.failures))


async def wait_for_run(org_id: int, run_id: int, timeout: float) -> CloseRun:
    """The run once DONE, or as it stands after ``timeout`` seconds (polled, from 20 ms to 0.5 s)."""
    deadline, pause = monotonic() + timeout, 0.02
    while True:
        run = await CloseRun.get(organization_id=org_id, id=run_id)
        if run.status == "DONE" or monotonic() >= deadline:
            return run
        await asyncio.sleep(min(pause, max(0.0, deadline - monotonic())))
        pause = min(pause * 2, 0.5)
