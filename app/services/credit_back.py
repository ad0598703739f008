"""Return consumed credit to a pool that is still open (a CREDIT_BACK ledger entry)."""

from __future__ import annotations

from decimal import Decimal

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from app.billing.errors import BillingError
from app.billing.ledger import EntryKind, entry
from app.billing.money import round_money
from app.clock import utc_now
from app.db.models import CreditPool, LedgerEntry
from app.services.checks import decimal_problem, require
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import append_entries, core_pool, is_settled


async def credit_back(org_id: int, entry_id: int, amount: Decimal) -> LedgerEntry:
    """Give back up to what a CONSUME entry took (less what was already given back).

    The pool must still be open: not yet expired or rolled over by the close of its window (or,
    for a balance, of the period in which it ends). Credit given back then follows the pool: it
    pays later charges, or expires / rolls over with the rest of it.
    """
    problem = decimal_problem(amount, "amount", minimum=Decimal("0.000000000001"))
    if problem:
        raise InvalidInput([problem])
    async with in_transaction():
        consumed = await require(LedgerEntry, org_id, entry_id, "ledgerEntryId")
        pool = await CreditPool.filter(organization_id=org_id, id=consumed.pool_id).select_for_update().get()
        if amount != round_money(amount, pool.currency):
            raise fail(ErrorCode.INVALID_AMOUNT, f"more decimals than {pool.currency} allows", "amount")
        if consumed.kind != EntryKind.CONSUME.value:
            raise fail(ErrorCode.NOT_CONSUMED, f"a {consumed.kind} entry cannot be credited back", "ledgerEntryId")
        if await is_settled(pool):
            raise fail(ErrorCode.POOL_CLOSED, f"pool {pool.key} has expired", "ledgerEntryId")
        given = await LedgerEntry.filter(organization_id=org_id, credited_entry_id=consumed.id).annotate(total=Sum("amount")).first().values("total")
        already = (given or {}).get("total") or Decimal(0)
        available = -consumed.amount - already
        if amount > available:
            raise fail(ErrorCode.NOT_CONSUMED, f"at most {available} can still be credited back", "amount")
        try:
            item = entry(core_pool(pool), EntryKind.CREDIT_BACK, amount, utc_now().date(),
                         charge_key=consumed.charge_key, note=f"credit back of entry {consumed.id}")
        except BillingError as exc:
            raise InvalidInput([from_billing(exc, "amount")]) from exc
        await append_entries(org_id, {pool.key: pool}, [item], credited_entry_id=consumed.id)
        return await LedgerEntry.filter(credited_entry_id=consumed.id).order_by("-id").first()  # type: ignore[return-value]
