"""What a close writes reads as a finance person expects: pools by their names and dates, amounts
at the minor unit, percents without trailing zeros (never ``prepaid:5:0`` or ``10.000000000000%``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.billing.terms import CommitmentType, DrawdownOrder, Frequency, PaymentTiming, RampStep
from app.db.models import InvoiceLine
from app.services import activation, balances, closing
from app.services.specs import CommitmentSpec
from tests.services.test_closing import setup, use


async def test_closed_invoice_lines_name_commitments_pools_and_balances(db: str) -> None:
    org, account, contract, usage = await setup(CommitmentSpec(
        name="Annual prepaid", type=CommitmentType.SPEND, frequency=Frequency.QUARTERLY,
        payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(300)),), amount_prepaid=D(0),
        overage_surcharge_percent=D("10")), drawdown=DrawdownOrder.BALANCE_FIRST)
    await balances.create_balance(org, balances.BalanceSpec(
        account_id=account, name="Welcome credit", currency="USD", amount=D(50),
        start_date=date(2026, 1, 1), end_date=date(2027, 1, 1)))
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "600")
    invoice = await closing.close_period(org, contract)
    lines = [(line.type, line.description) for line in
             await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")]
    assert ("DRAWDOWN", 'usage: api-calls paid from balance "Welcome credit"') in lines
    assert ("DRAWDOWN", 'usage: api-calls paid from Q1 2026 credit of "Annual prepaid"') in lines
    assert ("OVERAGE_SURCHARGE", "overage surcharge 10% on 250.00 USD of overage: api-calls") in lines
    assert ("COMMITMENT_FEE", 'commitment fee of "Annual prepaid": instalment 1 of 12') in lines
    for _, text in lines:
        assert "000000" not in text and "prepaid:" not in text and "balance:" not in text
