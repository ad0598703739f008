"""The stored usage events: the UsageEvent node and the usageEvents list (the sync read), in
timestamp order, filtered and paged either way. What the ingest refused is not stored, so every
stored event was accepted; a repeated key is one event."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info

from app.api.filters import filter_id, require_range
from app.api.args import After, Before, First, Last
from app.api.catalog.types import Product
from app.api.context import org_of
from app.api.contracts.types import Contract
from app.api.pagination import Connection, Paging
from app.api.scalars import quantity
from app.api.timestamps import Timestamped, stamps
from app.db import models, pages, repo


@strawberry.type(description="One stored (accepted) usage event, as recorded: stored once and never changed, so "
                             "updatedAt equals createdAt.")
class UsageEvent(Timestamped, relay.Node):
    id: relay.NodeID[int]
    quantity: Decimal = strawberry.field(description="Quantity metered, in the usage class's unit.")
    timestamp: datetime = strawberry.field(description="When the usage happened (the event's timestamp), in UTC.")
    day: date = strawberry.field(description="The UTC day of timestamp: the billing period holding it bills the event.")
    idempotency_key: str = strawberry.field(description="The key it was recorded with (unique in your organization).")
    connection_id: str | None = strawberry.field(description="The source reference it was sent with, if any.")
    contract_id: strawberry.Private[int]
    usage_class_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.UsageEvent) -> UsageEvent:
        return cls(**stamps(row), id=row.id, quantity=quantity(row.quantity), timestamp=row.occurred_at, day=row.day,
                   idempotency_key=row.idempotency_key, connection_id=row.connection_id,
                   contract_id=row.contract_id, usage_class_id=row.usage_class_id)

    @strawberry.field(description="The contract the event was recorded on.")
    async def contract(self, info: Info) -> Contract:
        return Contract.from_row(await info.context.loaders.by_id(models.Contract).load(self.contract_id))

    @strawberry.field(description="The usage class (a USAGE_CLASS product) metered.")
    async def usage_class(self, info: Info) -> Product:
        return Product.from_row(await info.context.loaders.by_id(models.Product).load(self.usage_class_id))


@strawberry.input(name="UsageEventFilterInput", description="Which stored usage events to list; every given condition must hold. The time range "
                              "is half-open: from is included, to is not.")
class UsageEventFilter:
    contract_id: strawberry.ID | None = strawberry.field(default=None, description="Only events recorded on this contract.")
    account_id: strawberry.ID | None = strawberry.field(default=None, description="Only events recorded on this account's contracts.")
    usage_class_id: strawberry.ID | None = strawberry.field(default=None, description="Only events of this usage class (a USAGE_CLASS product's id).")
    from_: datetime | None = strawberry.field(default=None, name="from", description="Only events whose timestamp is at or after this instant (timestamp >= from).")
    to: datetime | None = strawberry.field(default=None, description="Only events whose timestamp is before this instant (timestamp < to).")



async def event_filters(org_id: int, given: UsageEventFilter | None) -> dict[str, Any]:
    """The ORM filters of a UsageEventFilter; INVALID_ID for an id of the wrong type, INVALID_INTERVAL
    for an empty time range. An account is resolved to its contracts' ids first (one small
    statement), so that the page stays a scan of the (organization_id, occurred_at, id) index with
    no join, and an account with no contract reads nothing."""
    f = given or UsageEventFilter()
    filters: dict[str, Any] = {}
    for key, value in (("contract_id", filter_id(f.contract_id, "Contract", "filter.contractId")),
                       ("usage_class_id", filter_id(f.usage_class_id, "Product", "filter.usageClassId")),
                       ("occurred_at__gte", f.from_), ("occurred_at__lt", f.to)):
        if value is not None:
            filters[key] = value
    require_range(f.from_, f.to, "filter.to")
    account = filter_id(f.account_id, "Account", "filter.accountId")
    if account is not None:
        filters["contract_id__in"] = list(await models.Contract.filter(
            organization_id=org_id, account_id=account).values_list("id", flat=True))
    return filters


async def _keys(org_id: int, paging: Paging) -> dict[int, datetime]:
    """The timestamps of the events the cursors name; INVALID_INPUT for a cursor naming none of yours."""
    wanted = {k for k in (paging.after, paging.before) if k is not None}
    if not wanted:
        return {}
    rows = await models.UsageEvent.filter(organization_id=org_id, id__in=list(wanted)).values_list("id", "occurred_at")
    found = {int(pk): at for pk, at in rows}
    for field, key in (("after", paging.after), ("before", paging.before)):
        if key is not None and key not in found:
            raise GraphQLError(f"`{field}` names no usage event of your organization",
                               extensions={"code": "INVALID_INPUT", "field": field})
    return found


async def _none() -> int:
    return 0


@strawberry.type
class UsageEventQueries:
    @strawberry.field(description="The stored usage events of the organization in timestamp order (then id), filtered "
                                  "by contract, account, usage class and time; another tenant's id matches nothing. "
                                  "Refused events are not stored and never listed. Page forward with first/after, "
                                  "backward with last/before.")
    async def usage_events(
        self, info: Info,
        filter: Annotated[UsageEventFilter | None, strawberry.argument(description="Conditions the events must all meet.")] = None,
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[UsageEvent]:
        org_id = org_of(info)
        paging = Paging.of(first, after, last, before)
        filters = await event_filters(org_id, filter)
        if any(key.endswith("__in") and not value for key, value in filters.items()):
            return paging.connection([], lambda r: int(r.pk), UsageEvent.from_row, _none)
        keys = await _keys(org_id, paging)
        lower, upper, descending = paging.bounds()
        rows = await pages.timed_page(
            models.UsageEvent, org_id, filters, "occurred_at",
            lower=(keys[lower], lower) if lower is not None else None,
            upper=(keys[upper], upper) if upper is not None else None,
            descending=descending, limit=paging.size + 1)
        return paging.connection(rows, lambda r: int(r.pk), UsageEvent.from_row,
                                 lambda: repo.count(models.UsageEvent, org_id, filters))
