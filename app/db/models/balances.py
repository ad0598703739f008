"""Balances: top-up credit on an account, separate from commitments."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Balance(TenantModel):
    """A credit on an account valid [start_date, end_date), drawn down by eligible charges."""

    account: Any = fields.ForeignKeyField("models.Account", related_name=False, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3)
    amount = decimal_field()
    start_date = fields.DateField()
    end_date = fields.DateField()
    priority = fields.IntField(default=0)
    eligible_charge_types = fields.JSONField(default=list)

    class Meta:
        table = "balance"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("account_id",)),)


class BalanceProduct(TenantModel):
    """A product a balance is limited to (none: every product)."""

    balance: Any = fields.ForeignKeyField("models.Balance", related_name=False, on_delete=fields.CASCADE)
    product: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)

    class Meta:
        table = "balance_product"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("balance_id",)), Index(fields=("product_id",)),)
