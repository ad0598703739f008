"""Jobs in the server's process, started and stopped by the ASGI lifespan.

Embedded SQLite: an in-process queue runs the handlers and ``schedule_loop`` the schedule; no
extra command. PostgreSQL: jobs go to PgQueuer, and unless ``COMMITMENTS_IN_PROCESS_WORKER=false``
the server also runs a consumer (so a single node needs no ``commitments worker`` and
closeDuePeriods(wait: true) always completes).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from app.jobs.queue import InProcessQueue, PgQueuerQueue, use_queue
from app.jobs.schedule import schedule_expression, schedule_loop
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Background:
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    queue: InProcessQueue | None = None

    async def stop(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            if not task.done() and task.get_name() != "pgqueuer-consumer":
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.queue is not None:
            await self.queue.stop()


async def start_jobs(settings: Settings) -> Background:
    expression = schedule_expression(settings.close_schedule)
    background = Background()
    if settings.is_embedded:
        background.queue = InProcessQueue(settings.worker_concurrency)
        use_queue(background.queue)
        if expression:
            background.tasks.append(asyncio.create_task(schedule_loop(expression), name="close-schedule"))
        return background
    use_queue(PgQueuerQueue())
    if settings.in_process_worker:
        from app.jobs.worker import consume

        background.tasks.append(asyncio.create_task(
            _logged(consume(settings, background.stop_event, settings.worker_concurrency)),
            name="pgqueuer-consumer"))
    return background


async def _logged(consumer: object) -> None:
    try:
        await consumer  # type: ignore[misc]
    except Exception:  # noqa: BLE001 - the server keeps serving; jobs wait for a worker
        log.exception("the in-process job consumer stopped")
