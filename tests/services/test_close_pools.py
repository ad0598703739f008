"""The close reads only the pools its period can touch (``close_input._pools``): a prepaid or
tracking commitment holds a pool per window from activation on, and a close moves one or two of
them. What it writes must be what a close over every pool would write, the ``seq`` of a new
(rollover) pool included."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.billing.close import close_period as core_close
from app.billing.terms import PaymentTiming
from app.db.models import BillingPeriod, Contract, CreditPool
from app.services.close_input import gather
from app.services.closing import close_period
from app.services.pools import balance_names, core_pool
from tests.services.close_batch_data import D, FEB, JAN, account, add_contract, new_org, spend


async def _contract(rollover: bool) -> tuple[int, int]:
    org = await new_org(f"pools-{rollover}")
    extra = dict(rollover_fraction=D("0.5")) if rollover else {}
    contract = await add_contract(org, await account(org, "A", balance="25"),
                                  spend("Prepaid", PaymentTiming.PREPAID, "100", amount_prepaid=D(1200), **extra),
                                  spend("Postpaid", PaymentTiming.POSTPAID, "300"))
    await org.use(contract, org.mb, "30", date(2026, 1, 9))
    await org.use(contract, org.mb, "20", date(2026, 2, 9))
    return org.id, contract


async def _both_ways(org_id: int, contract_id: int, start: date):  # noqa: ANN202
    """The close of one period from the gathered pools, and from every pool of the contract and its
    account (``next_seq`` then taken from them, as before the narrowing); and the number of pools."""
    contract = await Contract.get(id=contract_id)
    row = await BillingPeriod.get(contract_id=contract_id, start_date=start)
    gathered = await gather(org_id, contract, row, lock=False)
    rows = [*await CreditPool.filter(contract_id=contract_id),
            *await CreditPool.filter(account_id=contract.account_id, contract_id=None)]
    assert gathered.input.next_seq == max(r.seq for r in rows) + 1
    names = await balance_names(org_id, rows)
    every = replace(gathered.input, pools=tuple(core_pool(r, names) for r in rows), next_seq=None)
    return gathered, len(rows), core_close(gathered.input), core_close(every)


async def test_a_close_reads_the_pools_of_its_period_and_writes_what_a_close_over_all_pools_would(db: str) -> None:
    org_id, contract_id = await _contract(rollover=True)
    gathered, total, narrow, full = await _both_ways(org_id, contract_id, JAN)
    # 12 prepaid + 12 tracking pools and the balance; January's close needs January's two and the balance.
    assert total == 25
    assert sorted(p.valid.start for p in gathered.input.pools) == [JAN, JAN, JAN]
    new = [p for p in narrow.pools if p.key not in gathered.pool_rows]
    assert len(new) == 1 and new[0].rolled_over  # the January window's rollover credit
    assert new == [p for p in full.pools if p.key == new[0].key]  # same key, balance and seq
    assert (narrow.lines, narrow.entries, narrow.charges, narrow.windows) == (
        full.lines, full.entries, full.charges, full.windows)


async def test_a_later_close_keeps_what_an_earlier_pool_still_holds(db: str) -> None:
    """February after January: January's spent pools are left out, its rollover credit (valid in
    February) is read; the close is the same as over every pool."""
    org_id, contract_id = await _contract(rollover=True)
    await close_period(org_id, contract_id, JAN)
    gathered, total, narrow, full = await _both_ways(org_id, contract_id, FEB)
    assert total == 26
    assert any(p.rolled_over for p in gathered.input.pools)
    assert all(p.valid.end > FEB or (p.kind.pays and p.balance > 0) for p in gathered.input.pools)
    assert (narrow.lines, narrow.entries, narrow.charges, narrow.windows) == (
        full.lines, full.entries, full.charges, full.windows)
    assert [p for p in narrow.pools if p.key not in gathered.pool_rows] == [
        p for p in full.pools if p.key not in {r.key for r in gathered.input.pools} and p.seq >= gathered.input.next_seq]
