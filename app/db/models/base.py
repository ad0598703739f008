"""Shared pieces of the Tortoise models: the tenant base class and exact decimal columns."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

# Money and quantities are NUMERIC(32, 12): 20 integer digits, 12 decimal places. The API refuses
# inputs that do not fit before they reach the database (INVALID_AMOUNT).
DECIMAL_DIGITS = 32
DECIMAL_PLACES = 12


def decimal_field(**kwargs: Any) -> Any:
    """An exact NUMERIC column for money or quantities."""
    return fields.DecimalField(max_digits=DECIMAL_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class TenantModel(Model):
    """A row owned by one organization. Every query filters on organization_id."""

    id = fields.IntField(primary_key=True)
    organization: Any = fields.ForeignKeyField(
        "models.Organization", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
