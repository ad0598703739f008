"""Credit pools and their append-only ledger."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class CreditPool(TenantModel):
    """Money that can pay charges: a prepaid window, a postpaid tracking window, a rollover credit
    or a balance. key is the billing core's pool key, balance caches the sum of its entries."""

    account: Any = fields.ForeignKeyField("models.Account", related_name=False, on_delete=fields.RESTRICT)
    contract: Any = fields.ForeignKeyField(
        "models.Contract", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    commitment: Any = fields.ForeignKeyField(
        "models.Commitment", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    balance_source: Any = fields.ForeignKeyField(
        "models.Balance", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    key = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=20)
    currency = fields.CharField(max_length=3)
    valid_start = fields.DateField()
    valid_end = fields.DateField()
    priority = fields.IntField(default=0)
    eligible_charge_types = fields.JSONField(default=list)
    eligible_products = fields.JSONField(default=list)
    window_number = fields.IntField(null=True)
    rolled_over = fields.BooleanField(default=False)
    seq = fields.IntField(default=0)
    balance = decimal_field(default=0)

    class Meta:
        table = "credit_pool"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("contract_id",)), Index(fields=("commitment_id",)), Index(fields=("balance_source_id",)), Index(fields=("account_id",)),)
        unique_together = (("organization", "key"),)


class LedgerEntry(TenantModel):
    """An immutable signed movement on a pool: ISSUE, CONSUME, EXPIRE, ROLLOVER_OUT, ROLLOVER_IN,
    CREDIT_BACK, VOID, ADJUST. Never updated or deleted."""

    pool: Any = fields.ForeignKeyField("models.CreditPool", related_name=False, on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=20)
    amount = decimal_field()
    on_date = fields.DateField()
    charge_key = fields.CharField(max_length=200, null=True)
    note = fields.CharField(max_length=200, default="")
    invoice: Any = fields.ForeignKeyField("models.Invoice", related_name=False, on_delete=fields.RESTRICT, null=True)
    credited_entry: Any = fields.ForeignKeyField(
        "models.LedgerEntry", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    adjustment: Any = fields.ForeignKeyField(  # the correction's adjustment an ADJUST entry belongs to (§17)
        "models.Adjustment", related_name=False, on_delete=fields.RESTRICT, null=True
    )

    class Meta:
        table = "ledger_entry"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("invoice_id",)), Index(fields=("pool_id",)), Index(fields=("credited_entry_id",)), Index(fields=("adjustment_id",)),)
