"""Close billing periods (SPEC §9): rate, draw down, settle windows, write the invoice and ledger.

A close runs in one transaction with the contract row locked (``FOR UPDATE`` on PostgreSQL), so
two closes of one contract run one after the other and the second finds the period closed. The
invoice has a unique billing period, so a period can never get two invoices. Usage is read as
exact per-class totals from one SQL aggregate; the billing core does all the arithmetic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from app.billing.calendar import billing_periods, commitment_windows, period_containing
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.close import CloseInput, CloseResult, close_period as core_close
from app.billing.errors import BillingError
from app.billing.terms import ChargeType, ContractTerms, DateRange
from app.clock import utc_now
from app.db import aggregates
from app.db.models import (
    BillingPeriod,
    CommitmentWindow,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    OneTimeCharge as OneTimeRow,
    PeriodUsage,
    Product,
    RatedCharge,
)
from app.services.checks import require
from app.services.contract_terms import load_terms
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import append_entries, core_pool, create_pools

log = logging.getLogger(__name__)


async def close_period(org_id: int, contract_id: int, period_start: date | None = None) -> Invoice:
    """Close the oldest open period of the contract (or ``period_start``, which must be it).

    Closing a closed period returns its invoice and writes nothing.
    """
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        target = await _target_period(org_id, contract, period_start)
        if target.status == "CLOSED":
            return await Invoice.get(organization_id=org_id, billing_period_id=target.id)
        return await _close(org_id, contract, target)


async def _target_period(org_id: int, contract: Contract, start: date | None) -> BillingPeriod:
    if contract.status not in ("ACTIVE", "ENDED"):
        raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract.status}", "contractId")
    periods = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id).order_by("number")
    oldest_open = next((p for p in periods if p.status == "OPEN"), None)
    if start is None:
        if oldest_open is None:
            raise fail(ErrorCode.NO_OPEN_PERIOD, "every billing period of the contract is closed", "contractId")
        return oldest_open
    named = next((p for p in periods if p.start_date == start), None)
    if named is None:
        raise fail(ErrorCode.INVALID_PERIOD, f"no billing period of the contract starts on {start}", "periodStart")
    if named.status == "OPEN" and named is not oldest_open:
        assert oldest_open is not None
        raise fail(ErrorCode.EARLIER_PERIOD_OPEN,
                   f"periods close in order: close the one starting {oldest_open.start_date} first", "periodStart")
    return named


async def _close(org_id: int, contract: Contract, row: BillingPeriod) -> Invoice:
    terms = await load_terms(org_id, contract)
    period = billing_periods(terms)[row.number - 1]
    since = _earliest_open_window_start(terms, period.span)
    earlier = await BillingPeriod.filter(
        organization_id=org_id, contract_id=contract.id, number__lt=row.number, start_date__gte=since)
    pool_rows = await _pools(org_id, contract)
    current = await _current_usage(org_id, contract, row)
    inp = CloseInput(
        terms=terms, period=period,
        usage=(*current, *await _earlier_usage(org_id, earlier)),
        one_time=tuple(await _one_time(org_id, contract, period.span)),
        prior_charges=tuple(await _prior_charges(org_id, [p.id for p in earlier])),
        pools=tuple(core_pool(p) for p in pool_rows.values()),
    )
    try:
        result = core_close(inp)
    except BillingError as exc:
        raise InvalidInput([from_billing(exc, "contract")]) from exc
    return await _write(org_id, contract, row, result, pool_rows, current)


def _earliest_open_window_start(terms: ContractTerms, span: DateRange) -> date:
    """Start of the earliest commitment window that holds this period (its history matters)."""
    starts = [span.start]
    for commitment in terms.commitments:
        window = period_containing(commitment_windows(commitment), span.start)
        if window is not None:
            starts.append(window.span.start)
    return min(starts)


async def _pools(org_id: int, contract: Contract) -> dict[str, CreditPool]:
    """The contract's pools and its account's balances in its currency, locked for the close."""
    own = await CreditPool.filter(organization_id=org_id, contract_id=contract.id).order_by("id").select_for_update()
    balances = await CreditPool.filter(
        organization_id=org_id, account_id=contract.account_id, contract_id=None, currency=contract.currency,
    ).order_by("id").select_for_update()  # in id order: two closes of one account lock alike
    return {p.key: p for p in [*own, *balances]}


async def _current_usage(org_id: int, contract: Contract, row: BillingPeriod) -> list[UsageTotal]:
    """This period's exact totals per usage class, from one SQL aggregate."""
    totals = await aggregates.usage_totals(org_id, contract.id, row.start_date, row.end_date)
    codes = dict(await Product.filter(organization_id=org_id, id__in=list(totals)).values_list("id", "code"))
    span = DateRange(row.start_date, row.end_date)
    return [UsageTotal(codes[cid], span, quantity) for cid, quantity in totals.items()]


async def _earlier_usage(org_id: int, earlier: list[BillingPeriod]) -> list[UsageTotal]:
    """The totals kept by the closes of earlier periods of the windows still open."""
    spans = {p.id: DateRange(p.start_date, p.end_date) for p in earlier}
    kept = await PeriodUsage.filter(organization_id=org_id, billing_period_id__in=list(spans))
    return [UsageTotal(k.usage_class, spans[k.billing_period_id], k.quantity) for k in kept]


async def _one_time(org_id: int, contract: Contract, span: DateRange) -> list[OneTimeCharge]:
    rows = await OneTimeRow.filter(organization_id=org_id, contract_id=contract.id,
                                   service_date__gte=span.start, service_date__lt=span.end)
    codes = dict(await Product.filter(organization_id=org_id, id__in=[r.product_id for r in rows]).values_list("id", "code"))
    return [OneTimeCharge(str(r.id), codes[r.product_id], r.amount, r.service_date, seq=r.id) for r in rows]


async def _prior_charges(org_id: int, period_ids: list[int]) -> list[Charge]:
    rows = await RatedCharge.filter(organization_id=org_id, billing_period_id__in=period_ids)
    return [
        Charge(key=f"{r.billing_period_id}:{r.key}", type=ChargeType(r.type), product=r.product, amount=r.amount,
               service_period=DateRange(r.service_start, r.service_end), quantity=r.quantity,
               unit_amount=r.unit_amount, seq=r.seq)
        for r in rows
    ]


async def _write(org_id: int, contract: Contract, row: BillingPeriod, result: CloseResult,
                 pool_rows: dict[str, CreditPool], usage: list[UsageTotal]) -> Invoice:
    """Step 6: the invoice with its lines, the ledger entries, the window results; period closed."""
    invoice_view = result.invoice
    invoice = await Invoice.create(
        organization_id=org_id, contract_id=contract.id, billing_period_id=row.id,
        number=f"INV-{contract.id}-{row.number:03d}", currency=contract.currency,
        period_start=row.start_date, period_end=row.end_date,
        charges_subtotal=invoice_view.charges_subtotal, drawdown_total=invoice_view.drawdown_total,
        total=invoice_view.total,
    )
    new_pools = [p for p in result.pools if p.key not in pool_rows]
    pool_rows.update(await create_pools(org_id, contract.account_id, contract.id, contract.currency, new_pools))
    await append_entries(org_id, pool_rows, result.entries, invoice_id=invoice.id)
    await InvoiceLine.bulk_create([
        InvoiceLine(
            organization_id=org_id, invoice_id=invoice.id, position=i, type=line.type.value, amount=line.amount,
            description=line.description[:300], product=line.product, quantity=line.quantity,
            unit_amount=line.unit_amount, service_start=line.service_period.start,
            service_end=line.service_period.end, charge_key=line.charge_key,
            commitment_id=int(line.commitment_key) if line.commitment_key else None,
            pool_id=pool_rows[line.pool_key].id if line.pool_key else None,
            window_number=line.window_index + 1 if line.window_index is not None else None,
        )
        for i, line in enumerate(result.lines)
    ])
    await RatedCharge.bulk_create([
        RatedCharge(organization_id=org_id, contract_id=contract.id, billing_period_id=row.id, key=c.key,
                    type=c.type.value, product=c.product, amount=c.amount, service_start=c.service_period.start,
                    service_end=c.service_period.end, quantity=c.quantity, unit_amount=c.unit_amount, seq=c.seq)
        for c in result.charges
    ])
    await PeriodUsage.bulk_create([
        PeriodUsage(organization_id=org_id, contract_id=contract.id, billing_period_id=row.id,
                    usage_class=u.usage_class, quantity=u.quantity)
        for u in usage
    ])
    for window in result.windows:
        await CommitmentWindow.filter(
            organization_id=org_id, commitment_id=int(window.commitment_key), number=window.window.number,
        ).update(settled=True, measured=window.measurement.measured, shortfall=window.measurement.shortfall)
    row.status, row.closed_at = "CLOSED", utc_now()
    await row.save(update_fields=["status", "closed_at"])
    if not await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id, status="OPEN").exists():
        contract.status = "ENDED"
        await contract.save(update_fields=["status"])
    return invoice


@dataclass(frozen=True)
class CloseFailure:
    """A contract whose next due period could not be closed, and why."""

    contract_id: int
    period_start: date
    code: str
    message: str


@dataclass(frozen=True)
class DueCloseReport:
    closed: int
    failures: tuple[CloseFailure, ...]


async def due_periods(org_id: int, as_of: date) -> list[tuple[int, date]]:
    """(contract id, period start) of every open period of an active contract ended by ``as_of``,
    in closing order."""
    rows = await BillingPeriod.filter(
        organization_id=org_id, status="OPEN", end_date__lte=as_of,
    ).order_by("contract_id", "number").values_list("contract_id", "start_date")
    active = set(await Contract.filter(organization_id=org_id, status="ACTIVE").values_list("id", flat=True))
    return [(cid, start) for cid, start in rows if cid in active]


async def close_due_periods(org_id: int, as_of: date, progress: Callable[[int, int], None] | None = None) -> DueCloseReport:
    """Close, in order, every period ended on or before ``as_of``: one transaction per period.

    A contract whose close fails is skipped from there on (its later periods stay open); the
    others go on.
    """
    todo = await due_periods(org_id, as_of)
    closed, failures, failed = 0, [], set()
    for done, (contract_id, start) in enumerate(todo, start=1):
        if contract_id not in failed:
            try:
                await close_period(org_id, contract_id, start)
                closed += 1
            except InvalidInput as exc:
                failed.add(contract_id)
                first = exc.errors[0]
                failures.append(CloseFailure(contract_id, start, first.code.value, first.message))
            except Exception as exc:  # noqa: BLE001 - one contract's failure must not stop the others
                log.exception("closing contract %s period %s failed", contract_id, start)
                failed.add(contract_id)
                failures.append(CloseFailure(contract_id, start, "INTERNAL_ERROR", type(exc).__name__))
        if progress:
            progress(done, len(todo))
    return DueCloseReport(closed, tuple(failures))
