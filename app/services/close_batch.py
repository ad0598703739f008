"""Due closes in chunks of contracts: the unit of work a job closes (README "Workers").

``plan_chunks`` cuts the due list into chunks of at most ``CHUNK_SIZE`` contracts, a contract's
periods always in one chunk and in order; ``close_chunk`` closes one chunk and reports like
``close_due_periods``. A chunk closed twice closes nothing twice: a closed period is found closed.

Decisions:

- **Rounds.** A chunk closes in rounds: round 1 closes the first due period of every contract of
  the chunk, round 2 the second (only contracts in catch-up have one), and so on; a contract that
  failed is left out of its later rounds (its later periods stay open). Within a round, contracts
  go in id order. So an account balance shared by several contracts is drawn in calendar order
  (every January before any February), the order ``closePeriod`` calls in rounds would give.
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
  fails, nothing of the round is written and its contracts are reported ``INTERNAL_ERROR``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.billing.close import close_period as core_close
from app.billing.errors import BillingError
from app.db.models import BillingPeriod, Contract
from app.request_context import current_request_id
from app.services.close_input import Gathered, gather_many
from app.services.close_writes import PendingClose, write_closes
from app.services.closing import CloseFailure, DueCloseReport, check_due, close_locked, grace_days, pick_period
from app.services.errors import ErrorCode, InvalidInput, UserError, fail, from_billing

log = logging.getLogger(__name__)

CHUNK_SIZE = 500


def plan_chunks(todo: Sequence[tuple[int, date]], size: int = CHUNK_SIZE) -> list[list[tuple[int, date]]]:
    """``todo`` (contract id, period start), in closing order, cut into chunks of ≤ ``size`` contracts."""
    chunks: list[list[tuple[int, date]]] = []
    contracts: set[int] = set()
    for contract_id, start in todo:  # a contract's periods are next to each other in closing order
        if contract_id not in contracts:
            if not chunks or len(contracts) >= size:
                chunks.append([])
                contracts = set()
            contracts.add(contract_id)
        chunks[-1].append((contract_id, start))
    return chunks


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
    for round_ in rounds(targets):
        todo = [(cid, start) for cid, start in round_ if cid not in tally.failed]
        if todo:
            await _close_round(org_id, todo, tally)
    return DueCloseReport(tally.closed, tuple(tally.failures), as_of, tally.already)


def rounds(targets: Sequence[tuple[int, date]]) -> list[list[tuple[int, date]]]:
    """Round k: the k-th target of every contract that has one, contracts in id order."""
    per_contract: dict[int, list[date]] = defaultdict(list)
    for contract_id, start in targets:
        per_contract[contract_id].append(start)
    depth = max((len(s) for s in per_contract.values()), default=0)
    return [[(cid, starts[k]) for cid, starts in sorted(per_contract.items()) if k < len(starts)]
            for k in range(depth)]


async def _close_round(org_id: int, todo: list[tuple[int, date]], tally: _Tally) -> None:
    """One round in one transaction; its outcome counts only once the transaction committed."""
    outcome = _Tally()
    try:
        async with in_transaction():
            await _run_round(org_id, todo, outcome)
    except Exception as exc:  # noqa: BLE001 - the round is rolled back; the other rounds and chunks go on
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
    except Exception:  # noqa: BLE001 - fall back to one savepoint per contract
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
        pending.append(PendingClose(contract, row, result, g.pool_rows, list(g.usage)))
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
            outcome.crash(contract.id, start, exc)
