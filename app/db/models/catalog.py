"""The product catalog: usage classes, services and packages (bundles of services)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from app.db.models.base import TenantModel, decimal_field


class Product(TenantModel):
    """A catalog item. kind is USAGE_CLASS, SERVICE or PACKAGE, code is unique per tenant."""

    code = fields.CharField(max_length=100)
    name = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=20)
    unit = fields.CharField(max_length=50)

    class Meta:
        table = "product"
        unique_together = (("organization", "code"),)


class PackageItem(TenantModel):
    """A service held by a package, with its quantity per package."""

    package: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.CASCADE)
    service: Any = fields.ForeignKeyField("models.Product", related_name=False, on_delete=fields.RESTRICT)
    quantity = decimal_field()
    position = fields.IntField(default=0)

    class Meta:
        table = "package_item"
        # Foreign keys the close, ingest and reads filter or join on (PostgreSQL does not index them).
        indexes = (Index(fields=("package_id",)), Index(fields=("service_id",)),)
