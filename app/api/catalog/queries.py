"""Queries: the product catalog."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.catalog.types import Product
from app.api.context import org_of
from app.api.enums import ProductKind
from app.api.pagination import Connection, Paging, paginate
from app.db import models


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Products of the organization, oldest first, optionally of one kind.")
    async def products(self, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None,
                       kind: Annotated[ProductKind | None, strawberry.argument(description="Only products of this kind.")] = None) -> Connection[Product]:
        filters = {"kind": kind.value} if kind else {}
        return await paginate(models.Product, org_of(info), Paging.of(first, after, last, before), filters, Product.from_row)
