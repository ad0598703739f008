"""Activate a draft contract: billing periods, commitment windows and pools, atomically."""

from __future__ import annotations

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from app.billing.activation import activate
from app.billing.errors import BillingError
from app.billing.validation import ValidationErrors
from app.clock import utc_now
from app.db.models import Account, BillingPeriod, CommitmentWindow, Contract, CreditPool
from app.services.checks import require
from app.services.contract_terms import load_terms
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import append_entries, create_pools


async def next_seq(org_id: int, account_id: int) -> int:
    """One past the highest pool creation number of the account."""
    row = await CreditPool.filter(organization_id=org_id, account_id=account_id).annotate(
        top=Max("seq")).first().values("top")
    top = row["top"] if row else None
    return 0 if top is None else int(top) + 1


async def activate_contract(org_id: int, contract_id: int) -> Contract:
    """Check the whole contract with the billing core and write what activation produces.

    One transaction with the contract row locked: the contract ends ACTIVE with its periods,
    windows and pools, or stays a DRAFT with nothing written.
    """
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "id", for_update=True)
        if contract.status != "DRAFT":
            raise fail(ErrorCode.CONTRACT_NOT_DRAFT, f"the contract is {contract.status}; only a DRAFT can be activated", "id")
        await Account.filter(organization_id=org_id, id=contract.account_id).select_for_update().first()
        terms = await load_terms(org_id, contract)
        try:
            result = activate(terms, first_seq=await next_seq(org_id, contract.account_id))
        except ValidationErrors as many:
            raise InvalidInput([from_billing(e, "contract") for e in many.errors]) from many
        except BillingError as exc:
            raise InvalidInput([from_billing(exc, "contract")]) from exc
        await BillingPeriod.bulk_create([
            BillingPeriod(organization_id=org_id, contract_id=contract.id, number=p.number,
                          start_date=p.span.start, end_date=p.span.end)
            for p in result.periods
        ])
        await CommitmentWindow.bulk_create([
            CommitmentWindow(organization_id=org_id, commitment_id=int(w.commitment_key), contract_id=contract.id,
                             number=w.window.number, start_date=w.window.span.start, end_date=w.window.span.end,
                             committed=w.committed)
            for w in result.windows
        ])
        rows = await create_pools(org_id, contract.account_id, contract.id, contract.currency, result.pools)
        await append_entries(org_id, rows, result.entries)
        contract.status = "ACTIVE"
        contract.activated_at = utc_now()
        await contract.save()
    return contract
