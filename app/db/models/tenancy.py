"""Organizations (tenants), their API keys and their accounts (end customers)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.db.models.base import TenantModel, updated_at_field


class Organization(Model):
    """A tenant: the company that sells. Holds defaults for what it owns."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    default_currency = fields.CharField(max_length=3, default="USD")
    drawdown_order = fields.CharField(max_length=20, default="COMMITMENT_FIRST")
    close_grace_days = fields.IntField(default=1)
    late_usage = fields.CharField(max_length=10, default="ADJUST")  # ADJUST or REJECT (SPEC §17)
    correction_window_days = fields.IntField(default=60)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = updated_at_field()

    class Meta:
        table = "organization"


class ApiKey(Model):
    """An API key of an organization, stored as a SHA-256 hash, prefix identifies it."""

    id = fields.IntField(primary_key=True)
    organization: Any = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("organization_id",)),)


class Account(TenantModel):
    """An end customer of the organization. drawdown_order overrides the organization's."""

    name = fields.CharField(max_length=200)
    external_id = fields.CharField(max_length=200, null=True)
    drawdown_order = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "account"
        unique_together = (("organization", "external_id"),)
