"""Usage events and one-time charges: what feeds a period's rating."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import AppendOnlyTenantModel, TenantModel, decimal_field


class UsageEvent(AppendOnlyTenantModel):
    """One metered event. day is the UTC day of occurred_at, the key of period aggregates. Stored
    once and never updated (the table holds millions of rows: no updated_at column to fill)."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    usage_class: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)
    quantity = decimal_field()
    occurred_at = fields.DatetimeField()
    day = fields.DateField()
    idempotency_key = fields.CharField(max_length=200)
    connection_id = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "usage_event"
        unique_together = (("organization", "idempotency_key"),)
        # (organization_id, occurred_at, id): the usageEvents list in its order (timestamp, then id).
        indexes = (Index(fields=("contract_id", "day", "usage_class_id")), Index(fields=("usage_class_id",)),
                   Index(fields=("organization_id", "occurred_at", "id")))


class OneTimeCharge(TenantModel):
    """A one-time charge posted through the API, billed in the period holding service_date."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    product: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)
    amount = decimal_field()
    service_date = fields.DateField()
    description = fields.CharField(max_length=200, default="")
    idempotency_key = fields.CharField(max_length=200)
    seq = fields.IntField(default=0)  # creation order within the contract (SPEC §7 tie-breaks)

    class Meta:
        table = "one_time_charge"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("contract_id",)), Index(fields=("product_id",)),)
        unique_together = (("organization", "idempotency_key"),)
