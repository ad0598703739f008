"""Activation and period close through the services: the seeds' stories with exact figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from app.billing.terms import CommitmentType, Frequency, PaymentTiming, Penalty, PenaltyKind, PricingModel, ProductKind, RampStep
from app.db.models import BillingPeriod, CreditPool, Invoice, InvoiceLine, LedgerEntry, UsageEvent
from app.services import accounts, activation, balances, closing, products
from app.services.contracts import create_contract
from app.services.errors import InvalidInput
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec

YEAR = (date(2026, 1, 1), date(2027, 1, 1))


async def setup(commitment: CommitmentSpec | None, price: str = "1", *, drawdown=None) -> tuple[int, int, int, int]:
    org, _ = await create_organization("Closer", "USD")
    usage = await products.create_product(org.id, products.ProductSpec("api-calls", "API calls", ProductKind.USAGE_CLASS, "call"))
    acct = await accounts.create_account(org.id, accounts.AccountSpec(name="Acme", drawdown_order=drawdown))
    spec = ContractSpec(account_id=acct.id, name="C", currency="USD", start_date=YEAR[0], end_date=YEAR[1],
                        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(usage.id, PricingModel.PER_UNIT, D(price)),),
                        commitments=(commitment,) if commitment else ())
    contract = await create_contract(org.id, spec)
    return org.id, acct.id, contract.id, usage.id


async def use(org_id: int, contract_id: int, usage_id: int, day: date, quantity: str) -> None:
    await UsageEvent.create(organization_id=org_id, contract_id=contract_id, usage_class_id=usage_id,
                            quantity=D(quantity), occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                            day=day, idempotency_key=f"{contract_id}-{day}-{quantity}")


async def lines_of(invoice: Invoice) -> list[tuple[str, D]]:
    return [(line.type, line.amount) for line in await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")]


async def test_annual_prepaid_billed_monthly_runs_dry_in_month_8_then_surcharges(db: str) -> None:
    """SPEC §11 example 5: $12,000 a year, $1,000 a month, 10 % surcharge, $1,500 usage a month."""
    prepaid = CommitmentSpec(name="Annual", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
                             payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(12000)),),
                             overage_surcharge_percent=D(10), eligible_charge_types=(__import__("app.billing.terms", fromlist=["ChargeType"]).ChargeType.USAGE,))
    org, _, contract, usage = await setup(prepaid)
    await activation.activate_contract(org, contract)
    for month in range(1, 10):
        await use(org, contract, usage, date(2026, month, 10), "1500")
    invoices = [await closing.close_period(org, contract) for _ in range(9)]
    month8 = dict(await lines_of(invoices[7]))
    month9 = await lines_of(invoices[8])
    assert month8["COMMITMENT_FEE"] == D("1000.00")
    assert ("OVERAGE_SURCHARGE", D("150.00")) in month9
    assert invoices[8].total == D("1000.00") + D("1500.00") + D("150.00")
    pool = await CreditPool.get(kind="PREPAID")
    assert pool.balance == 0
    assert sum(e.amount for e in await LedgerEntry.filter(pool_id=pool.id)) == pool.balance


async def test_monthly_postpaid_ramp_bills_the_true_up_and_the_minimum_charge(db: str) -> None:
    """SPEC §11 example 1 and the CHARGE penalty: month 2 spend 8,500 against 10,000."""
    ramp = CommitmentSpec(name="Ramp", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                          payment=PaymentTiming.POSTPAID,
                          ramp=(RampStep(1, D(10000)), RampStep(5, D(20000)), RampStep(9, D(30000))),
                          penalties=(Penalty(PenaltyKind.CHARGE, amount=D(9000)),))
    org, _, contract, usage = await setup(ramp)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "10000")
    await use(org, contract, usage, date(2026, 2, 5), "8500")
    first = await closing.close_period(org, contract)
    second = await closing.close_period(org, contract)
    assert ("TRUE_UP", D("0.00")) not in await lines_of(first)
    lines = dict(await lines_of(second))
    assert lines["TRUE_UP"] == D("1500.00")
    assert lines["PENALTY"] == D("500.00")
    assert second.total == D("8500.00") + D("1500.00") + D("500.00")


async def test_closing_is_idempotent_and_in_order(db: str) -> None:
    org, _, contract, usage = await setup(None)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "3")
    invoice = await closing.close_period(org, contract, date(2026, 1, 1))
    again = await closing.close_period(org, contract, date(2026, 1, 1))
    assert again.id == invoice.id
    assert await Invoice.all().count() == 1
    with pytest.raises(InvalidInput) as refused:
        await closing.close_period(org, contract, date(2026, 3, 1))
    assert refused.value.errors[0].code.value == "EARLIER_PERIOD_OPEN"


async def test_balance_first_then_commitment(db: str) -> None:
    """SPEC §11 example 6: a $500 balance and a $2,000 prepaid pool, $800 of usage."""
    from app.billing.terms import DrawdownOrder

    prepaid = CommitmentSpec(name="Prepaid", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
                             payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(2000)),), amount_prepaid=D(2000))
    org, account, contract, usage = await setup(prepaid, drawdown=DrawdownOrder.BALANCE_FIRST)
    await balances.create_balance(org, balances.BalanceSpec(account_id=account, name="Credit", currency="USD",
                                                            amount=D(500), start_date=YEAR[0], end_date=YEAR[1]))
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "800")
    invoice = await closing.close_period(org, contract)
    drawn = [amount for kind, amount in await lines_of(invoice) if kind == "DRAWDOWN"]
    assert drawn == [D("-500.00"), D("-300.00")]
    assert invoice.total == D("0.00")


async def test_due_periods_close_in_order_and_report_failures(db: str) -> None:
    org, _, contract, usage = await setup(None)
    await activation.activate_contract(org, contract)
    report = await closing.close_due_periods(org, date(2026, 4, 2))  # March is due from 1 April + 1 grace day
    assert report.closed == 3 and report.failures == ()
    assert await BillingPeriod.filter(status="CLOSED").count() == 3
