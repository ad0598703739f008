"""Close billing periods (SPEC §9): rate, draw down, settle windows, write the invoice and ledger.

A close runs in one transaction with the contract row locked (``FOR UPDATE`` on PostgreSQL), so
two closes of one contract run one after the other and the second finds the period closed. The
invoice has a unique billing period, so a period can never get two invoices. Usage is read as
exact per-class totals from one SQL aggregate; the billing core does all the arithmetic. The
close's input is gathered by ``close_input.gather``, the function the preview (``preview.py``) uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.transactions import in_transaction

from app.billing.close import close_period as core_close
from app.billing.errors import BillingError
from app.clock import today
from app.db.models import BillingPeriod, Contract, Invoice, Organization
from app.observability.metrics import record_closes
from app.services.checks import require
from app.services.close_input import gather
from app.services.close_writes import PendingClose, write_closes
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing


async def close_period(org_id: int, contract_id: int, period_start: date | None = None) -> Invoice:
    """Close the oldest open period of the contract (or ``period_start``, which must be it).

    Closing a closed period returns its invoice and writes nothing.
    """
    invoice, closed = await _close_once(org_id, contract_id, period_start)
    if closed:
        record_closes("single", 1)  # README "Metrics"
    return invoice


async def _close_once(org_id: int, contract_id: int, period_start: date | None) -> tuple[Invoice, bool]:
    """``close_period``, and whether this call closed the period (False: it was closed before)."""
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        target = await _target_period(org_id, contract, period_start)
        if target.status == "CLOSED":
            return await Invoice.get(organization_id=org_id, billing_period_id=target.id, kind="PERIOD"), False
        return await close_locked(org_id, contract, target), True


async def _target_period(org_id: int, contract: Contract, start: date | None) -> BillingPeriod:
    """The period to close, refused while it is not yet due (SPEC §12); a closed one is returned as is."""
    periods = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id).order_by("number")
    target = pick_period(contract, periods, start)
    if target.status == "OPEN":
        check_due(target, await grace_days(org_id), "periodStart" if start is not None else "contractId")
    return target


def check_due(target: BillingPeriod, grace: int, field: str) -> None:
    """Refuse (``PERIOD_NOT_ENDED``) an open period that may not be closed today (SPEC §12)."""
    due_from, now = closable_from(target.end_date, grace), today()
    if now < due_from:
        raise fail(ErrorCode.PERIOD_NOT_ENDED,
                   f"the period [{target.start_date}, {target.end_date}) may be closed from {due_from} "
                   f"(closeGraceDays {grace}); today is {now} (UTC)", field)


def closable_from(period_end: date, grace: int) -> date:
    """The first day a period ending (exclusive) on ``period_end`` may be closed: ``end + grace``."""
    return period_end + timedelta(days=grace)


async def grace_days(org_id: int) -> int:
    """The organization's ``closeGraceDays``."""
    return int(await Organization.get(id=org_id).values_list("close_grace_days", flat=True))


def pick_period(contract: Contract, periods: Sequence[BillingPeriod], start: date | None) -> BillingPeriod:
    """The contract's period starting on ``start`` (which must be its oldest open one if open), or
    its oldest open period; ``periods`` in number order must hold the one starting on ``start`` and
    every open period of the contract (with ``start`` given, those starting after it may be left out)."""
    if contract.status not in ("ACTIVE", "ENDED"):
        raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract.status}", "contractId")
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


async def close_locked(org_id: int, contract: Contract, row: BillingPeriod) -> Invoice:
    """Close ``row`` of the locked ``contract``: gather, the billing core, ``write_closes`` of one."""
    gathered = await gather(org_id, contract, row, lock=True)  # the same input the preview bills from
    try:
        result = core_close(gathered.input)
    except BillingError as exc:
        raise InvalidInput([from_billing(exc, "contract")]) from exc
    pending = PendingClose(contract, row, result, gathered.pool_rows, list(gathered.usage), gathered.carry_into,
                           gathered.version)
    return (await write_closes(org_id, [pending]))[0]


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
    last_end = effective_as_of(as_of) - timedelta(days=await grace_days(org_id))
    rows = await BillingPeriod.filter(
        organization_id=org_id, status="OPEN", end_date__lte=last_end,
    ).order_by("contract_id", "number").values_list("contract_id", "start_date")
    active = set(await Contract.filter(organization_id=org_id, status="ACTIVE").values_list("id", flat=True))
    return [(cid, start) for cid, start in rows if cid in active]


async def close_due_periods(org_id: int, as_of: date | None = None,
                            progress: Callable[[int, int], None] | None = None) -> DueCloseReport:
    """Close every period due by ``as_of`` (default and at most today), in chunks of contracts
    (``close_batch``: one transaction per round of a chunk, written in bulk). A period ``[s, e)``
    is due from ``e + closeGraceDays``.

    A contract whose close fails is skipped from there on (its later periods stay open); the
    others go on. ``closed`` counts what this call closed: a period a concurrent caller closed
    first is counted in ``already_closed``, so concurrent calls add up to the periods closed.
    """
    from app.services.close_batch import close_chunk, due_chunks

    as_of, chunks = await due_chunks(org_id, as_of)
    total = sum(len(chunk) for chunk in chunks)
    closed, already, failures, done = 0, 0, [], 0
    for chunk in chunks:
        report = await close_chunk(org_id, chunk, as_of)
        closed, already = closed + report.closed, already + report.already_closed
        failures.extend(report.failures)
        done += len(chunk)
        if progress:
            progress(done, total)
    return DueCloseReport(closed, tuple(failures), as_of, already)
