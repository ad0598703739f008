"""GraphQL views of the product catalog."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.enums import ProductKind
from app.api.scalars import quantity
from app.api.timestamps import Timestamped, stamps
from app.db import models


@strawberry.type(description="A catalog item: a usage class (metered), a service, or a package of services.")
class Product(Timestamped, relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique code within the organization, e.g. sms-mo-mb or sim-a.")
    name: str = strawberry.field(description="Display name.")
    kind: ProductKind = strawberry.field(description="USAGE_CLASS, SERVICE or PACKAGE.")
    unit: str = strawberry.field(description="Unit of measure, e.g. MB, GB, SIM.")

    @classmethod
    def from_row(cls, row: models.Product) -> Product:
        return cls(**stamps(row), id=row.id, code=row.code, name=row.name, kind=ProductKind(row.kind), unit=row.unit)

    @strawberry.field(description="The services a package holds (empty for other kinds).")
    async def package_items(self, info: Info) -> list[PackageItem]:
        rows = await info.context.loaders.children(models.PackageItem, "package_id", "position").load(self.id)
        return [PackageItem.from_row(r) for r in rows]


@strawberry.type(description="A service held by a package.")
class PackageItem:
    quantity: Decimal = strawberry.field(description="Units of the service per package.")
    service_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.PackageItem) -> PackageItem:
        return cls(quantity=quantity(row.quantity), service_id=row.service_id)

    @strawberry.field(description="The SERVICE product the package holds, quantity units of it per package.")
    async def service(self, info: Info) -> Product:
        return Product.from_row(await info.context.loaders.by_id(models.Product).load(self.service_id))


async def load_product(info: Info, product_id: int | None) -> Product | None:
    """The product ``product_id`` through the request's loader (None stays None)."""
    if product_id is None:
        return None
    row = await info.context.loaders.by_id(models.Product).load(product_id)
    return Product.from_row(row) if row else None
