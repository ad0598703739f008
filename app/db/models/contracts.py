"""Contracts and what they price: usage prices with tiers, and service lines."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Contract(TenantModel):
    """An account's agreement. Status DRAFT → ACTIVE → ENDED, or CANCELLED from DRAFT."""

    account: Any = fields.ForeignKeyField("models.Account", related_name=False, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3)
    start_date = fields.DateField()
    end_date = fields.DateField()
    billing_frequency = fields.CharField(max_length=20)
    standing_charge = decimal_field(default=0)
    minimum_spend = decimal_field(default=0)
    status = fields.CharField(max_length=20, default="DRAFT", db_index=True)
    activated_at = fields.DatetimeField(null=True)
    renews: Any = fields.ForeignKeyField(  # the contract this one renews (SPEC §15)
        "models.Contract", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    version = fields.IntField(default=1)  # its latest version (SPEC §13); 1: never amended, no version rows
    early_termination_fee = decimal_field(default=0)  # billed on an early termination (SPEC §14)
    # A termination (SPEC §14): end_date becomes the termination date; original_end_date keeps the
    # agreed end (load_terms_many builds the terms as agreed, then cuts them at terminated_on).
    original_end_date = fields.DateField(null=True)
    terminated_on = fields.DateField(null=True)
    terminated_at = fields.DatetimeField(null=True)
    termination_reason = fields.CharField(max_length=500, null=True)
    termination_charge_remaining = fields.BooleanField(default=False)
    termination_fee_waived = fields.BooleanField(default=False)
    termination_consumed = fields.JSONField(default=dict)  # commitment id → credit consumed from its cut window

    class Meta:
        table = "contract"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("account_id",)), Index(fields=("renews_id",)),)


class Price(TenantModel):
    """The contract's price for one usage class."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    usage_class: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)
    model = fields.CharField(max_length=20)
    unit_amount = decimal_field(default=0)

    class Meta:
        table = "price"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("usage_class_id",)),)
        unique_together = (("contract", "usage_class"),)


class PriceTier(TenantModel):
    """A tier of a graduated or volume price, up_to is inclusive, null on the open last tier."""

    price: Any = fields.ForeignKeyField("models.Price", related_name=False, on_delete=fields.CASCADE)
    position = fields.IntField()
    up_to = decimal_field(null=True)
    unit_amount = decimal_field()
    flat_amount = decimal_field(default=0)

    class Meta:
        table = "price_tier"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("price_id",)),)


class ServiceLine(TenantModel):
    """A service or package on a contract, with quantity, recurring unit price and active dates."""

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    product: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)
    seq = fields.IntField(default=0)  # creation order within the contract (SPEC §7 tie-breaks)
    package: Any = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.RESTRICT, null=True
    )
    package_frequency = fields.CharField(max_length=20, null=True)
    quantity = decimal_field()
    unit_price = decimal_field(default=0)
    start_date = fields.DateField()
    end_date = fields.DateField(null=True)
    external_id = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "service_line"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("contract_id",)), Index(fields=("package_id",)), Index(fields=("product_id",)),)


class ContractVersion(TenantModel):
    """The terms of an amended contract from ``effective_date`` on (SPEC §13): immutable once written.

    ``terms`` is the billing core's ``ContractTerms`` of the version as JSON (``terms_snapshot``):
    the close of a period loads the latest version effective on or before the period's start.
    Version 1 (the contract as activated) is written with the first amendment; a contract never
    amended has no rows here and bills from its term rows. ``changes`` is what the amendment asked
    for, as given, for people to read.
    """

    contract: Any = fields.ForeignKeyField("models.Contract", related_name=False, on_delete=fields.CASCADE)
    number = fields.IntField()
    effective_date = fields.DateField()
    reason = fields.CharField(max_length=500, default="")
    changes = fields.JSONField(default=list)
    terms = fields.JSONField()
    created_by = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "contract_version"
        indexes = (Index(fields=("contract_id",)),)
        unique_together = (("contract", "number"),)
