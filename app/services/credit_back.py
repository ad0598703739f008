"""Return consumed credit to a pool that is still open (a CREDIT_BACK ledger entry)."""

from __future__ import annotations

from decimal import Decimal

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from app.billing.errors import BillingError
from app.billing.labels import money_text, pool_label
from app.billing.ledger import EntryKind, entry
from app.billing.money import round_money
from app.clock import utc_now
from app.db.models import CreditPool, LedgerEntry
from app.services.checks import decimal_problem, require
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import append_entries, core_pool, is_settled


async def credit_back(org_id: int, entry_id: int, amount: Decimal) -> LedgerEntry:
    """Give back up to what a CONSUME entry took (less what was already given back).

    The pool must pay charges (a prepaid window, a rollover credit or a balance: a postpaid
    tracking pool pays nothing, and credit given back to it would only raise the true-up, SPEC §17:
    ``NOT_A_CREDIT_POOL``) and still be open: not yet expired or rolled over by the close of its
    window (or, for a balance, of the period in which it ends). Credit given back then follows the
    pool: it pays later charges, or expires / rolls over with the rest of it. The entry is dated
    today, kept inside the pool's validity (its last day if the pool's validity is over but its
    close has not run yet), so a pool's entries always lie inside its life.
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
        core = core_pool(pool)
        if not core.kind.pays:
            raise fail(ErrorCode.NOT_A_CREDIT_POOL,
                       f"the {pool_label(core)} is a postpaid tracking pool: it pays no charges, "
                       "so credit cannot be given back to it", "ledgerEntryId")
        if await is_settled(pool):
            raise fail(ErrorCode.POOL_CLOSED, f"the {pool_label(core)} has expired or rolled over", "ledgerEntryId")
        given = await LedgerEntry.filter(organization_id=org_id, credited_entry_id=consumed.id).annotate(total=Sum("amount")).first().values("total")
        already = (given or {}).get("total") or Decimal(0)
        available = -consumed.amount - already
        if amount > available:
            raise fail(ErrorCode.NOT_CONSUMED,
                       f"at most {money_text(available, pool.currency)} can still be credited back", "amount")
        try:
            item = entry(core, EntryKind.CREDIT_BACK, amount, core.valid.clamp(utc_now().date()),
                         charge_key=consumed.charge_key, note=f"credit back of entry {consumed.id}")
        except BillingError as exc:
            raise InvalidInput([from_billing(exc, "amount")]) from exc
        await append_entries(org_id, {pool.key: pool}, [item], credited_entry_id=consumed.id)
        return await LedgerEntry.filter(credited_entry_id=consumed.id).order_by("-id").first()  # type: ignore[return-value]
