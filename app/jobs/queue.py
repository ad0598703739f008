"""Where jobs go: one interface, ``enqueue(entrypoint, payloads)``, two implementations.

``PgQueuerQueue`` (PostgreSQL) inserts the jobs into PgQueuer's table, where any ``commitments
worker`` process (or the server's in-process consumer) picks them up. ``InProcessQueue`` (the
embedded SQLite default, and any process nobody configured, such as the tests) runs the same
handlers in this process on an asyncio queue: a job interrupted by a crash is lost, and the next
run (the schedule or a call) closes what is still due, because closes are idempotent.

The process chooses once at start (``use_queue``: the server's lifespan, the worker command).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from pgqueuer import AsyncpgDriver, Queries
from tortoise import connections

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}  # filled by app.jobs.handlers


class JobQueue(Protocol):
    async def enqueue(self, entrypoint: str, payloads: list[bytes]) -> None:
        """Queue one job of ``entrypoint`` per payload."""
        ...


class PgQueuerQueue:
    """Jobs into PgQueuer's table, in one statement, on the current Tortoise connection."""

    async def enqueue(self, entrypoint: str, payloads: list[bytes]) -> None:
        if not payloads:
            return
        async with connections.get("default").acquire_connection() as con:
            await Queries(AsyncpgDriver(con)).enqueue(
                [entrypoint] * len(payloads), list(payloads), [0] * len(payloads))


class InProcessQueue:
    """An asyncio queue served by ``concurrency`` tasks of this process's running loop.

    The tasks start on the first enqueue (and again if the loop changed) and run in a fresh
    context: a job never inherits the enqueuing request's id or transaction.
    """

    def __init__(self, concurrency: int = 2) -> None:
        self.concurrency = max(1, concurrency)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, bytes]] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def enqueue(self, entrypoint: str, payloads: list[bytes]) -> None:
        queue = self._started()
        for payload in payloads:
            queue.put_nowait((entrypoint, payload))

    async def join(self) -> None:
        """Wait until every queued job has run (tests, shutdown)."""
        if self._queue is not None and self._loop is asyncio.get_running_loop():
            await self._queue.join()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._queue, self._loop = [], None, None

    def _started(self) -> asyncio.Queue[tuple[str, bytes]]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue()
            self._tasks = [loop.create_task(self._work(self._queue), context=contextvars.Context())
                           for _ in range(self.concurrency)]
        return self._queue

    async def _work(self, queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        while True:
            entrypoint, payload = await queue.get()
            try:
                await run_job(entrypoint, payload)
            except Exception:  # noqa: BLE001 - one job's failure must not stop the queue
                log.exception("job %s failed", entrypoint)
            finally:
                queue.task_done()


async def run_job(entrypoint: str, payload: bytes) -> None:
    """Run one job's handler (both queues and PgQueuer's consumer come through here)."""
    import app.jobs.handlers  # noqa: F401 - registers the handlers

    await HANDLERS[entrypoint](payload)


_current: JobQueue = InProcessQueue()


def current_queue() -> JobQueue:
    return _current


def use_queue(queue: JobQueue) -> JobQueue:
    """Make ``queue`` this process's queue; returns the previous one."""
    global _current
    previous, _current = _current, queue
    return previous
