"""Queries: the caller's organization and its accounts."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.api.args import After, First
from app.api.context import org_of
from app.api.pagination import Connection, paginate
from app.api.tenancy.types import Account, Organization
from app.db import models


@strawberry.type
class TenancyQueries:
    @strawberry.field(description="The organization of the API key in use.")
    async def organization(self, info: Info) -> Organization:
        row = await info.context.loaders.by_id(models.Organization).load(org_of(info))
        return Organization.from_row(row)

    @strawberry.field(description="Accounts of the organization, oldest first (at most 100 a page).")
    async def accounts(self, info: Info, first: First = 20, after: After = None) -> Connection[Account]:
        return await paginate(models.Account, org_of(info), first, after, {}, Account.from_row)
