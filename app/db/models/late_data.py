"""Late data (SPEC §17): usage or one-time charges stored for a billing period already closed."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class LateData(TenantModel):
    """One late usage event or one-time charge, pending until a correction applies it.

    The event or charge itself is stored as any other (it counts wherever its period is rated from
    now on); this row says that the invoice of its period did not bill it yet. ``applied_at`` is set
    by the correction that billed it (never unset)."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=20)  # USAGE or ONE_TIME
    day = fields.DateField()
    ref = fields.CharField(max_length=200)  # the event's idempotency key, or the charge's id
    usage_class_id = fields.IntField(null=True)
    quantity = decimal_field(null=True)
    amount = decimal_field(null=True)
    applied_at = fields.DatetimeField(null=True)

    class Meta:
        table = "late_data"
        indexes = (Index(fields=("contract_id",)),)
