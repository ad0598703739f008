"""The scheduled due close (SPEC §12: the service closes due periods by itself).

Every tick of ``COMMITMENTS_CLOSE_SCHEDULE`` (a cron expression, UTC; default hourly, ``off``
turns it off) ``enqueue_due_closes`` opens, for every organization with periods due today, one
run with one close-chunk job per chunk. On PostgreSQL the tick is PgQueuer's schedule (one
worker of the cluster runs each tick); on SQLite ``schedule_loop`` runs in the server's process.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime

from croniter import croniter

from app.clock import utc_now
from app.db.models import CloseRun, Organization
from app.services.close_runs import due_chunks, open_run
from app.services.corrections import correct_pending

log = logging.getLogger(__name__)
SCHEDULED_CLOSE = "scheduled-due-close"  # PgQueuer's schedule entrypoint


async def enqueue_due_closes(as_of: date | None = None) -> list[CloseRun]:
    """Open a run for every organization with due periods (none for an organization with none)."""
    runs = []
    for org_id in await Organization.all().order_by("id").values_list("id", flat=True):
        day, chunks = await due_chunks(org_id, as_of)
        if chunks:
            runs.append(await open_run(org_id, day, chunks))
        await correct_pending(org_id)  # late data of closed periods (SPEC §17)
    log.info("scheduled due close: %d runs opened", len(runs))
    return runs


def schedule_expression(value: str) -> str | None:
    """The cron expression of the setting, or None when the schedule is off; refused if invalid."""
    if value.strip().lower() in {"", "off", "false", "none"}:
        return None
    if not croniter.is_valid(value):
        raise ValueError(f"COMMITMENTS_CLOSE_SCHEDULE is not a cron expression: {value!r}")
    return value


async def schedule_loop(expression: str) -> None:
    """Run ``enqueue_due_closes`` at every tick of ``expression`` (in-process, until cancelled)."""
    ticks = croniter(expression, utc_now())
    while True:
        due_at: datetime = ticks.get_next(datetime)
        await asyncio.sleep(max(0.0, (due_at - utc_now()).total_seconds()))
        try:
            await enqueue_due_closes()
        except Exception:  # noqa: BLE001 - a failed tick is logged; the next one closes what is due
            log.exception("scheduled due close failed")
