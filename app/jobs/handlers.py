"""The job handlers, by job type (PgQueuer entrypoint name). Each takes the job's payload bytes."""

from __future__ import annotations

from app.jobs.queue import HANDLERS
from app.services.close_runs import CLOSE_CHUNK, close_chunk_job

HANDLERS[CLOSE_CHUNK] = close_chunk_job
