"""Live state of commitment windows: what each window has measured so far, and its pool.

A settled window (its last billing period closed) keeps the figures its close stored. A window
still open is measured live by the billing core (``measures.measure``) from what is known now:

- closed periods: the usage totals (``PeriodUsage``) and rated charges (``RatedCharge``) their
  closes kept;
- open periods: exact usage totals from the database (``aggregates.usage_totals_by_contract_period``) and
  the charges the billing core rates from them (``rating.rate_period``) with the one-time charges
  posted so far. An open period counts as if it were closed now, so its recurring and standing
  charges count in full even before the period ends: the live figure is "if the window closed
  today with the data recorded so far".

``consumed`` and ``remaining`` come from the window's own pool (PREPAID: what charges drew;
TRACKING: what eligible spend was tracked), net of credit-backs; a window without a pool has
neither. The number of queries does not depend on the number of windows, commitments or contracts:
one batch of each table for all the contracts asked about (their terms included), and one usage
aggregate over the open periods of all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.calendar import Period, billing_periods, commitment_windows
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.ledger import EntryKind, PoolKind
from app.billing.money import as_quantity
from app.billing.measures import measure
from app.billing.rating import rate_period
from app.billing.terms import ChargeType, CommitmentType, Commitment as CoreCommitment, ContractTerms, DateRange
from app.db import aggregates, repo
from app.db.models import (
    BillingPeriod,
    Commitment,
    CommitmentWindow,
    Contract,
    CreditPool,
    LedgerEntry,
    OneTimeCharge as OneTimeRow,
    PeriodUsage,
    Product,
    RatedCharge,
)
from app.services.term_versions import TermsHistory, load_histories

LIVE_STATUSES = ("ACTIVE", "ENDED")
WINDOW_POOLS = (PoolKind.PREPAID.value, PoolKind.TRACKING.value)
USED = (EntryKind.CONSUME.value, EntryKind.CREDIT_BACK.value)


@dataclass(frozen=True)
class WindowState:
    """One materialized window with what it measured (live until settled) and its pool's figures."""

    number: int
    start_date: date
    end_date: date
    partial: bool
    committed: Decimal
    measured: Decimal
    shortfall: Decimal
    settled: bool
    pool_id: int | None = None
    consumed: Decimal | None = None
    remaining: Decimal | None = None
    carried: Decimal | None = None  # make-good (SPEC §18): the shortfall carried into the next window
    recovered: Decimal | None = None  # what the next window recovered of it, once settled


@dataclass
class _Facts:
    """What the batch loaded, for every contract asked about."""

    windows: dict[int, list[CommitmentWindow]]
    periods: dict[int, list[BillingPeriod]]  # contract id → its periods inside an open window
    pools: dict[tuple[int, int], CreditPool]
    used: dict[int, Decimal]
    kept_usage: dict[int, list[PeriodUsage]]
    kept_charges: dict[int, list[RatedCharge]]
    one_time: dict[int, list[OneTimeRow]]
    codes: dict[int, str]


async def window_states(org_id: int, commitment_ids: Sequence[int]) -> dict[int, list[WindowState]]:
    """Commitment id → its windows in order, for commitments of ACTIVE or ENDED contracts of the
    organization (others, and ids of other organizations, are absent)."""
    commitments = await repo.by_ids(Commitment, org_id, list(dict.fromkeys(commitment_ids)))
    contracts = {c.id: c for c in await repo.by_ids(Contract, org_id, list({c.contract_id for c in commitments}))}
    live = [c for c in commitments if contracts[c.contract_id].status in LIVE_STATUSES]
    if not live:
        return {}
    facts = await _load(org_id, live)
    out: dict[int, list[WindowState]] = {}
    by_contract: dict[int, list[Commitment]] = defaultdict(list)
    for row in live:
        by_contract[row.contract_id].append(row)
    histories = await load_histories(org_id, [contracts[cid] for cid in by_contract])
    terms = {cid: h.latest.terms for cid, h in histories.items()}
    periods = facts.periods
    recorded = await _live_usage(org_id, periods, facts)
    for contract_id, rows in by_contract.items():
        # Only a SPEND commitment measures charges: without one, the open periods are not rated.
        rates = any(r.type == CommitmentType.SPEND.value for r in rows)
        usage, charges = _known(contracts[contract_id], histories[contract_id], periods[contract_id], recorded,
                                facts, rates)
        out.update(_contract_states(terms[contract_id], rows, usage, charges, facts))
    return out


async def _load(org_id: int, commitments: list[Commitment]) -> _Facts:
    """One query per table for every contract and commitment of the batch. Only the billing periods
    inside an open window are kept, and only theirs are read back from what closes kept (a settled
    window shows its stored figures: the periods of a long-running contract's past windows are not
    read again on every request)."""
    commitment_ids = [c.id for c in commitments]
    contract_ids = list({c.contract_id for c in commitments})
    windows = _group(await CommitmentWindow.filter(organization_id=org_id, commitment_id__in=commitment_ids)
                     .order_by("number"), "commitment_id")
    all_periods = _group(await BillingPeriod.filter(organization_id=org_id, contract_id__in=contract_ids)
                         .order_by("number"), "contract_id")
    by_contract: dict[int, list[Commitment]] = defaultdict(list)
    for row in commitments:
        by_contract[row.contract_id].append(row)
    periods = {cid: _periods_of_open_windows(windows, all_periods[cid], rows) for cid, rows in by_contract.items()}
    pools = await CreditPool.filter(organization_id=org_id, commitment_id__in=commitment_ids, kind__in=WINDOW_POOLS)
    used_rows = await LedgerEntry.filter(organization_id=org_id, pool_id__in=[p.id for p in pools],
                                         kind__in=USED).values_list("pool_id", "amount")
    closed = [p.id for rows in periods.values() for p in rows if p.status == "CLOSED"]
    kept_usage = await PeriodUsage.filter(organization_id=org_id, billing_period_id__in=closed)
    kept_charges = await RatedCharge.filter(organization_id=org_id, billing_period_id__in=closed).order_by("seq")
    one_time = await OneTimeRow.filter(organization_id=org_id, contract_id__in=contract_ids).order_by("id")
    used: dict[int, Decimal] = defaultdict(Decimal)
    for pool_id, amount in used_rows:
        used[pool_id] -= amount
    return _Facts(
        windows=windows, periods=periods,
        pools={(p.commitment_id, p.window_number): p for p in pools}, used=used,
        kept_usage=_group(kept_usage, "billing_period_id"), kept_charges=_group(kept_charges, "billing_period_id"),
        one_time=_group(one_time, "contract_id"),
        codes=dict(await Product.filter(organization_id=org_id).values_list("id", "code")),
    )


def _group(rows: Iterable, attr: str) -> dict[int, list]:  # type: ignore[type-arg]
    out: dict[int, list] = defaultdict(list)  # type: ignore[type-arg]
    for row in rows:
        out[getattr(row, attr)].append(row)
    return out


def _periods_of_open_windows(windows: dict[int, list[CommitmentWindow]], periods: list[BillingPeriod],
                             rows: list[Commitment]) -> list[BillingPeriod]:
    """The ``periods`` (of one contract) inside one of the open (not settled) windows of ``rows``
    (its commitments)."""
    spans = [DateRange(w.start_date, w.end_date) for row in rows for w in windows[row.id] if not w.settled]
    return [p for p in periods if any(s.start <= p.start_date and p.end_date <= s.end for s in spans)]


async def _live_usage(org_id: int, periods: dict[int, list[BillingPeriod]],
                      facts: _Facts) -> dict[tuple[int, date], dict[str, Decimal]]:
    """(contract id, period start) → usage class code → exact total, for every open period of every
    contract: one statement for all of them."""
    totals = await aggregates.usage_totals_by_contract_period(
        org_id, [(cid, p.start_date, p.end_date) for cid, rows in periods.items() for p in rows if p.status != "CLOSED"])
    live: dict[tuple[int, date], dict[str, Decimal]] = defaultdict(dict)
    for (contract_id, usage_class_id, start), total in totals.items():
        live[(contract_id, start)][facts.codes[usage_class_id]] = total
    return live


def _contract_states(terms: ContractTerms, rows: list[Commitment], usage: list[UsageTotal], charges: list[Charge],
                     facts: _Facts) -> dict[int, list[WindowState]]:
    """The windows of ``rows`` (commitments of one contract), measured live where still open."""
    core = {c.key: c for c in terms.commitments}
    out = {}
    for row in rows:
        commitment = core[str(row.id)]
        shapes = {p.number: p for p in commitment_windows(commitment)}
        out[row.id] = [_state(commitment, shapes[w.number], w, terms, usage, charges, facts)
                       for w in facts.windows[row.id]]
    return out


def _known(contract: Contract, history: TermsHistory, rows: list[BillingPeriod],
           live: dict[tuple[int, date], dict[str, Decimal]], facts: _Facts,
           rates: bool) -> tuple[list[UsageTotal], list[Charge]]:
    """Usage totals and (if ``rates``) charges of the contract's periods ``rows`` (those inside an
    open window), each open period rated by the terms of its version (SPEC §13)."""
    shapes = billing_periods(history.latest.terms)
    usage: list[UsageTotal] = []
    charges: list[Charge] = []
    for p in rows:
        span = DateRange(p.start_date, p.end_date)
        if p.status == "CLOSED":
            usage += [UsageTotal(u.usage_class, span, u.quantity) for u in facts.kept_usage[p.id]]
            charges += [_kept_charge(r) for r in facts.kept_charges[p.id]] if rates else []
            continue
        quantities = live.get((contract.id, p.start_date), {})
        usage += [UsageTotal(code, span, q) for code, q in quantities.items()]
        if rates:
            charges += rate_period(history.at(p.start_date).terms, shapes[p.number - 1], quantities,
                                   _one_time(facts, contract.id))
    return usage, charges


def _one_time(facts: _Facts, contract_id: int) -> list[OneTimeCharge]:
    return [OneTimeCharge(str(r.id), facts.codes[r.product_id], r.amount, r.service_date, seq=r.seq)
            for r in facts.one_time[contract_id]]


def _kept_charge(r: RatedCharge) -> Charge:
    return Charge(key=f"{r.billing_period_id}:{r.key}", type=ChargeType(r.type), product=r.product, amount=r.amount,
                  service_period=DateRange(r.service_start, r.service_end), quantity=r.quantity,
                  unit_amount=r.unit_amount, seq=r.seq)


def _state(commitment: CoreCommitment, shape: Period, row: CommitmentWindow, terms: ContractTerms,
           usage: list[UsageTotal], charges: list[Charge], facts: _Facts) -> WindowState:
    if row.settled and row.measured is not None and row.shortfall is not None:
        measured, shortfall = row.measured, row.shortfall
    else:
        m = measure(commitment, shape, usage=usage, service_lines=terms.service_lines, charges=charges,
                    currency=terms.currency)
        measured, shortfall = as_quantity(m.measured), as_quantity(m.shortfall)
    pool = facts.pools.get((row.commitment_id, row.number))
    return WindowState(
        number=row.number, start_date=row.start_date, end_date=row.end_date, partial=shape.partial,
        committed=row.committed, measured=measured, shortfall=shortfall, settled=row.settled,
        pool_id=pool.id if pool else None,
        consumed=facts.used.get(pool.id, Decimal(0)) if pool else None,
        remaining=pool.balance if pool else None,
        carried=row.carried, recovered=row.recovered,
    )
