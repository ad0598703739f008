"""Idempotency records: the stored first response of a mutation sent with an idempotency key."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class IdempotencyRecord(Model):
    """One key of one organization: which mutation used it, with which arguments, and its answer.

    ``fingerprint`` is the SHA-256 of the mutation's name and canonical arguments. The row is
    written in the same transaction as the mutation's effects (status ``IN_PROGRESS`` while it
    runs, ``COMPLETED`` with ``payload`` when it commits), so a committed row always has its
    effects and its answer. After ``expires_at`` the key may be used again.
    """

    id = fields.IntField(primary_key=True)
    organization: Any = fields.ForeignKeyField(
        "models.Organization", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    key = fields.CharField(max_length=200)
    mutation = fields.CharField(max_length=64)
    fingerprint = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    payload = fields.TextField(null=True)  # JSON text (ASCII: any string survives every backend)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("organization", "key"),)
        indexes = (Index(fields=("organization_id", "expires_at")),)
