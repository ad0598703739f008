"""Queries: the caller's organization and its accounts."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.context import org_of
from app.api.pagination import Connection, Paging, paginate
from app.api.tenancy.types import Account, Organization
from app.db import models


@strawberry.type
class TenancyQueries:
    @strawberry.field(description="The organization of the API key in use.")
    async def organization(self, info: Info) -> Organization:
        row = await info.context.loaders.by_id(models.Organization).load(org_of(info))
        return Organization.from_row(row)

    @strawberry.field(description="Accounts of the organization, oldest first (at most 100 a page).")
    async def accounts(self, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None) -> Connection[Account]:
        return await paginate(models.Account, org_of(info), Paging.of(first, after, last, before), {}, Account.from_row)
