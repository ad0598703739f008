"""Shared pieces of the Tortoise models: the tenant base classes and exact decimal columns."""

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


def updated_at_field() -> Any:
    """When the row was last written. ``auto_now`` stamps it on ``save()``, ``bulk_create`` and
    ``bulk.insert_rows``; the statements that bypass them (``QuerySet.update``, raw INSERTs and
    UPDATEs such as the close's) set it themselves. No database default: a write that forgets it
    fails (NOT NULL) instead of leaving a wrong time."""
    return fields.DatetimeField(auto_now=True)


class AppendOnlyTenantModel(Model):
    """A row owned by one organization that is written once and never updated (no updated_at:
    it would always equal created_at). Every query filters on organization_id."""

    id = fields.IntField(primary_key=True)
    organization: Any = fields.ForeignKeyField(
        "models.Organization", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True


class TenantModel(AppendOnlyTenantModel):
    """A row owned by one organization, with when it was created and last updated."""

    updated_at = updated_at_field()

    class Meta:
        abstract = True
