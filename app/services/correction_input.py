"""What a correction replays (SPEC §17): a contract's closed periods with all the data now known.

``gather_replay`` reads, in a fixed number of statements, everything ``billing.correction.recompute``
needs for one contract: each closed period with the terms of its version, its usage totals (one
aggregate over all of them: late events are stored events), its one-time charges, and the ledger
movements made between closes; the pools' shells (the contract's own pools and its account's
balances in its currency); and what the issued closes and earlier corrections moved on each pool.

The close of the last period is replayed with the renewal it rolled credit into (SPEC §15,
``successors.renewal_as_closed``): the rollover pools of the renewing commitments are read with the
contract's own (``rows``; ``owners`` names the successor owning them) and count as credit another
contract draws on (``shared``).

Which movements are replayed: every entry on those pools that is not the contract's own close or
correction — activation's issues, top-ups, credit-backs, amendments' and terminations' withdrawals,
other contracts' closes on a shared balance — each before the first of the contract's closes
written after it (by ``created_at``), on pools a close created too. A pool whose first movement is
a close's or a correction's of the contract (a rollover credit), or a contract's pool with no
movement (one a correction created whose moves netted to zero), is no shell: the replay creates it
again, keeping its row's creation order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from tortoise.expressions import Q

from app.billing.calendar import billing_periods
from app.billing.charges import OneTimeCharge, UsageTotal
from app.billing.correction import PeriodData
from app.billing.ledger import EntryKind, LedgerEntry as CoreEntry, Pool
from app.db import aggregates
from app.db.models import (
    Adjustment,
    BillingPeriod,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    OneTimeCharge as OneTimeRow,
    Product,
)
from app.services.pools import core_pool
from app.services.successors import renewal_as_closed, rollover_keys
from app.services.term_versions import load_history


@dataclass
class Replay:
    """One contract's replay input and what it is compared with."""

    periods: list[BillingPeriod]
    invoices: dict[int, Invoice]  # billing period id → its PERIOD invoice
    data: list[PeriodData]
    shells: list[Pool]
    born: dict[str, int]  # key → creation order of the pools the contract's closes created
    rows: dict[str, CreditPool]  # every pool row involved, by key
    issued_moves: dict[str, Decimal]
    shared: frozenset[str]
    next_seq: int
    owners: dict[str, int]  # renewing commitment key → the successor contract (its rollover pool's owner)


async def gather_replay(org_id: int, contract: Contract) -> Replay:
    """See the module docstring. The caller holds the contract's row lock."""
    periods = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id, status="CLOSED") \
        .order_by("number")
    invoices = {i.billing_period_id: i for i in await Invoice.filter(
        organization_id=org_id, contract_id=contract.id, kind="PERIOD")}
    mine = {i.id for i in await Invoice.filter(organization_id=org_id, contract_id=contract.id)}
    adjustments = set(await Adjustment.filter(organization_id=org_id, contract_id=contract.id)
                      .values_list("id", flat=True))
    history = await load_history(org_id, contract)
    last = invoices.get(periods[-1].id) if periods else None
    renewal = await renewal_as_closed(org_id, contract, last.created_at if last else None)
    successor = Q(contract_id__in=list(set(renewal.contract_of.values())), key__in=rollover_keys(renewal))
    # Locked as a close locks: the contracts' own pools (the successor's rollover pools with them,
    # as the successor's close takes its own first), then the account's balances, each in id order.
    owned = await CreditPool.filter(Q(contract_id=contract.id) | successor, organization_id=org_id) \
        .order_by("id").select_for_update()
    balances = await CreditPool.filter(organization_id=org_id, account_id=contract.account_id, contract_id=None,
                                       currency=contract.currency).order_by("id").select_for_update()
    rows = sorted([*owned, *balances], key=lambda r: r.id)
    by_id = {r.id: r for r in rows}
    entries = await LedgerEntry.filter(organization_id=org_id, pool_id__in=list(by_id)).order_by("created_at", "id")
    issued: dict[str, Decimal] = defaultdict(Decimal)
    seen: set[int] = set()
    born_here: set[int] = set()  # pools whose first movement is a close's or a correction's: the replay creates them
    outside: list[LedgerEntry] = []
    for e in entries:
        ours = e.invoice_id in mine or (e.kind == EntryKind.ADJUST.value and e.adjustment_id in adjustments)
        if e.pool_id not in seen:
            seen.add(e.pool_id)
            if ours:
                born_here.add(e.pool_id)
        if ours:
            issued[by_id[e.pool_id].key] += e.amount
        else:
            outside.append(e)
    # A contract's pool with no movement at all was created by a correction whose moves on it netted
    # to zero (activation, amendments and balances always issue): the replay creates it again too.
    born_here |= {r.id for r in rows if r.contract_id is not None and r.id not in seen}
    born = {r.key: r.seq for r in rows if r.id in born_here}
    shells = [core_pool(r) for r in rows if r.key not in born]
    stamps = [invoices[p.id].created_at for p in periods]
    before: list[list[CoreEntry]] = [[] for _ in periods]
    for e in outside:  # on a pool a close created too (a credit-back to a rollover credit, a withdrawal)
        at = next((i for i, stamp in enumerate(stamps) if stamp > e.created_at), None)
        if at is not None:
            before[at].append(CoreEntry(by_id[e.pool_id].key, EntryKind(e.kind), e.amount, e.on_date, e.charge_key,
                                        e.note))
    totals = await aggregates.usage_totals_by_contract_period(
        org_id, [(contract.id, p.start_date, p.end_date) for p in periods])
    codes = dict(await Product.filter(organization_id=org_id).values_list("id", "code"))
    one_time = await OneTimeRow.filter(organization_id=org_id, contract_id=contract.id).order_by("id")
    fees = await _fees_billed_before(org_id, contract, periods)
    data = []
    for i, p in enumerate(periods):
        version = history.at(p.start_date)
        core_period = billing_periods(version.terms)[p.number - 1]
        span = core_period.span
        data.append(PeriodData(
            terms=version.terms, period=core_period,
            usage=tuple(UsageTotal(codes[uid], span, q) for (cid, uid, start), q in sorted(totals.items())
                        if start == p.start_date),
            one_time=tuple(OneTimeCharge(str(r.id), codes[r.product_id], r.amount, r.service_date, seq=r.seq)
                           for r in one_time if span.contains(r.service_date)),
            before=tuple(before[i]), fees_billed=fees[i], successors=renewal.successors))
    return Replay(
        periods=list(periods), invoices=invoices, data=data, shells=shells, born=born,
        rows={r.key: r for r in rows}, issued_moves=dict(issued),
        shared=frozenset(r.key for r in rows if r.contract_id != contract.id),
        next_seq=max([r.seq for r in await CreditPool.filter(organization_id=org_id, account_id=contract.account_id)],
                     default=-1) + 1,
        owners=renewal.contract_of,
    )


async def _fees_billed_before(org_id: int, contract: Contract, periods: list[BillingPeriod]) -> list[dict[str, Decimal]]:
    """Per closed period: the COMMITMENT_FEE total per commitment billed on the contract's invoices
    (an activation invoice included) written for periods before it (a termination's final close
    settles the fees against them, SPEC §14)."""
    if contract.terminated_on is None:
        return [{} for _ in periods]
    invoices = {i.id: i.period_start for i in await Invoice.filter(organization_id=org_id, contract_id=contract.id)}
    kinds = {i.id: i.kind for i in await Invoice.filter(organization_id=org_id, contract_id=contract.id)}
    lines = await InvoiceLine.filter(organization_id=org_id, invoice_id__in=list(invoices), type="COMMITMENT_FEE",
                                     commitment_id__not_isnull=True)
    out = []
    for p in periods:
        billed: dict[str, Decimal] = defaultdict(Decimal)
        for line in lines:
            if invoices[line.invoice_id] < p.start_date or kinds[line.invoice_id] == "ACTIVATION":
                billed[str(line.commitment_id)] += line.amount
        out.append(dict(billed))
    return out
