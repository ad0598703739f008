"""Gather what the close of a billing period needs: the billing core's ``CloseInput`` (SPEC §9).

One function for the close and for its preview, so the preview can never bill from other figures
than the close: the contract's terms, the period, this period's usage totals (one exact SQL
aggregate) with the totals kept by the closes of earlier periods of windows still open, the
period's one-time charges, the rated charges of those earlier periods, and the pools of the
contract with its account's balances in its currency.

The close gathers one contract inside its transaction with ``lock=True``: the pools it moves are
read ``FOR UPDATE`` (the contract's own, then the balances, each in id order, so two closes of one
account lock alike). The preview gathers a batch with ``lock=False``: no lock, nothing written. A
batch costs a fixed number of statements whatever the number of contracts: one query per table,
one usage aggregate for all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.functions import Max

from app.billing.calendar import billing_periods, commitment_windows, period_containing
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.close import CloseInput
from app.billing.window_end import ending_windows
from app.billing.ledger import PoolKind
from app.billing.terms import ChargeType, ContractTerms, DateRange, LineType
from app.db import aggregates
from app.db.models import (
    BillingPeriod,
    Contract,
    CreditPool,
    InvoiceLine,
    OneTimeCharge as OneTimeRow,
    PeriodUsage,
    Product,
    RatedCharge,
)
from app.services.pools import balance_names, core_pool
from app.services.successors import Renewal, successors_many
from app.services.term_versions import load_histories


@dataclass(frozen=True)
class Gathered:
    """The close input of one contract's period, with the rows it came from.

    ``pool_rows`` are the pools of ``input`` by key (the close writes their entries); ``usage`` is
    this period's usage totals, which the close keeps for the periods after it; ``carry_into`` maps
    the key of a commitment of the contract's active successor to that contract's id (a carried
    rollover's pool belongs to it, SPEC §15); ``version`` the number of the contract version whose
    terms bill the period (SPEC §13).
    """

    input: CloseInput
    pool_rows: dict[str, CreditPool]
    usage: tuple[UsageTotal, ...]
    carry_into: dict[str, int] = field(default_factory=dict)
    version: int = 1


async def gather(org_id: int, contract: Contract, row: BillingPeriod, *, lock: bool) -> Gathered:
    """The close input of period ``row`` of ``contract`` (``lock``: read its pools FOR UPDATE)."""
    return (await gather_many(org_id, [(contract, row)], lock=lock))[contract.id]


async def gather_many(org_id: int, targets: Sequence[tuple[Contract, BillingPeriod]], *,
                      lock: bool = False) -> dict[int, Gathered]:
    """Contract id → the close input of its period, for every ``(contract, period row)`` given (one
    period per contract), in a fixed number of statements."""
    if not targets:
        return {}
    contracts = [c for c, _ in targets]
    histories = await load_histories(org_id, contracts)
    versions = {c.id: histories[c.id].at(row.start_date) for c, row in targets}
    terms = {cid: v.terms for cid, v in versions.items()}
    periods = {c.id: billing_periods(terms[c.id])[row.number - 1] for c, row in targets}
    earlier = await _earlier_periods(org_id, targets, terms)
    pools = await _pools(org_id, targets, lock)
    renewals = await successors_many(org_id, contracts, lock=lock)  # after the pools: old, then successor
    totals = await aggregates.usage_totals_many(org_id, [(c.id, r.start_date, r.end_date) for c, r in targets])
    one_time = await _one_time_rows(org_id, targets)
    codes = await _codes(org_id, {uid for _, uid in totals} | {r.product_id for rs in one_time.values() for r in rs})
    kept = await _kept(org_id, [p for rows in earlier.values() for p in rows])
    names = await balance_names(org_id, [p for rows in pools.rows.values() for p in rows.values()])
    billed = await _fees_billed(org_id, [c.id for c in contracts if _terminated(terms[c.id])])
    per_contract: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for (cid, uid), quantity in totals.items():
        per_contract[cid].append((uid, quantity))
    out = {}
    for contract, row in targets:
        span = DateRange(row.start_date, row.end_date)
        current = tuple(UsageTotal(codes[uid], span, q) for uid, q in per_contract[contract.id])
        before = earlier[contract.id]
        renewal = renewals.get(contract.id, Renewal())
        out[contract.id] = Gathered(
            input=CloseInput(
                terms=terms[contract.id], period=periods[contract.id],
                usage=(*current, *(u for p in before for u in kept.usage[p.id])),
                one_time=tuple(_one_time(r, codes) for r in one_time[contract.id]),
                prior_charges=tuple(c for p in before for c in kept.charges[p.id]),
                pools=tuple(core_pool(p, names) for p in pools.rows[contract.id].values()),
                next_seq=max(pools.next_seq[contract.id], renewal.next_seq),
                successors=renewal.successors, fees_billed=billed.get(contract.id, {}),
            ),
            pool_rows=pools.rows[contract.id], usage=current, carry_into=renewal.contract_of,
            version=versions[contract.id].number,
        )
    return out


def earliest_open_window_start(terms: ContractTerms, span: DateRange) -> date:
    """Start of the earliest commitment window that holds this period (its history matters), or,
    for a make-good commitment whose window ends with it, of its first window (the shortfall the
    window before carried is settled now from its kept figures, and whether it carried follows
    from the run of windows that fell short before it, SPEC §18)."""
    starts = [span.start]
    for commitment in terms.commitments:
        window = period_containing(commitment_windows(commitment), span.start)
        if window is not None:
            starts.append(window.span.start)
        ending = [w for w, _ in ending_windows(commitment, span)]
        starts += [w.span.start for w in ending]  # a window cut at its start
        if commitment.make_good and ending:
            starts.append(commitment_windows(commitment)[0].span.start)
    return min(starts)


async def _earlier_periods(org_id: int, targets: Sequence[tuple[Contract, BillingPeriod]],
                           terms: dict[int, ContractTerms]) -> dict[int, list[BillingPeriod]]:
    """Per contract: its periods before the target that belong to a window still open."""
    since = {c.id: earliest_open_window_start(terms[c.id], DateRange(r.start_date, r.end_date)) for c, r in targets}
    number = {c.id: r.number for c, r in targets}
    rows = await BillingPeriod.filter(organization_id=org_id, contract_id__in=list(number),
                                      start_date__gte=min(since.values()),
                                      start_date__lt=max(r.start_date for _, r in targets)).order_by("contract_id", "number")
    out: dict[int, list[BillingPeriod]] = {cid: [] for cid in number}
    for p in rows:
        if p.number < number[p.contract_id] and p.start_date >= since[p.contract_id]:
            out[p.contract_id].append(p)
    return out


async def _pools(org_id: int, targets: Sequence[tuple[Contract, BillingPeriod]], lock: bool) -> _Pools:
    """Per contract: the pools its close can touch — its own and its account's balances in its
    currency, valid on a day of its period or paying pools ended before it with something left
    (``CloseInput.pools``) — by key, and the creation order of its next new pool.

    Only those are read (and locked): a prepaid or tracking commitment has a pool per window issued
    at activation, so a yearly commitment of monthly windows holds 12 pools of which a close moves
    one or two. The creation order comes from all of them (one ``MAX(seq)`` per contract and per
    account balance), so a new pool's ``seq`` is what it would be had every pool been read."""
    contracts = [c for c, _ in targets]
    spans = {c.id: (r.start_date, r.end_date) for c, r in targets}
    starts, ends = min(s for s, _ in spans.values()), max(e for _, e in spans.values())
    near = Q(valid_end__gt=starts) | Q(balance__gt=0)  # narrowed per contract below
    ids, accounts = [c.id for c in contracts], list({c.account_id for c in contracts})
    currencies = list({c.currency for c in contracts})
    own = CreditPool.filter(near, organization_id=org_id, contract_id__in=ids, valid_start__lt=ends).order_by("id")
    balances = CreditPool.filter(
        near, organization_id=org_id, account_id__in=accounts, contract_id=None, currency__in=currencies,
        valid_start__lt=ends,
    ).order_by("id")  # in id order: two closes of one account lock alike
    if lock:
        own, balances = own.select_for_update(), balances.select_for_update()
    own_rows, balance_rows = await own, await balances
    own_seq = dict(await CreditPool.filter(organization_id=org_id, contract_id__in=ids).group_by("contract_id")
                   .annotate(top=Max("seq")).values_list("contract_id", "top"))
    balance_seq = {(a, c): top for a, c, top in await CreditPool.filter(
        organization_id=org_id, account_id__in=accounts, contract_id=None, currency__in=currencies,
    ).group_by("account_id", "currency").annotate(top=Max("seq")).values_list("account_id", "currency", "top")}
    by_contract: dict[int, list[CreditPool]] = defaultdict(list)
    by_account: dict[tuple[int, str], list[CreditPool]] = defaultdict(list)
    for p in own_rows:
        by_contract[p.contract_id].append(p)
    for p in balance_rows:
        by_account[(p.account_id, p.currency)].append(p)
    rows, seq = {}, {}
    for c in contracts:
        start, end = spans[c.id]
        rows[c.id] = {p.key: p for p in [*by_contract[c.id], *by_account[(c.account_id, c.currency)]]
                      if p.valid_start < end and (p.valid_end > start or (_settles_later(p) and p.balance > 0))}
        seq[c.id] = max(own_seq.get(c.id, -1), balance_seq.get((c.account_id, c.currency), -1)) + 1
    return _Pools(rows, seq)


def _settles_later(pool: CreditPool) -> bool:
    """A pool ended before the period that its close may still move when something is left: a
    paying pool (it expires) or a tracking pool (a make-good window's carried shortfall, SPEC §18;
    every other tracking pool is emptied at its window's end)."""
    kind = PoolKind(pool.kind)
    return kind.pays or kind is PoolKind.TRACKING


@dataclass(frozen=True)
class _Pools:
    rows: dict[int, dict[str, CreditPool]]  # contract id → pool key → row
    next_seq: dict[int, int]  # contract id → creation order of its next new pool


def _terminated(terms: ContractTerms) -> bool:
    return terms.termination is not None and terms.termination.early


async def _fees_billed(org_id: int, contract_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """Per terminated contract: commitment key → ``COMMITMENT_FEE`` total of its invoices so far
    (SPEC §14: the final invoice settles the fee against what was really billed). One statement,
    and none when no contract of the batch is terminated."""
    out: dict[int, dict[str, Decimal]] = {}
    if not contract_ids:
        return out
    rows = await InvoiceLine.filter(organization_id=org_id, type=LineType.COMMITMENT_FEE.value,
                                    invoice__contract_id__in=contract_ids, commitment_id__not_isnull=True
                                    ).values_list("invoice__contract_id", "commitment_id", "amount")
    for contract_id, commitment_id, amount in rows:
        per = out.setdefault(contract_id, {})
        per[str(commitment_id)] = per.get(str(commitment_id), Decimal(0)) + amount
    return out


async def _one_time_rows(org_id: int, targets: Sequence[tuple[Contract, BillingPeriod]]) -> dict[int, list[OneTimeRow]]:
    """Per contract: the one-time charges dated in its period."""
    spans = {c.id: (r.start_date, r.end_date) for c, r in targets}
    rows = await OneTimeRow.filter(
        organization_id=org_id, contract_id__in=list(spans),
        service_date__gte=min(s for s, _ in spans.values()), service_date__lt=max(e for _, e in spans.values()),
    ).order_by("id")
    out: dict[int, list[OneTimeRow]] = {cid: [] for cid in spans}
    for r in rows:
        start, end = spans[r.contract_id]
        if start <= r.service_date < end:
            out[r.contract_id].append(r)
    return out


def _one_time(row: OneTimeRow, codes: dict[int, str]) -> OneTimeCharge:
    return OneTimeCharge(str(row.id), codes[row.product_id], row.amount, row.service_date, seq=row.seq)


async def _codes(org_id: int, product_ids: set[int]) -> dict[int, str]:
    if not product_ids:
        return {}
    return dict(await Product.filter(organization_id=org_id, id__in=list(product_ids)).values_list("id", "code"))


@dataclass(frozen=True)
class _Kept:
    usage: dict[int, list[UsageTotal]]
    charges: dict[int, list[Charge]]


async def _kept(org_id: int, earlier: list[BillingPeriod]) -> _Kept:
    """The usage totals and rated charges kept by the closes of ``earlier`` periods, per period."""
    usage: dict[int, list[UsageTotal]] = defaultdict(list)
    charges: dict[int, list[Charge]] = defaultdict(list)
    if not earlier:
        return _Kept(usage, charges)
    spans = {p.id: DateRange(p.start_date, p.end_date) for p in earlier}
    for k in await PeriodUsage.filter(organization_id=org_id, billing_period_id__in=list(spans)):
        usage[k.billing_period_id].append(UsageTotal(k.usage_class, spans[k.billing_period_id], k.quantity))
    for r in await RatedCharge.filter(organization_id=org_id, billing_period_id__in=list(spans)):
        charges[r.billing_period_id].append(kept_charge(r))
    return _Kept(usage, charges)


def kept_charge(r: RatedCharge) -> Charge:
    """A rated charge kept by a close, keyed by its period so keys stay unique across periods."""
    return Charge(key=f"{r.billing_period_id}:{r.key}", type=ChargeType(r.type), product=r.product, amount=r.amount,
                  service_period=DateRange(r.service_start, r.service_end), quantity=r.quantity,
                  unit_amount=r.unit_amount, seq=r.seq)
