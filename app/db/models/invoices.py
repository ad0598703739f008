"""Invoices (final and immutable once written) and what a close keeps for later windows."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Invoice(TenantModel):
    """An invoice: the close of one billing period (PERIOD) or a contract's activation (ACTIVATION).

    An ACTIVATION invoice (SPEC §16) bills the fees in advance due in the first period, which it
    references. One of each kind per period at most: the unique key
    (billing_period, kind) is what makes two concurrent closes of a period write one invoice."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    billing_period: Any = fields.ForeignKeyField(
        "models.BillingPeriod", related_name=False, on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=20, default="PERIOD", db_default="PERIOD")  # PERIOD | ACTIVATION
    number = fields.CharField(max_length=50)
    currency = fields.CharField(max_length=3)
    period_start = fields.DateField()
    period_end = fields.DateField()
    charges_subtotal = decimal_field()
    drawdown_total = decimal_field()
    total = decimal_field()
    version = fields.IntField(default=1)  # the contract version whose terms it billed (SPEC §13)

    class Meta:
        table = "invoice"
        unique_together = (("billing_period", "kind"),)
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them);
        # billing_period_id is indexed by the unique key, which leads with it.
        indexes = (Index(fields=("contract_id",)),)


class InvoiceLine(TenantModel):
    """One line of an invoice: a charge, fee, surcharge, true-up, penalty or drawdown."""

    invoice: Any = fields.ForeignKeyField("models.Invoice", related_name=False, on_delete=fields.RESTRICT)
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

    class Meta:
        table = "invoice_line"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("invoice_id",)), Index(fields=("pool_id",)), Index(fields=("commitment_id",)),)


class RatedCharge(TenantModel):
    """A drawable charge as rated by a close, kept for the windows that span later periods."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    billing_period: Any = fields.ForeignKeyField(
        "models.BillingPeriod", related_name=False, on_delete=fields.RESTRICT
    )
    key = fields.CharField(max_length=200)
    type = fields.CharField(max_length=20)
    product = fields.CharField(max_length=100)
    amount = decimal_field()
    service_start = fields.DateField()
    service_end = fields.DateField()
    quantity = decimal_field(null=True)
    unit_amount = decimal_field(null=True)
    seq = fields.IntField(default=0)

    class Meta:
        table = "rated_charge"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("billing_period_id",)), Index(fields=("contract_id",)),)


class PeriodUsage(TenantModel):
    """Total usage of one usage class in one closed billing period (frozen: late data is refused)."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.RESTRICT)
    billing_period: Any = fields.ForeignKeyField(
        "models.BillingPeriod", related_name=False, on_delete=fields.RESTRICT
    )
    usage_class = fields.CharField(max_length=100)
    quantity = decimal_field()

    class Meta:
        table = "period_usage"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("billing_period_id",)), Index(fields=("contract_id",)),)
