"""What an amendment writes besides its version (SPEC §13): pools, calendar and term rows.

The caller holds the contract's row lock and runs these inside its transaction.
- ``sync_pools``: the pools' new entries (VOID, ISSUE), the new pools, a cut window's validity;
- ``sync_calendar``: the billing-period and commitment-window rows of the new calendar (rows of
  closed periods and settled windows are never touched);
- ``sync_term_rows``: the contract's term rows brought to the new version, so that they show its
  current terms (the closes bill from the versions).
"""

from __future__ import annotations

from datetime import date

from app.billing.activation import window_plans
from app.billing.amendment_money import MoneyEffects
from app.billing.calendar import billing_periods
from app.billing.terms import ContractTerms
from app.clock import utc_now
from app.db.models import (
    BillingPeriod,
    Commitment,
    CommitmentWindow,
    Contract,
    CreditPool,
    FeeDate,
    Price,
    Product,
    RampStep,
    ServiceLine,
)
from app.services.pools import append_entries, create_pools


async def sync_pools(org_id: int, contract: Contract, rows: dict[str, CreditPool], effects: MoneyEffects) -> None:
    rows = dict(rows)
    if effects.new_pools:
        rows.update(await create_pools(org_id, contract.account_id, contract.id, contract.currency, effects.new_pools))
    if effects.entries:
        await append_entries(org_id, rows, effects.entries)
    for key, span in effects.validity.items():
        await CreditPool.filter(id=rows[key].id).update(valid_start=span.start, valid_end=span.end, updated_at=utc_now())


async def sync_calendar(org_id: int, contract: Contract, old: ContractTerms, new: ContractTerms, e: date) -> None:
    periods = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id)
    by_number = {p.number: p for p in periods}
    for p in billing_periods(new):
        row = by_number.get(p.number)
        if row is None:
            await BillingPeriod.create(organization_id=org_id, contract_id=contract.id, number=p.number,
                                       start_date=p.span.start, end_date=p.span.end)
        elif row.status != "CLOSED" and (row.start_date, row.end_date) != (p.span.start, p.span.end):
            await BillingPeriod.filter(id=row.id).update(start_date=p.span.start, end_date=p.span.end, updated_at=utc_now())
    windows = await CommitmentWindow.filter(organization_id=org_id, contract_id=contract.id)
    existing = {(w.commitment_id, w.number): w for w in windows}
    wanted = set()
    for c in new.commitments:
        for plan in window_plans(c, new.currency):
            key = (int(c.key), plan.window.number)
            wanted.add(key)
            row = existing.get(key)
            span = plan.window.span
            if row is None:
                await CommitmentWindow.create(organization_id=org_id, commitment_id=int(c.key), contract_id=contract.id,
                                              number=plan.window.number, start_date=span.start, end_date=span.end,
                                              committed=plan.committed)
            elif not row.settled and (row.end_date, row.committed) != (span.end, plan.committed):
                await CommitmentWindow.filter(id=row.id).update(end_date=span.end, committed=plan.committed, updated_at=utc_now())
    stale = [w.id for key, w in existing.items() if key not in wanted and not w.settled]
    if stale:
        await CommitmentWindow.filter(id__in=stale).delete()


async def sync_term_rows(org_id: int, contract: Contract, terms: ContractTerms, e: date) -> None:
    end = terms.term.end
    contract.standing_charge, contract.minimum_spend, contract.end_date = \
        terms.standing_charge, terms.minimum_spend, end
    await contract.save()
    codes = dict(await Product.filter(organization_id=org_id).values_list("id", "code"))
    priced = {p.usage_class for p in terms.prices}
    for row in await Price.filter(organization_id=org_id, contract_id=contract.id):
        if codes[row.usage_class_id] not in priced:
            await row.delete()
    lines = {line.key: line for line in terms.service_lines}
    for row in await ServiceLine.filter(organization_id=org_id, contract_id=contract.id):
        line = lines.get(str(row.id))
        if line is None:
            await row.delete()
            continue
        end_date = None if line.active.end == end else line.active.end
        if row.end_date != end_date:
            await ServiceLine.filter(id=row.id).update(end_date=end_date, updated_at=utc_now())
    commitments = {c.key: c for c in terms.commitments}
    for row in await Commitment.filter(organization_id=org_id, contract_id=contract.id):
        c = commitments.get(str(row.id))
        if c is None:
            continue
        end_date = None if c.term.end == end else c.term.end
        if row.end_date != end_date:
            await Commitment.filter(id=row.id).update(end_date=end_date, updated_at=utc_now())
        base = dict(organization_id=org_id, commitment_id=row.id)
        steps = [(s.from_window, s.amount) for s in await RampStep.filter(commitment_id=row.id).order_by("from_window")]
        if steps != [(s.from_window, s.amount) for s in c.ramp]:
            await RampStep.filter(commitment_id=row.id).delete()
            await RampStep.bulk_create([RampStep(**base, from_window=s.from_window, amount=s.amount) for s in c.ramp])
        if c.fees.billing.value != row.fee_billing or \
                [(f.date, f.amount) for f in await FeeDate.filter(commitment_id=row.id).order_by("date")] != \
                [(f.date, f.amount) for f in c.fees.fee_dates]:
            await Commitment.filter(id=row.id).update(fee_billing=c.fees.billing.value, updated_at=utc_now())
            await FeeDate.filter(commitment_id=row.id).delete()
            await FeeDate.bulk_create([FeeDate(**base, date=f.date, amount=f.amount) for f in c.fees.fee_dates])
