"""Activate a draft contract: billing periods, commitment windows and pools, atomically."""

from __future__ import annotations

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from app.billing.activation import Activation, activate
from app.billing.invoice import Invoice as CoreInvoice
from app.billing.errors import BillingError
from app.billing.validation import ValidationErrors
from app.clock import utc_now
from app.db.bulk import insert_rows
from app.db.models import Account, BillingPeriod, CommitmentWindow, Contract, CreditPool, Invoice, InvoiceLine
from app.services.checks import require
from app.services.close_writes import invoice_line_rows, invoice_number
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
    windows and pools (and its activation invoice when fees are billed in advance, SPEC §16), or
    stays a DRAFT with nothing written.
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
        if result.fee_lines:
            await _write_activation_invoice(org_id, contract, result)
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


async def _write_activation_invoice(org_id: int, contract: Contract, result: Activation) -> None:
    """The ACTIVATION invoice (SPEC §16): the fees billed in advance that are due in the first
    billing period, which it references; number ``INV-{contract}-000`` in the contract's sequence."""
    first = await BillingPeriod.get(organization_id=org_id, contract_id=contract.id, number=1)
    view = CoreInvoice(contract.currency, result.periods[0].span, result.fee_lines)
    invoice = await Invoice.create(
        organization_id=org_id, contract_id=contract.id, billing_period_id=first.id, kind="ACTIVATION",
        number=invoice_number(contract.id, 0), currency=contract.currency, period_start=first.start_date,
        period_end=first.end_date, charges_subtotal=view.charges_subtotal, drawdown_total=view.drawdown_total,
        total=view.total)
    await insert_rows(InvoiceLine, invoice_line_rows(org_id, invoice.id, result.fee_lines, {}))
