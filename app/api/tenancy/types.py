"""GraphQL views of organizations and accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.enums import DrawdownOrder, LateUsage
from app.api.pagination import Connection, Paging, child_connection
from app.api.timestamps import Timestamped, stamps
from app.db import models

if TYPE_CHECKING:
    from app.api.balances.types import Balance
    from app.api.contracts.types import Contract


@strawberry.type(description="A tenant: the company that sells. Everything you can see belongs to it.")
class Organization(Timestamped, relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    default_currency: str = strawberry.field(description="ISO 4217 code used by default for new contracts.")
    drawdown_order: DrawdownOrder = strawberry.field(description="Default drawdown order of its accounts.")
    close_grace_days: int = strawberry.field(
        description="Days after a billing period's end before it may be closed (0 to 31, default 1): a period "
                    "[start, end) may be closed from end + closeGraceDays, by the service's clock in UTC.")
    late_usage: LateUsage = strawberry.field(
        description="What happens to data dated in a closed billing period (SPEC §17): ADJUST (default) or REJECT.")
    correction_window_days: int = strawberry.field(
        description="Days after a billing period's end during which its late data is accepted (default 60).")

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(**stamps(row), id=row.id, name=row.name, default_currency=row.default_currency,
                   drawdown_order=DrawdownOrder(row.drawdown_order), close_grace_days=row.close_grace_days,
                   late_usage=LateUsage(row.late_usage), correction_window_days=row.correction_window_days)


@strawberry.type(description="An end customer of the organization.")
class Account(Timestamped, relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    external_id: str | None = strawberry.field(description="Your own id for this customer (unique per organization).")
    drawdown_order: DrawdownOrder | None = strawberry.field(
        description="Override of the organization's drawdown order; null uses the organization's.")
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Account) -> Account:
        return cls(**stamps(row), id=row.id, name=row.name, external_id=row.external_id,
                   drawdown_order=DrawdownOrder(row.drawdown_order) if row.drawdown_order else None,
                   organization_id=row.organization_id)

    @strawberry.field(description="The drawdown order in force: the account's, else the organization's.")
    async def effective_drawdown_order(self, info: Info) -> DrawdownOrder:
        if self.drawdown_order is not None:
            return self.drawdown_order
        org = await info.context.loaders.by_id(models.Organization).load(self.organization_id)
        return DrawdownOrder(org.drawdown_order)

    @strawberry.field(description="The account's contracts, oldest first.")
    async def contracts(self, info: Info, first: First = None, after: After = None,
                        last: Last = None, before: Before = None
                        ) -> Connection[Annotated[Contract, strawberry.lazy("app.api.contracts.types")]]:
        from app.api.contracts.types import Contract

        return await child_connection(info, models.Contract, "account_id", self.id, Paging.of(first, after, last, before), Contract.from_row)

    @strawberry.field(description="Top-up credits on the account, oldest first.")
    async def balances(self, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None
                       ) -> Connection[Annotated[Balance, strawberry.lazy("app.api.balances.types")]]:
        from app.api.balances.types import Balance

        return await child_connection(info, models.Balance, "account_id", self.id, Paging.of(first, after, last, before), Balance.from_row)
