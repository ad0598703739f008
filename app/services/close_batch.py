"""Due closes in chunks of contracts: the unit of work a job closes (README "Workers").

``plan_chunks`` cuts the due list into chunks of at most ``CHUNK_SIZE`` contracts, a contract's
periods always in one chunk and in order; ``close_chunk`` closes one chunk and reports like
``close_due_periods``. A chunk closed twice closes nothing twice: a closed period is found closed.

Decisions:

- **Rounds.** A chunk closes in rounds by the end of the periods: round 1 closes every due period
  of the chunk ending earliest, round 2 those ending next, and so on (a month-end of monthly
  contracts is one round; contracts in catch-up add rounds); a contract that failed is left out of
  its later rounds (its later periods stay open). Within a round, contracts go in id order. So an
  account balance shared by several contracts is drawn in the order of the periods, and a close
  that expires a balance at its end date comes after every close of a period ending before it.
- **An account's contracts in one chunk** (``plan_chunks`` with ``account_of``): chunks run on
  several workers at once, and only one chunk draws on an account's balances. An account with more
  than ``ACCOUNT_CHUNKS × CHUNK_SIZE`` (2,000) contracts due at once is cut there even so.
- **One transaction per round**, with the round's contracts locked ``FOR UPDATE`` in id order in
  one statement (PostgreSQL; SQLite serializes writers), then their periods re-read in one query:
  a period closed meanwhile by another caller counts as ``already_closed`` and nothing is written
  for it. The rules are ``closing``'s own (``pick_period``, ``check_due``).
- **A fixed number of statements per round**, whatever the number of contracts:
  ``close_input.gather_many`` (one query per table, one usage aggregate), the billing core per
  contract in Python, then ``close_writes.write_closes`` (bulk writes). An account balance drawn by
  two contracts of the round is passed to the second at the balance the first left.
- **Failures.** A contract whose billing core raises is that contract's failure (the others are
  written). The gathering and the bulk write run inside a savepoint; if it fails (a database
  error), it is rolled back and the round's contracts are closed one by one, each exactly as
  ``closePeriod`` closes it, each in its own savepoint: the contract that fails is reported
  (``INTERNAL_ERROR``, or its own code) and the others close. If the round's transaction itself
  fails, nothing of the round is written and its contracts are reported ``INTERNAL_ERROR``. A
  database outage is nobody's contract's fault: it is raised, so that the job is retried (the retry
  finds the periods closed before it closed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.billing.close import close_period as core_close
from app.billing.errors import BillingError
from app.db.models import BillingPeriod, Contract
from app.db.outage import is_database_unavailable
from app.observability.metrics import record_closes
from app.request_context import current_request_id
from app.services.close_input import Gathered, gather_many
from app.services.close_writes import PendingClose, write_closes
from app.services.closing import (
    CloseFailure,
    DueCloseReport,
    check_due,
    close_locked,
    due_periods,
    effective_as_of,
    grace_days,
    pick_period,
)
from app.services.errors import ErrorCode, InvalidInput, UserError, fail, from_billing

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
ACCOUNT_CHUNKS = 4  # an account's contracts stay in one chunk up to 4 x the chunk size


def plan_chunks(todo: Sequence[tuple[int, date]], size: int = CHUNK_SIZE,
                account_of: Mapping[int, int] | None = None) -> list[list[tuple[int, date]]]:
    """``todo`` (contract id, period start), in closing order, cut into chunks of ≤ ``size`` contracts.

    With ``account_of`` (contract id → account id) the contracts of one account stay in one chunk
    (the chunk may then pass ``size``, up to ``ACCOUNT_CHUNKS × size``): chunks run on several workers at once,
    and an account balance shared by its contracts must be drawn in the order of their periods."""
    if account_of is not None:  # stable: a contract's periods keep their order
        todo = sorted(todo, key=lambda t: (account_of.get(t[0], 0), t[0]))
    chunks: list[list[tuple[int, date]]] = []
    contracts: set[int] = set()
    group: int | None = None
    for contract_id, start in todo:  # a contract's periods are next to each other in closing order
        if contract_id not in contracts:
            owner = account_of.get(contract_id, 0) if account_of is not None else contract_id
            full = len(contracts) >= size and (owner != group or len(contracts) >= ACCOUNT_CHUNKS * size)
            if not chunks or full:
                chunks.append([])
                contracts = set()
            contracts.add(contract_id)
            group = owner
        chunks[-1].append((contract_id, start))
    return chunks


async def due_chunks(org_id: int, as_of: date | None) -> tuple[date, list[list[tuple[int, date]]]]:
    """The effective as-of day and the organization's due periods cut into chunks, an account's
    contracts in one chunk."""
    as_of = effective_as_of(as_of)
    todo = await due_periods(org_id, as_of)
    accounts: dict[int, int] = {}
    if todo:
        accounts = dict(await Contract.filter(organization_id=org_id, id__in=list({c for c, _ in todo}))
                        .values_list("id", "account_id"))
    return as_of, plan_chunks(todo, CHUNK_SIZE, accounts)


@dataclass
class _Tally:
    closed: int = 0
    already: int = 0
    failures: list[CloseFailure] = field(default_factory=list)
    failed: set[int] = field(default_factory=set)

    def fail(self, contract_id: int, start: date, error: UserError) -> None:
        self.failed.add(contract_id)
        self.failures.append(CloseFailure(contract_id, start, error.code.value, error.message))

    def crash(self, contract_id: int, start: date, exc: BaseException) -> None:
        log.error("closing contract %s period %s failed (request %s)", contract_id, start, current_request_id(),
                  exc_info=exc)
        self.failed.add(contract_id)
        self.failures.append(CloseFailure(contract_id, start, "INTERNAL_ERROR", type(exc).__name__))


async def close_chunk(org_id: int, targets: Sequence[tuple[int, date]], as_of: date) -> DueCloseReport:
    """Close the periods of one chunk in rounds (module docstring); one contract's failure skips
    its later periods only."""
    tally = _Tally()
    ends = await period_ends(org_id, targets)
    try:
        for round_ in rounds(targets, ends):
            todo = [(cid, start) for cid, start in round_ if cid not in tally.failed]
            if todo:
                await _close_round(org_id, todo, tally)
    finally:  # README "Metrics": the rounds written, even if an outage stops the chunk
        record_closes("batch", tally.closed, [f.code for f in tally.failures])
    return DueCloseReport(tally.closed, tuple(tally.failures), as_of, tally.already)


def rounds(targets: Sequence[tuple[int, date]],
           ends: Mapping[tuple[int, date], date] | None = None) -> list[list[tuple[int, date]]]:
    """The chunk's targets grouped by the end of their period, earliest first; contracts in id order
    within a round. A contract has one period per end date, so a round holds each contract once
    and a contract's periods come in their order. (A target whose period is unknown goes last, where
    ``pick_period`` refuses it.)"""
    by_end: dict[date, list[tuple[int, date]]] = defaultdict(list)
    for contract_id, start in targets:
        by_end[(ends or {}).get((contract_id, start), date.max)].append((contract_id, start))
    return [sorted(by_end[end]) for end in sorted(by_end)]


async def period_ends(org_id: int, targets: Sequence[tuple[int, date]]) -> dict[tuple[int, date], date]:
    """(contract id, period start) → period end, for the chunk's targets, in one statement."""
    if not targets:
        return {}
    rows = await BillingPeriod.filter(
        organization_id=org_id, contract_id__in=list({c for c, _ in targets}),
        start_date__in=list({s for _, s in targets}),
    ).values_list("contract_id", "start_date", "end_date")
    return {(cid, start): end for cid, start, end in rows}


async def _close_round(org_id: int, todo: list[tuple[int, date]], tally: _Tally) -> None:
    """One round in one transaction; its outcome counts only once the transaction committed."""
    outcome = _Tally()
    try:
        async with in_transaction():
            await _run_round(org_id, todo, outcome)
    except Exception as exc:  # noqa: BLE001 - the round is rolled back; the other rounds and chunks go on
        if is_database_unavailable(exc):
            raise  # not the contracts' fault: the job is retried (a retry finds closed periods closed)
        known = {f.contract_id for f in outcome.failures}
        outcome.closed = 0
        for cid, start in todo:
            if cid not in known:
                outcome.crash(cid, start, exc)
    tally.closed += outcome.closed
    tally.already += outcome.already
    tally.failures.extend(outcome.failures)
    tally.failed |= outcome.failed


async def _run_round(org_id: int, todo: list[tuple[int, date]], outcome: _Tally) -> None:
    ids = [cid for cid, _ in todo]
    contracts = {c.id: c for c in await Contract.filter(organization_id=org_id, id__in=ids)
                 .order_by("id").select_for_update()}  # one statement, in id order: chunks lock alike
    periods: dict[int, list[BillingPeriod]] = defaultdict(list)
    starts = {s for _, s in todo}  # a contract's oldest open period, if before its target, starts before it
    for p in await BillingPeriod.filter(Q(status="OPEN") | Q(start_date__in=list(starts)), organization_id=org_id,
                                        contract_id__in=ids, start_date__lte=max(starts)).order_by("contract_id", "number"):
        periods[p.contract_id].append(p)
    grace = await grace_days(org_id)
    ready: list[tuple[Contract, BillingPeriod, date]] = []
    for cid, start in todo:
        try:
            contract = contracts.get(cid)
            if contract is None:
                raise fail(ErrorCode.NOT_FOUND, "no Contract with this id", "contractId")
            target = pick_period(contract, periods[cid], start)
            if target.status == "CLOSED":
                outcome.already += 1  # closed by another caller: nothing to write
                continue
            check_due(target, grace, "periodStart")
        except InvalidInput as exc:
            outcome.fail(cid, start, exc.errors[0])
            continue
        ready.append((contract, target, start))
    if not ready:
        return
    try:
        async with in_transaction():  # a savepoint: a failed bulk write leaves the round's transaction usable
            pending, refused = await _bill(org_id, ready)
            await write_closes(org_id, pending)
    except Exception as exc:  # noqa: BLE001 - fall back to one savepoint per contract
        if is_database_unavailable(exc):
            raise  # the database is gone, not one contract's data: the round fails and the job is retried
        log.exception("bulk close of %d contracts failed; closing them one by one (request %s)", len(ready),
                      current_request_id())
        await _one_by_one(org_id, ready, outcome)
        return
    for cid, start, error in refused:
        outcome.fail(cid, start, error)
    outcome.closed += len(pending)


async def _bill(org_id: int, ready: list[tuple[Contract, BillingPeriod, date]]
                ) -> tuple[list[PendingClose], list[tuple[int, date, UserError]]]:
    """Gather the round's inputs in one go and run the billing core per contract, in order."""
    gathered = await gather_many(org_id, [(c, row) for c, row, _ in ready], lock=True)
    balances: dict[int, Decimal] = {}  # pool id → balance once the contracts before have closed
    pending, refused = [], []
    for contract, row, start in ready:
        g = gathered[contract.id]
        try:
            result = core_close(_with_balances(g, balances).input)
        except BillingError as exc:
            refused.append((contract.id, start, from_billing(exc, "contract")))
            continue
        for key in dict.fromkeys(e.pool_key for e in result.entries if e.pool_key in g.pool_rows):
            pool = g.pool_rows[key]
            moved = sum((e.amount for e in result.entries if e.pool_key == key), Decimal(0))
            balances[pool.id] = balances.get(pool.id, pool.balance) + moved
        pending.append(PendingClose(contract, row, result, g.pool_rows, list(g.usage), g.carry_into, g.version))
    return pending, refused


def _with_balances(g: Gathered, balances: dict[int, Decimal]) -> Gathered:
    """``g`` with its pools at the balances earlier contracts of the round left (shared balances)."""
    rows = g.pool_rows
    if not any(rows[p.key].id in balances for p in g.input.pools):
        return g
    pools = tuple(replace(p, balance=balances.get(rows[p.key].id, p.balance)) for p in g.input.pools)
    return replace(g, input=replace(g.input, pools=pools))


async def _one_by_one(org_id: int, ready: list[tuple[Contract, BillingPeriod, date]], outcome: _Tally) -> None:
    """Close each contract as ``closePeriod`` does, each in its own savepoint."""
    for contract, row, start in ready:
        try:
            async with in_transaction():
                await close_locked(org_id, contract, row)
            outcome.closed += 1
        except InvalidInput as exc:
            outcome.fail(contract.id, start, exc.errors[0])
        except Exception as exc:  # noqa: BLE001 - one contract's failure must not stop the others
            if is_database_unavailable(exc):
                raise
            outcome.crash(contract.id, start, exc)
