"""GraphQL views of balances (top-up credit on an account)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.catalog.types import Product
from app.api.enums import ChargeType
from app.api.ledger.types import CreditPool
from app.api.scalars import money
from app.api.timestamps import Timestamped, stamps
from app.db import models


@strawberry.type(description="A top-up credit on an account (free credit, goodwill, prepaid draw-down).")
class Balance(Timestamped, relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    currency: str = strawberry.field(description="ISO 4217 currency; pays charges of contracts in this currency.")
    amount: Decimal = strawberry.field(description="Amount issued when the balance was created.")
    start_date: date = strawberry.field(description="First day the balance may pay charges.")
    end_date: date = strawberry.field(description="Day after the last; the remainder expires then.")
    priority: int = strawberry.field(description="Drawdown priority: lower draws first.")
    eligible_charge_types: list[ChargeType] = strawberry.field(description="Charge types it may pay.")
    account_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Balance) -> Balance:
        return cls(**stamps(row), id=row.id, name=row.name, currency=row.currency, amount=money(row.amount, row.currency),
                   start_date=row.start_date, end_date=row.end_date, priority=row.priority,
                   eligible_charge_types=[ChargeType(t) for t in row.eligible_charge_types],
                   account_id=row.account_id)

    @strawberry.field(description="Products it may pay for; empty: every product.")
    async def eligible_products(self, info: Info) -> list[Product]:
        rows = await info.context.loaders.children(models.BalanceProduct, "balance_id").load(self.id)
        products = await info.context.loaders.by_id(models.Product).load_many([r.product_id for r in rows])
        return [Product.from_row(p) for p in products if p is not None]

    @strawberry.field(description="The balance's credit pool: its ledger and what it holds.")
    async def pool(self, info: Info) -> CreditPool | None:
        rows = await info.context.loaders.children(models.CreditPool, "balance_source_id").load(self.id)
        return CreditPool.from_row(rows[0]) if rows else None

    @strawberry.field(description="Settled: what is left of the balance by its ledger (its pool's `balance`), as the last close, top-up or activation left it. See `available` for the projection.")
    async def remaining(self, info: Info) -> Decimal:
        pool = await self.pool(info)
        return pool.balance if pool else money(Decimal(0), self.currency)

    @strawberry.field(description="Projected: `remaining` (settled) less what the open periods' previews of every ACTIVE contract of the account in the balance's currency will draw from it, from what has been recorded so far; nothing is drawn until the close. The contracts are previewed one after the other in creation order (the order due closes run in), each seeing what the ones before it left, so together they never draw more than the balance holds; if their periods are closed by hand in another order, the balance may be split differently between them. Expiry at its end date is not subtracted.")
    async def available(self, info: Info) -> Decimal:
        pool = await self.pool(info)
        return await pool.available(info) if pool else money(Decimal(0), self.currency)
