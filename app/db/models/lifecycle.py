"""What activation materializes: billing periods and commitment windows."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class BillingPeriod(TenantModel):
    """One billing period [start_date, end_date) of an active contract. OPEN until closed."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    number = fields.IntField()
    start_date = fields.DateField()
    end_date = fields.DateField()
    status = fields.CharField(max_length=10, default="OPEN")
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "billing_period"
        unique_together = (("contract", "number"),)


class CommitmentWindow(TenantModel):
    """One window of a commitment with its committed amount, and what it measured once settled."""

    commitment: Any = fields.ForeignKeyField("models.Commitment", related_name=False, on_delete=fields.CASCADE)
    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    number = fields.IntField()
    start_date = fields.DateField()
    end_date = fields.DateField()
    committed = decimal_field()
    settled = fields.BooleanField(default=False)
    measured = decimal_field(null=True)
    shortfall = decimal_field(null=True)
    carried = decimal_field(null=True)  # make-good (SPEC §18): the shortfall carried into the next window
    recovered = decimal_field(null=True)  # what the next window's excess recovered of it

    class Meta:
        table = "commitment_window"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("contract_id",)),)
        unique_together = (("commitment", "number"),)
