"""Credit pools and ledger entries: mapping between the billing core and their rows.

The ledger is append-only: entries are only ever inserted. A pool's ``balance`` column caches the
sum of its entries and is rewritten in the same transaction as the entries that change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from app.billing.ledger import EntryKind
from app.billing.ledger import LedgerEntry as CoreEntry
from app.billing.ledger import Pool, PoolKind
from app.billing.terms import ChargeType, DateRange
from tortoise.expressions import Subquery

from app.db.bulk import insert_rows, update_column
from app.db.models import Balance, BillingPeriod, Contract, CreditPool, LedgerEntry


def core_pool(row: CreditPool, names: dict[int, str] | None = None) -> Pool:
    """A pool row as the billing core sees it; ``names`` gives balances their names (for the
    invoice lines that draw on them, see ``balance_names``)."""
    return Pool(
        key=row.key,
        kind=PoolKind(row.kind),
        valid=DateRange(row.valid_start, row.valid_end),
        balance=row.balance,
        priority=row.priority,
        eligible_charge_types=frozenset(ChargeType(t) for t in row.eligible_charge_types),
        eligible_products=frozenset(row.eligible_products),
        commitment_key=str(row.commitment_id) if row.commitment_id else None,
        window_index=row.window_number - 1 if row.window_number else None,
        rolled_over=row.rolled_over,
        seq=row.seq,
        name=(names or {}).get(row.balance_source_id or 0, ""),
    )


async def balance_names(org_id: int, rows: Iterable[CreditPool]) -> dict[int, str]:
    """Balance id → name, for the balance pools among ``rows`` (one query)."""
    ids = sorted({row.balance_source_id for row in rows if row.balance_source_id})
    if not ids:
        return {}
    return dict(await Balance.filter(organization_id=org_id, id__in=ids).values_list("id", "name"))


def pool_row(
    org_id: int, account_id: int, contract_id: int | None, currency: str, pool: Pool,
    balance_source_id: int | None = None,
) -> CreditPool:
    """An unsaved row for a new core pool (balance 0: its ISSUE entries fill it)."""
    return CreditPool(
        organization_id=org_id, account_id=account_id, contract_id=contract_id,
        commitment_id=int(pool.commitment_key) if pool.commitment_key else None,
        balance_source_id=balance_source_id, key=pool.key, kind=pool.kind.value, currency=currency,
        valid_start=pool.valid.start, valid_end=pool.valid.end, priority=pool.priority,
        eligible_charge_types=sorted(t.value for t in pool.eligible_charge_types),
        eligible_products=sorted(pool.eligible_products),
        window_number=pool.window_index + 1 if pool.window_index is not None else None,
        rolled_over=pool.rolled_over, seq=pool.seq, balance=0,
    )


async def insert_pools(org_id: int, rows: Sequence[CreditPool]) -> dict[str, CreditPool]:
    """Insert unsaved pool rows, key → row with its id: two statements whatever their number.

    ``bulk_create`` returns no ids on every backend, so the ids are read back by key (a pool key
    is unique in its organization) and set on the rows given."""
    if not rows:
        return {}
    await insert_rows(CreditPool, rows)
    ids = dict(await CreditPool.filter(organization_id=org_id, key__in=[r.key for r in rows]).values_list("key", "id"))
    for row in rows:
        row.id, row._saved_in_db = ids[row.key], True
    return {row.key: row for row in rows}


async def create_pools(
    org_id: int, account_id: int, contract_id: int | None, currency: str, pools: Iterable[Pool],
    balance_source_id: int | None = None,
) -> dict[str, CreditPool]:
    """Insert rows for new core pools of one contract or balance (``insert_pools``)."""
    return await insert_pools(org_id, [pool_row(org_id, account_id, contract_id, currency, p, balance_source_id)
                                       for p in pools])


async def append_entries(
    org_id: int, rows: dict[str, CreditPool], entries: Sequence[CoreEntry], *, invoice_id: int | None = None,
    credited_entry_id: int | None = None, adjustment_id: int | None = None,
) -> None:
    """Insert ``entries`` (in order) and refresh the cached balance of every pool they touch
    (``adjustment_id``: a correction's ADJUST entries name the adjustment they go with)."""
    await append_entries_many(org_id, [(rows, entries, invoice_id)], credited_entry_id=credited_entry_id,
                              adjustment_id=adjustment_id)


async def append_entries_many(
    org_id: int, batches: Sequence[tuple[dict[str, CreditPool], Sequence[CoreEntry], int | None]], *,
    credited_entry_id: int | None = None, adjustment_id: int | None = None,
) -> None:
    """Insert the entries of every ``(pool rows by key, entries, invoice id)`` batch, in order, and
    rewrite the cached balance of every pool they touch: one INSERT and one UPDATE in all.

    A pool in several batches (an account's balance drawn by two of its contracts) is one row
    object: each batch adds its entries to the balance the batch before left."""
    created, touched = [], {}
    for rows, entries, invoice_id in batches:
        created.extend(
            dict(organization_id=org_id, pool_id=rows[e.pool_key].id, kind=e.kind.value, amount=e.amount,
                 on_date=e.on, charge_key=e.charge_key, note=e.note[:200], invoice_id=invoice_id,
                 credited_entry_id=credited_entry_id, adjustment_id=adjustment_id)
            for e in entries)
        for key in dict.fromkeys(e.pool_key for e in entries):
            row = rows[key]
            row.balance = row.balance + sum((e.amount for e in entries if e.pool_key == key), Decimal(0))
            touched[id(row)] = row
    await insert_rows(LedgerEntry, created)
    await update_column(CreditPool, "balance", {row.id: row.balance for row in touched.values()}, "numeric")


async def is_settled(pool: CreditPool) -> bool:
    """True once the close that ends the pool's validity has run (or it expired or rolled over).

    A pool used up entirely gets no EXPIRE entry, so the test is the calendar: a closed billing
    period of its contract (for a balance: of any of its account's contracts in its currency)
    reaching the pool's end. Nothing may be added to a settled pool.
    """
    if await LedgerEntry.filter(pool_id=pool.id, kind__in=[EntryKind.EXPIRE.value, EntryKind.ROLLOVER_OUT.value]).exists():
        return True
    periods = BillingPeriod.filter(organization_id=pool.organization_id, status="CLOSED", end_date__gte=pool.valid_end)
    if pool.contract_id is not None:
        return await periods.filter(contract_id=pool.contract_id).exists()
    contracts = Contract.filter(organization_id=pool.organization_id, account_id=pool.account_id, currency=pool.currency)
    return await periods.filter(contract_id__in=Subquery(contracts.values("id"))).exists()
