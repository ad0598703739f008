"""Adjustments (SPEC §17): credit and debit notes linked to one invoice, the only way an issued
amount changes. Written once, never edited; the amount due for a period is its invoice's total plus
its adjustments' totals."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Adjustment(TenantModel):
    """A CREDIT_NOTE (total <= 0) or DEBIT_NOTE (total > 0) on one invoice, from a CORRECTION or
    GOODWILL. ``number`` is ADJ-<contract>-<n, 3 digits>, one sequence per contract."""

    invoice: Any = fields.ForeignKeyField("models.Invoice", related_name=False, on_delete=fields.RESTRICT)
    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=20)  # CREDIT_NOTE | DEBIT_NOTE
    source = fields.CharField(max_length=20)  # CORRECTION | GOODWILL
    number = fields.CharField(max_length=50)
    currency = fields.CharField(max_length=3)  # the invoice's
    reason = fields.CharField(max_length=500, default="")
    total = decimal_field()
    issued_on = fields.DateField()

    class Meta:
        table = "adjustment"
        unique_together = (("organization", "number"),)
        indexes = (Index(fields=("invoice_id",)), Index(fields=("contract_id",)),)


class AdjustmentLine(TenantModel):
    """One line of an adjustment: the shape of an invoice line (negative on a credit note).
    ``invoice_line`` is the invoice line a goodwill line credits; ``held_back`` marks a correction's
    line for credit a shared balance could not give (positive) or gives now (negative)."""

    adjustment: Any = fields.ForeignKeyField("models.Adjustment", related_name=False, on_delete=fields.RESTRICT)
    position = fields.IntField()
    type = fields.CharField(max_length=20)
    amount = decimal_field()
    description = fields.CharField(max_length=300, default="")
    product = fields.CharField(max_length=100, null=True)
    quantity = decimal_field(null=True)
    unit_amount = decimal_field(null=True)
    service_start = fields.DateField()
    service_end = fields.DateField()
    charge_key = fields.CharField(max_length=200, null=True)
    commitment: Any = fields.ForeignKeyField(
        "models.Commitment", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    pool: Any = fields.ForeignKeyField("models.CreditPool", related_name=False, on_delete=fields.RESTRICT, null=True)
    window_number = fields.IntField(null=True)
    invoice_line: Any = fields.ForeignKeyField(
        "models.InvoiceLine", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    held_back = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "adjustment_line"
        indexes = (Index(fields=("adjustment_id",)), Index(fields=("commitment_id",)), Index(fields=("pool_id",)),
                   Index(fields=("invoice_line_id",)),)
