"""Commitments with their ramp steps, fee dates, eligible products and penalties (with tiers)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Commitment(TenantModel):
    """A promise inside a contract. Dates default to the contract's term when null."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=200)
    seq = fields.IntField(default=0)  # creation order within the contract (SPEC §7 tie-breaks)
    type = fields.CharField(max_length=20)
    start_date = fields.DateField(null=True)
    end_date = fields.DateField(null=True)
    frequency = fields.CharField(max_length=20)
    usage_class: Any = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    service: Any = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    package: Any = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    package_frequency = fields.CharField(max_length=20, null=True)
    payment = fields.CharField(max_length=20, null=True)
    amount_prepaid = decimal_field(default=0)
    amount_first_bill = decimal_field(default=0)
    fee_billing = fields.CharField(max_length=20, default="BILLING_PLAN")
    fee_timing = fields.CharField(max_length=20, default="IN_ARREARS", db_default="IN_ARREARS")  # SPEC §16
    eligible_charge_types = fields.JSONField(default=list)
    overage_surcharge_percent = decimal_field(default=0)
    separate_overage = fields.BooleanField(default=False)
    rollover_fraction = decimal_field(default=0)
    rollover_cap = decimal_field(null=True)
    prorate = fields.BooleanField(default=True)
    true_up = fields.BooleanField(default=True)
    priority = fields.IntField(default=0)
    make_good = fields.BooleanField(default=False, db_default=False)  # SPEC §18: carry a shortfall one window
    renews: Any = fields.ForeignKeyField(  # the commitment this one renews (SPEC §15)
        "models.Commitment", related_name=False, on_delete=fields.RESTRICT, null=True
    )

    class Meta:
        table = "commitment"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("contract_id",)), Index(fields=("service_id",)), Index(fields=("usage_class_id",)), Index(fields=("package_id",)), Index(fields=("renews_id",)),)


class RampStep(TenantModel):
    """Committed amount per window from window from_window (counted from 1)."""

    commitment: Any = fields.ForeignKeyField("models.Commitment", related_name=False, on_delete=fields.CASCADE)
    from_window = fields.IntField()
    amount = decimal_field()

    class Meta:
        table = "ramp_step"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("commitment_id",)),)


class FeeDate(TenantModel):
    """An explicit commitment-fee instalment of a prepaid commitment."""

    commitment: Any = fields.ForeignKeyField("models.Commitment", related_name=False, on_delete=fields.CASCADE)
    date = fields.DateField()
    amount = decimal_field()

    class Meta:
        table = "fee_date"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("commitment_id",)),)


class CommitmentProduct(TenantModel):
    """A product a commitment's eligible charges are limited to (none: every product)."""

    commitment: Any = fields.ForeignKeyField("models.Commitment", related_name=False, on_delete=fields.CASCADE)
    product: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)

    class Meta:
        table = "commitment_product"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("commitment_id",)), Index(fields=("product_id",)),)


class Penalty(TenantModel):
    """What a missed window costs: CHARGE, COUNT or TIERED."""

    commitment: Any = fields.ForeignKeyField("models.Commitment", related_name=False, on_delete=fields.CASCADE)
    position = fields.IntField()
    kind = fields.CharField(max_length=20)
    amount = decimal_field(default=0)
    rate = decimal_field(default=0)
    basis = fields.CharField(max_length=20, default="UNITS")
    mode = fields.CharField(max_length=20, default="GRADUATED")

    class Meta:
        table = "penalty"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("commitment_id",)),)


class PenaltyTier(TenantModel):
    """A tier of a TIERED penalty, up_to inclusive, null on the open last tier."""

    penalty: Any = fields.ForeignKeyField("models.Penalty", related_name=False, on_delete=fields.CASCADE)
    position = fields.IntField()
    up_to = decimal_field(null=True)
    rate = decimal_field()
    flat = decimal_field(default=0)

    class Meta:
        table = "penalty_tier"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("penalty_id",)),)
