"""Mutations on the product catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import NodeId
from app.api.catalog.types import Product
from app.api.context import org_of
from app.api.enums import ProductKind
from app.api.errors import UserErrorType
from app.api.input_limits import limited, require_valid
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import DeletePayloadFields, Refusable
from app.services import products
from app.services.checks import MAX_CODE, MAX_NAME, MAX_PACKAGE_ITEMS, MAX_UNIT


@strawberry.input(description="A service held by a package.")
class PackageItemInput:
    service_id: strawberry.ID = strawberry.field(description="A SERVICE product.")
    quantity: Decimal = strawberry.field(default=Decimal(1), description="Units of the service per package.")


@strawberry.input(description="A product; on update, omitted fields keep their value (kind cannot change).")
class ProductInput:
    code: str | None = strawberry.field(default=None, **limited("Unique code (required on create).", max_length=MAX_CODE))
    name: str | None = strawberry.field(default=None, **limited("Display name (required on create).", max_length=MAX_NAME))
    kind: ProductKind | None = strawberry.field(default=None, description="Required on create.")
    unit: str | None = strawberry.field(default=None, **limited("Unit of measure (required on create).", max_length=MAX_UNIT))
    package_items: list[PackageItemInput] | None = strawberry.field(default=None, **limited(
        "PACKAGE only: the services it holds (replaces the list on update).", max_items=MAX_PACKAGE_ITEMS))

    def to_spec(self) -> products.ProductSpec:
        require_valid(self)
        items = None
        if self.package_items is not None:
            items = tuple(
                products.PackageItemSpec(ids.decode(it.service_id, "Product", f"input.packageItems.{i}.serviceId"),
                                         it.quantity)
                for i, it in enumerate(self.package_items)
            )
        return products.ProductSpec(code=self.code, name=self.name, kind=self.kind, unit=self.unit,
                                    package_items=items)


@strawberry.type
class ProductPayloadFields(Refusable):
    """The fields of createProduct's and updateProduct's payloads."""

    product: Product | None = strawberry.field(description="The product as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of createProduct.")
class CreateProductPayload(ProductPayloadFields):
    pass


@strawberry.type(description="Result of updateProduct.")
class UpdateProductPayload(ProductPayloadFields):
    pass


@strawberry.type(description="Result of deleteProduct.")
class DeleteProductPayload(DeletePayloadFields):
    pass


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="Create a usage class, service or package.")
    async def create_product(self, info: Info, input: Annotated[ProductInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateProductPayload:
        org_id = org_of(info)
        return await guard(info, CreateProductPayload.refused, lambda: products.create_product(org_id, input.to_spec()),
                           lambda row: CreateProductPayload(product=Product.from_row(row), user_errors=[]),
                           key=idempotency_key)

    @strawberry.mutation(description="Change a product; omitted fields keep their value.")
    async def update_product(self, info: Info, id: NodeId, input: Annotated[ProductInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateProductPayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateProductPayload.refused,
            lambda: products.update_product(org_id, ids.decode(id, "Product", "id"), input.to_spec()),
            lambda row: UpdateProductPayload(product=Product.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Delete a product nothing refers to.")
    async def delete_product(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeleteProductPayload:
        org_id = org_of(info)
        return await guard(
            info,
            DeleteProductPayload.refused,
            lambda: products.delete_product(org_id, ids.decode(id, "Product", "id")),
            lambda _: DeleteProductPayload.deleted(id),
            key=idempotency_key,
        )
