"""Close billing periods (SPEC §9): rate, draw down, settle windows, write the invoice and ledger.

A close runs in one transaction with the contract row locked (``FOR UPDATE`` on PostgreSQL), so
two closes of one contract run one after the other and the second finds the period closed. The
invoice has a unique billing period, so a period can never get two invoices. Usage is read as
exact per-class totals from one SQL aggregate; the billing core does all the arithmetic. The
close's input is gathered by ``close_input.gather``, the function the preview (``preview.py``) uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.transactions import in_transaction

from app.billing.charges import UsageTotal
from app.billing.close import CloseResult, close_period as core_close
from app.billing.errors import BillingError
from app.billing.money import as_quantity
from app.clock import today, utc_now
from app.db.models import (
    BillingPeriod,
    CommitmentWindow,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    Organization,
    PeriodUsage,
    RatedCharge,
)
from app.request_context import current_request_id
from app.services.checks import require
from app.services.close_input import gather
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import append_entries, create_pools

log = logging.getLogger(__name__)


async def close_period(org_id: int, contract_id: int, period_start: date | None = None) -> Invoice:
    """Close the oldest open period of the contract (or ``period_start``, which must be it).

    Closing a closed period returns its invoice and writes nothing.
    """
    invoice, _ = await _close_once(org_id, contract_id, period_start)
    return invoice


async def _close_once(org_id: int, contract_id: int, period_start: date | None) -> tuple[Invoice, bool]:
    """``close_period``, and whether this call closed the period (False: it was closed before)."""
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        target = await _target_period(org_id, contract, period_start)
        if target.status == "CLOSED":
            return await Invoice.get(organization_id=org_id, billing_period_id=target.id), False
        return await _close(org_id, contract, target), True


async def _target_period(org_id: int, contract: Contract, start: date | None) -> BillingPeriod:
    """The period to close, refused while it is not yet due (SPEC §12); a closed one is returned as is."""
    target = await _named_or_oldest_open(org_id, contract, start)
    if target.status == "OPEN":
        grace = await _grace_days(org_id)
        due_from, now = closable_from(target.end_date, grace), today()
        if now < due_from:
            raise fail(ErrorCode.PERIOD_NOT_ENDED,
                       f"the period [{target.start_date}, {target.end_date}) may be closed from {due_from} "
                       f"(closeGraceDays {grace}); today is {now} (UTC)",
                       "periodStart" if start is not None else "contractId")
    return target


def closable_from(period_end: date, grace_days: int) -> date:
    """The first day a period ending (exclusive) on ``period_end`` may be closed: ``end + grace``."""
    return period_end + timedelta(days=grace_days)


async def _grace_days(org_id: int) -> int:
    """The organization's ``closeGraceDays``."""
    return int(await Organization.get(id=org_id).values_list("close_grace_days", flat=True))


async def _named_or_oldest_open(org_id: int, contract: Contract, start: date | None) -> BillingPeriod:
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
    gathered = await gather(org_id, contract, row, lock=True)  # the same input the preview bills from
    try:
        result = core_close(gathered.input)
    except BillingError as exc:
        raise InvalidInput([from_billing(exc, "contract")]) from exc
    return await _write(org_id, contract, row, result, gathered.pool_rows, list(gathered.usage))


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
        ).update(settled=True, measured=as_quantity(window.measurement.measured),
                 shortfall=as_quantity(window.measurement.shortfall))
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
    closed: int  # periods this call closed
    failures: tuple[CloseFailure, ...]
    as_of: date  # the day the closes ran as of: the one asked for, or today if that was later
    already_closed: int = 0  # due periods another caller closed while this call ran (not counted in closed)


def effective_as_of(as_of: date | None) -> date:
    """The as-of date a due close uses: today if none was given or a later one was (SPEC §12)."""
    now = today()
    return now if as_of is None or as_of > now else as_of


async def due_periods(org_id: int, as_of: date | None = None) -> list[tuple[int, date]]:
    """(contract id, period start) of every open period of an active contract that is due by
    ``as_of`` (``end + closeGraceDays <= as_of``; an ``as_of`` after today counts as today), in
    closing order."""
    last_end = effective_as_of(as_of) - timedelta(days=await _grace_days(org_id))
    rows = await BillingPeriod.filter(
        organization_id=org_id, status="OPEN", end_date__lte=last_end,
    ).order_by("contract_id", "number").values_list("contract_id", "start_date")
    active = set(await Contract.filter(organization_id=org_id, status="ACTIVE").values_list("id", flat=True))
    return [(cid, start) for cid, start in rows if cid in active]


async def close_due_periods(org_id: int, as_of: date | None = None,
                            progress: Callable[[int, int], None] | None = None) -> DueCloseReport:
    """Close, in order, every period due by ``as_of`` (default and at most today): one transaction
    per period. A period ``[s, e)`` is due from ``e + closeGraceDays``.

    A contract whose close fails is skipped from there on (its later periods stay open); the
    others go on. ``closed`` counts what this call closed: a period a concurrent caller closed
    first is counted in ``already_closed``, so concurrent calls add up to the periods closed.
    """
    from app.services.close_batch import close_chunk, plan_chunks

    as_of = effective_as_of(as_of)
    todo = await due_periods(org_id, as_of)
    closed, already, failures, done = 0, 0, [], 0
    for chunk in plan_chunks(todo):
        report = await close_chunk(org_id, chunk, as_of)
        closed, already = closed + report.closed, already + report.already_closed
        failures.extend(report.failures)
        done += len(chunk)
        if progress:
            progress(done, len(todo))
    return DueCloseReport(closed, tuple(failures), as_of, already)


async def close_targets(org_id: int, todo: Sequence[tuple[int, date]], as_of: date) -> DueCloseReport:
    """Close the given (contract id, period start) in order, one transaction per period."""
    closed, already, failures, failed = 0, 0, [], set()
    for contract_id, start in todo:
        if contract_id not in failed:
            try:
                _, closed_now = await _close_once(org_id, contract_id, start)
                closed, already = closed + int(closed_now), already + int(not closed_now)
            except InvalidInput as exc:
                failed.add(contract_id)
                first = exc.errors[0]
                failures.append(CloseFailure(contract_id, start, first.code.value, first.message))
            except Exception as exc:  # noqa: BLE001 - one contract's failure must not stop the others
                log.exception("closing contract %s period %s failed (request %s)", contract_id, start,
                              current_request_id())
                failed.add(contract_id)
                failures.append(CloseFailure(contract_id, start, "INTERNAL_ERROR", type(exc).__name__))
    return DueCloseReport(closed, tuple(failures), as_of, already)
