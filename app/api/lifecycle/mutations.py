"""Mutations that move money: activate, close periods, top up balances, credit back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import NodeId
from app.api.balances.types import Balance
from app.api.context import org_of
from app.api.contracts.types import Contract
from app.api.errors import UserErrorType
from app.api.lifecycle.close_runs import CloseFailure, CloseRun
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import Refusable
from app.db import models
from app.services import activation, balances, close_runs, closing, credit_back
from app.settings import Settings, load_settings

if TYPE_CHECKING:
    from app.api.invoices.types import Invoice
    from app.api.ledger.types import LedgerEntry

InvoiceRef = Annotated["Invoice", strawberry.lazy("app.api.invoices.types")]
EntryRef = Annotated["LedgerEntry", strawberry.lazy("app.api.ledger.types")]


@strawberry.type(description="Result of activateContract.")
class ActivateContractPayload(Refusable):
    contract: Contract | None = strawberry.field(description="The contract, now ACTIVE.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why it is still a DRAFT.")


@strawberry.type(description="Result of closePeriod.")
class ClosePeriodPayload(Refusable):
    invoice: InvoiceRef | None = strawberry.field(description="The period's invoice (also when it was closed before).")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was closed.")


@strawberry.type(description="Result of closeDuePeriods.")
class CloseDuePeriodsPayload:
    closed: int = strawberry.field(description="How many periods this call closed (a period closed meanwhile by "
                                   "another caller is counted in alreadyClosed, not here).")
    already_closed: int = strawberry.field(description="Due periods this call found closed by another caller "
                                           "running at the same time (their invoices stand; nothing was written).")
    as_of: date = strawberry.field(description="The day the closes ran as of: the asOf asked for, or today (UTC) "
                                   "if none was given or it was later. A period [start, end) was due if "
                                   "end + closeGraceDays <= asOf.")
    failures: list[CloseFailure] = strawberry.field(description="Contracts that failed (their later periods stay open).")
    run: CloseRun | None = strawberry.field(description="The run of chunk jobs (README \"Workers\"); closed, "
                                            "alreadyClosed and failures are its figures so far. Null for a call with "
                                            "an idempotencyKey, which closes in the call itself as one unit.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was attempted.")


@strawberry.type(description="Result of topUpBalance.")
class TopUpBalancePayload(Refusable):
    balance: Balance | None = strawberry.field(description="The balance after the top-up.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was added.")


@strawberry.type(description="Result of creditBack.")
class CreditBackPayload(Refusable):
    entry: EntryRef | None = strawberry.field(description="The CREDIT_BACK ledger entry written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was credited.")


def _invoice(row: object) -> ClosePeriodPayload:
    from app.api.invoices.types import Invoice

    return ClosePeriodPayload(invoice=Invoice.from_row(row), user_errors=[])  # type: ignore[arg-type]


def _due_report(result: closing.DueCloseReport | models.CloseRun) -> CloseDuePeriodsPayload:
    """The payload of a keyed call's report, or of a run's figures (with the run)."""
    if isinstance(result, models.CloseRun):
        run = CloseRun.from_row(result)
        return CloseDuePeriodsPayload(closed=run.closed, already_closed=run.already_closed, as_of=run.as_of,
                                      failures=run.failures, run=run, user_errors=[])
    return CloseDuePeriodsPayload(
        closed=result.closed, already_closed=result.already_closed, as_of=result.as_of, user_errors=[], run=None,
        failures=[CloseFailure.from_parts(f.contract_id, f.period_start, f.code, f.message) for f in result.failures],
    )


async def _run_due_closes(org_id: int, as_of: date | None, wait: bool) -> models.CloseRun:
    run = await close_runs.start_run(org_id, as_of)
    if not wait or run.status == "DONE":
        return run
    return await close_runs.wait_for_run(org_id, run.id, wait_seconds(load_settings()))


def wait_seconds(settings: Settings) -> float:
    """How long closeDuePeriods(wait: true) waits: COMMITMENTS_CLOSE_WAIT_SECONDS, and never past
    four fifths of the request timeout, so that it answers with the run RUNNING, not TIMEOUT."""
    timeout = settings.request_timeout_seconds
    return min(settings.close_wait_seconds, 0.8 * timeout) if timeout > 0 else settings.close_wait_seconds


async def _entry(row: models.LedgerEntry) -> CreditBackPayload:
    from app.api.ledger.types import LedgerEntry

    pool = await models.CreditPool.get(organization_id=row.organization_id, id=row.pool_id)
    return CreditBackPayload(entry=LedgerEntry.from_row(row, pool.currency), user_errors=[])


@strawberry.type
class LifecycleMutations:
    @strawberry.mutation(description="Check a DRAFT contract as a whole and make it ACTIVE: billing periods, "
                         "commitment windows and prepaid/tracking pools are written, atomically.")
    async def activate_contract(self, info: Info, id: NodeId,
                                idempotency_key: IdempotencyKey = None) -> ActivateContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            ActivateContractPayload.refused,
            lambda: activation.activate_contract(org_id, ids.decode(id, "Contract", "id")),
            lambda row: ActivateContractPayload(contract=Contract.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Close the oldest open billing period of a contract (or the one starting on "
                         "periodStart, which must be it). Idempotent: closing a closed period returns its invoice. "
                         "A period [start, end) may be closed from end + closeGraceDays (the organization's), by "
                         "the service's clock in UTC; before that the answer is PERIOD_NOT_ENDED.")
    async def close_period(
        self, info: Info, contract_id: Annotated[strawberry.ID, strawberry.argument(description="The contract.")],
        period_start: Annotated[date | None, strawberry.argument(description="Start of the period to close.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ClosePeriodPayload:
        org_id = org_of(info)
        return await guard(
            info,
            ClosePeriodPayload.refused,
            lambda: closing.close_period(org_id, ids.decode(contract_id, "Contract", "contractId"), period_start),
            _invoice,
            key=idempotency_key,
        )

    @strawberry.mutation(description="Close, in order, every period of every active contract that is due by asOf: "
                         "a period [start, end) is due when end + closeGraceDays <= asOf. An asOf after today "
                         "counts as today (UTC). One transaction per period; one contract's failure does not stop "
                         "the others. The closes run as jobs, one per chunk of contracts (README \"Workers\"): with "
                         "wait (default) the answer comes when the run is DONE, or when the server's wait runs out "
                         "(then run.status is still RUNNING; poll closeRun); with wait: false at once.")
    async def close_due_periods(
        self, info: Info,
        as_of: Annotated[date | None, strawberry.argument(
            description="Close the periods due by this day (default today; a later day counts as today).")] = None,
        wait: Annotated[bool, strawberry.argument(
            description="Answer when the run is done (bounded by the server's wait), or at once if false.")] = True,
        idempotency_key: IdempotencyKey = None,
    ) -> CloseDuePeriodsPayload:
        org_id = org_of(info)
        return await guard(
            info,
            lambda errors: CloseDuePeriodsPayload(closed=0, already_closed=0, as_of=closing.effective_as_of(as_of),
                                                  failures=[], run=None, user_errors=errors),
            # A keyed call is one unit (one transaction with its key's record): it closes in the call.
            (lambda: closing.close_due_periods(org_id, as_of)) if idempotency_key is not None
            else (lambda: _run_due_closes(org_id, as_of, wait)),
            _due_report,
            key=idempotency_key,
            atomic=False,  # one transaction per period, unless a key makes the call one unit
        )

    @strawberry.mutation(description="Add credit to a balance (a new ISSUE ledger entry).")
    async def top_up_balance(
        self, info: Info,
        balance_id: Annotated[strawberry.ID, strawberry.argument(description="The balance.")],
        amount: Annotated[Decimal, strawberry.argument(description="Amount to add (> 0, exact in the currency).")],
        on: Annotated[date | None, strawberry.argument(description="Date of the entry (default today).")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> TopUpBalancePayload:
        org_id = org_of(info)
        return await guard(
            info,
            TopUpBalancePayload.refused,
            lambda: balances.top_up_balance(org_id, ids.decode(balance_id, "Balance", "balanceId"), amount, on),
            lambda row: TopUpBalancePayload(balance=Balance.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Return consumed credit to its pool (a CREDIT_BACK entry), while the pool is open.")
    async def credit_back(
        self, info: Info,
        ledger_entry_id: Annotated[strawberry.ID, strawberry.argument(description="A CONSUME ledger entry.")],
        amount: Annotated[Decimal, strawberry.argument(description="Amount to return (at most what is left of it).")],
        idempotency_key: IdempotencyKey = None,
    ) -> CreditBackPayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreditBackPayload.refused,
            lambda: credit_back.credit_back(org_id, ids.decode(ledger_entry_id, "LedgerEntry", "ledgerEntryId"), amount),
            _entry,
            key=idempotency_key,
        )
