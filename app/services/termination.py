"""Terminate an ACTIVE contract early (SPEC §14): one transaction, the contract row locked.

The terms are cut by the billing core (``billing.termination.terminated``, applied by
``contract_terms.load_terms_many`` from the columns written here); this service writes what the
termination changes at once: the ``VOID`` entries of the unused credit (``withdraw``), the
validity of the pools holding the cut window cut at *t*, the billing periods after *t* removed
(they are open, with no invoice) and the one holding *t* ending there, the commitment windows
after *t* removed and the cut one ending at *t*, and the contract: ``end_date`` becomes *t*
(``original_end_date`` keeps the agreed end) with the date, reason, ``chargeRemaining``, whether
the fee is waived, when, and the credit consumed from each cut window's pool. The final close (of
the period ending at *t*) bills the rest; after it the contract is ENDED (``close_writes``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tortoise import timezone
from tortoise.transactions import in_transaction

from app.billing.activation import window_plans
from app.billing.terms import ContractTerms, Termination
from app.billing.termination import cut_window, terminated, withdraw
from app.clock import utc_now
from app.db.models import BillingPeriod, CommitmentWindow, Contract, CreditPool
from app.services.checks import require, text_problem
from app.services.errors import ErrorCode, InvalidInput, fail
from app.services.pools import append_entries, core_pool
from app.services.term_versions import load_history

MAX_REASON = 500


async def terminate_contract(org_id: int, contract_id: int, end_date: date, reason: str, *,
                             charge_remaining: bool = False, waive_fee: bool = False) -> Contract:
    """End ACTIVE contract ``contract_id`` on ``end_date`` (exclusive), for ``reason``."""
    problem = text_problem(reason, "reason", MAX_REASON, blank=False)
    if problem is not None:
        raise InvalidInput([problem])
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        await _check(org_id, contract, end_date)
        agreed = (await load_history(org_id, contract)).latest.terms  # its latest version (SPEC §13)
        rows = await CreditPool.filter(organization_id=org_id, contract_id=contract.id).order_by("id").select_for_update()
        asked = Termination(end_date, charge_remaining=charge_remaining)
        cut = terminated(agreed, asked)
        today = utc_now().date()
        withdrawal = withdraw(cut, [core_pool(r) for r in rows], today)
        by_key = {r.key: r for r in rows}
        await append_entries(org_id, by_key, withdrawal.entries)
        written = timezone.now()
        if withdrawal.cut_validity:
            await CreditPool.filter(organization_id=org_id, id__in=[by_key[k].id for k in withdrawal.cut_validity]
                                    ).update(valid_end=end_date, updated_at=written)
        await _cut_calendar(org_id, contract, cut, dict(withdrawal.consumed), end_date)
        contract.original_end_date = contract.end_date
        contract.end_date = contract.terminated_on = end_date
        contract.terminated_at = utc_now()
        contract.termination_reason = reason
        contract.termination_charge_remaining = charge_remaining
        contract.termination_fee_waived = waive_fee
        contract.termination_consumed = {k: str(v) for k, v in withdrawal.consumed}
        await contract.save()
    return contract


async def _check(org_id: int, contract: Contract, end_date: date) -> None:
    if contract.status != "ACTIVE":
        raise fail(ErrorCode.CONTRACT_NOT_ACTIVE,
                   f"the contract is {contract.status}; only an ACTIVE contract can be terminated", "contractId")
    if contract.terminated_on is not None:
        raise fail(ErrorCode.ALREADY_TERMINATED,
                   f"the contract was terminated on {contract.terminated_on}", "contractId")
    first_open = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id, status="OPEN"
                                            ).order_by("number").first()
    if first_open is None or not first_open.start_date < end_date <= contract.end_date:
        after = first_open.start_date if first_open is not None else contract.end_date
        raise fail(ErrorCode.INVALID_TERMINATION_DATE,
                   f"endDate must be after {after} (the start of the first open billing period) "
                   f"and not after {contract.end_date}", "endDate")


async def _cut_calendar(org_id: int, contract: Contract, cut: ContractTerms, consumed: dict[str, Decimal],
                        end_date: date) -> None:
    """Billing periods and commitment windows after ``end_date`` removed, the ones holding it cut."""
    written = timezone.now()
    await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id, start_date__gte=end_date).delete()
    await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id, end_date__gt=end_date
                               ).update(end_date=end_date, updated_at=written)
    await CommitmentWindow.filter(organization_id=org_id, contract_id=contract.id, start_date__gte=end_date).delete()
    for commitment in cut.commitments:
        window = cut_window(commitment)
        if commitment.uncut_end is None or window is None:
            continue
        plan = window_plans(commitment, cut.currency)[window.index]
        committed = max(plan.committed, consumed.get(commitment.key, plan.committed))  # never below the consumed
        await CommitmentWindow.filter(organization_id=org_id, commitment_id=int(commitment.key),
                                      number=window.number).update(end_date=end_date, committed=committed,
                                                                   updated_at=written)
