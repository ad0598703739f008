"""Due-close runs (README "Workers"): one run per closeDuePeriods call or scheduled tick, cut into
chunk jobs; each finished chunk writes one ``close_run_chunk`` row and the run's figures are the
sums of its chunk rows, so a chunk job that runs twice is counted once."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from app.db.models.base import TenantModel


class CloseRun(TenantModel):
    """A due close of one organization as of a day: QUEUED, RUNNING, then DONE when every chunk
    reported. ``failures`` is a JSON list of {contract_id, period_start, code, message}."""

    as_of = fields.DateField()
    status = fields.CharField(max_length=10, default="QUEUED")
    chunks = fields.IntField()
    chunks_done = fields.IntField(default=0)
    closed = fields.IntField(default=0)
    already_closed = fields.IntField(default=0)
    failures = fields.TextField(default="[]")
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "close_run"


class CloseRunChunk(TenantModel):
    """What one chunk of a run closed, written once (the first time the chunk's job finishes)."""

    run: Any = fields.ForeignKeyField("models.CloseRun", related_name=False, on_delete=fields.CASCADE)
    chunk_no = fields.IntField()
    closed = fields.IntField()
    already_closed = fields.IntField()
    failures = fields.TextField(default="[]")

    class Meta:
        table = "close_run_chunk"
        unique_together = (("run", "chunk_no"),)
