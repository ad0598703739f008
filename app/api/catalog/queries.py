"""Queries: the product catalog."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api.args import After, First
from app.api.catalog.types import Product
from app.api.context import org_of
from app.api.enums import ProductKind
from app.api.pagination import Connection, paginate
from app.db import models


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Products of the organization, oldest first, optionally of one kind.")
    async def products(self, info: Info, first: First = 20, after: After = None,
                       kind: Annotated[ProductKind | None, strawberry.argument(description="Only products of this kind.")] = None) -> Connection[Product]:
        filters = {"kind": kind.value} if kind else {}
        return await paginate(models.Product, org_of(info), first, after, filters, Product.from_row)
