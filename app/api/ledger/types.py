"""GraphQL views of credit pools and their append-only ledger (read only).

A pool's ``balance`` is the cached column; ``entries`` carry a ``runningBalance`` (the sum of the
pool's entries up to and including each one, in id order, summed by the database for every entry
of the request at once), so the last running balance shows the cached column is the fold of the
ledger.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.api.args import After, Before, First, Last
from app.api.enums import ChargeType, EntryKind, PoolKind
from app.api.pagination import Connection, Paging, child_connection
from app.api.previews import projected_draws
from app.api.scalars import money
from app.api.timestamps import Timestamped, stamps
from app.billing import ledger as core_ledger
from app.db import models

if TYPE_CHECKING:
    from app.api.adjustments.types import Adjustment
    from app.api.commitments.types import Commitment
    from app.api.invoices.types import Invoice
    from app.api.tenancy.types import Account


@strawberry.type(description="An immutable signed movement on a credit pool.")
class LedgerEntry(Timestamped, relay.Node):
    id: relay.NodeID[int]
    kind: EntryKind = strawberry.field(description="ISSUE, CONSUME, EXPIRE, ROLLOVER_OUT, ROLLOVER_IN, CREDIT_BACK or VOID.")
    amount: Decimal = strawberry.field(description="Signed amount: positive adds to the pool, negative takes away.")
    date: date = strawberry.field(description="The day the movement takes effect.")
    charge_key: str | None = strawberry.field(description="The charge a CONSUME paid or tracked, if any.")
    note: str = strawberry.field(description="Why the entry was written.")
    pool_id: strawberry.Private[int]
    invoice_id: strawberry.Private[int | None]
    adjustment_id: strawberry.Private[int | None]
    currency: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.LedgerEntry, currency: str) -> LedgerEntry:
        return cls(**stamps(row), id=row.id, kind=core_ledger.EntryKind(row.kind), amount=money(row.amount, currency),
                   date=row.on_date, charge_key=row.charge_key, note=row.note, pool_id=row.pool_id,
                   invoice_id=row.invoice_id, adjustment_id=row.adjustment_id, currency=currency)

    @strawberry.field(description="The pool's balance after this entry: the sum of its entries up to and including this one.")
    async def running_balance(self, info: Info) -> Decimal:
        return money(await info.context.loaders.running_sum().load(self.id), self.currency)

    @strawberry.field(description="The pool the entry moves.")
    async def pool(self, info: Info) -> CreditPool:
        return CreditPool.from_row(await info.context.loaders.by_id(models.CreditPool).load(self.pool_id))

    @strawberry.field(description="The invoice whose close wrote the entry; null for activation and balance entries.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("app.api.invoices.types")] | None:
        from app.api.invoices.types import Invoice

        if self.invoice_id is None:
            return None
        row = await info.context.loaders.by_id(models.Invoice).load(self.invoice_id)
        return Invoice.from_row(row) if row else None

    @strawberry.field(description="The correction's adjustment an ADJUST entry belongs to (SPEC §17); else null.")
    async def adjustment(self, info: Info) -> Annotated[Adjustment, strawberry.lazy("app.api.adjustments.types")] | None:
        from app.api.adjustments.types import Adjustment

        if self.adjustment_id is None:
            return None
        row = await info.context.loaders.by_id(models.Adjustment).load(self.adjustment_id)
        return Adjustment.from_row(row) if row else None


@strawberry.type(description="Money that can pay charges (or, for TRACKING pools, count spend): every movement is a ledger entry.")
class CreditPool(Timestamped, relay.Node):
    id: relay.NodeID[int]
    key: str = strawberry.field(description="Stable key, e.g. prepaid:<commitment>:<window>, tracking:…, rollover:…, balance:<id>.")
    kind: PoolKind = strawberry.field(description="PREPAID, TRACKING, ROLLOVER or BALANCE.")
    currency: str = strawberry.field(description="ISO 4217 currency of the pool.")
    valid_from: date = strawberry.field(description="First day the pool may pay charges.")
    valid_to: date = strawberry.field(description="Day after the last day it is valid (half-open).")
    priority: int = strawberry.field(description="Drawdown priority: lower draws first.")
    eligible_charge_types: list[ChargeType] = strawberry.field(description="Charge types it may pay (or track).")
    eligible_products: list[str] = strawberry.field(description="Product codes it may pay for; empty: every product.")
    window_number: int | None = strawberry.field(description="The commitment window (1-based) it belongs to or is valid for.")
    rolled_over: bool = strawberry.field(description="True for credit rolled over from an earlier window.")
    balance: Decimal = strawberry.field(description="Settled: what the pool holds now by its ledger (the cached sum of its entries), as the last close, activation, top-up or credit back left it. See `available` for the projection.")
    commitment_id: strawberry.Private[int | None]
    account_id: strawberry.Private[int]
    contract_id: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: models.CreditPool) -> CreditPool:
        return cls(**stamps(row),
            id=row.id, key=row.key, kind=core_ledger.PoolKind(row.kind), currency=row.currency,
            valid_from=row.valid_start, valid_to=row.valid_end, priority=row.priority,
            eligible_charge_types=[ChargeType(t) for t in row.eligible_charge_types],
            eligible_products=list(row.eligible_products), window_number=row.window_number,
            rolled_over=row.rolled_over, balance=money(row.balance, row.currency),
            commitment_id=row.commitment_id, account_id=row.account_id, contract_id=row.contract_id,
        )

    @strawberry.field(description="Projected: `balance` (settled) less what the open period's preview takes from the pool (its CONSUME entries: what charges will draw, or, on a TRACKING pool, the eligible spend it will track), from what has been recorded so far; nothing is drawn until the close. A contract's pool counts its contract's preview (the oldest open period). A balance counts the previews of every ACTIVE contract of its account in its currency, taken one after the other in creation order as due closes run, so together they never take more than it holds. Expiry at the end of validity is not a draw and is not subtracted. Equals `balance` when nothing is open or the close would fail.")
    async def available(self, info: Info) -> Decimal:
        drawn = await projected_draws(info, self.id, self.contract_id, self.account_id, self.currency)
        return money(self.balance - drawn, self.currency)

    @strawberry.field(description="The commitment whose credit this is; null for balances.")
    async def commitment(self, info: Info) -> Annotated[Commitment, strawberry.lazy("app.api.commitments.types")] | None:
        from app.api.commitments.types import Commitment

        if self.commitment_id is None:
            return None
        row = await info.context.loaders.by_id(models.Commitment).load(self.commitment_id)
        return Commitment.from_row(row, self.currency) if row else None

    @strawberry.field(description="The account the pool belongs to.")
    async def account(self, info: Info) -> Annotated[Account, strawberry.lazy("app.api.tenancy.types")]:
        from app.api.tenancy.types import Account

        return Account.from_row(await info.context.loaders.by_id(models.Account).load(self.account_id))

    @strawberry.field(description="The pool's ledger in the order it was written, each entry with its running balance.")
    async def entries(self, info: Info, first: First = None, after: After = None,
                      last: Last = None, before: Before = None) -> Connection[LedgerEntry]:
        return await child_connection(info, models.LedgerEntry, "pool_id", self.id, Paging.of(first, after, last, before),
                                      lambda r: LedgerEntry.from_row(r, self.currency))


async def load_pool(info: Info, pool_id: int | None) -> CreditPool | None:
    """The pool ``pool_id`` through the request's loader (None stays None)."""
    if pool_id is None:
        return None
    row = await info.context.loaders.by_id(models.CreditPool).load(pool_id)
    return CreditPool.from_row(row) if row else None
