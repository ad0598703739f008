"""Credit back and top-ups only reach open pools, in the currency's minor unit; odd ids are refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.api.ids import encode, parse
from app.billing.terms import CommitmentType, Frequency, PaymentTiming, RampStep
from app.clock import frozen_clock
from app.db.models import CreditPool, Invoice, InvoiceLine, LedgerEntry
from app.services import activation, balances, closing
from app.services.credit_back import credit_back
from app.services.errors import InvalidInput
from app.services.specs import CommitmentSpec
from tests.services.test_closing import YEAR, setup, use

MONTHLY_PREPAID = CommitmentSpec(name="Monthly", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                                 payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(100)),), amount_prepaid=D(1200))


async def consumed_entry(pool_kind: str) -> LedgerEntry:
    pool = await CreditPool.filter(kind=pool_kind).order_by("id").first()
    assert pool is not None
    return await LedgerEntry.filter(pool_id=pool.id, kind="CONSUME").order_by("id").first()  # type: ignore[return-value]


async def test_credit_back_returns_credit_to_an_open_pool(db: str) -> None:
    org, _, contract, usage = await setup(CommitmentSpec(
        name="Quarterly", type=CommitmentType.SPEND, frequency=Frequency.QUARTERLY,
        payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(300)),), amount_prepaid=D(1200)))
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "150")
    await closing.close_period(org, contract)
    entry = await consumed_entry("PREPAID")
    given = await credit_back(org, entry.id, D("50"))
    assert given.kind == "CREDIT_BACK" and given.amount == D(50)
    pool = await CreditPool.get(id=entry.pool_id)
    assert pool.balance == D(200)
    assert sum(e.amount for e in await LedgerEntry.filter(pool_id=pool.id)) == pool.balance
    with pytest.raises(InvalidInput) as too_much:
        await credit_back(org, entry.id, D("100.01"))
    assert too_much.value.errors[0].code.value == "NOT_CONSUMED"


async def test_credit_back_to_a_settled_pool_is_refused(db: str) -> None:
    org, _, contract, usage = await setup(MONTHLY_PREPAID)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "150")  # uses January's pool up entirely
    await closing.close_period(org, contract)
    entry = await consumed_entry("PREPAID")
    with pytest.raises(InvalidInput) as refused:
        await credit_back(org, entry.id, D("50"))
    assert refused.value.errors[0].code.value == "POOL_CLOSED"


async def test_credit_back_finer_than_the_currency_is_refused(db: str) -> None:
    org, _, contract, usage = await setup(MONTHLY_PREPAID)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "50")
    await closing.close_period(org, contract)
    entry = await consumed_entry("PREPAID")
    with pytest.raises(InvalidInput) as refused:
        await credit_back(org, entry.id, D("0.005"))
    assert refused.value.errors[0].code.value == "INVALID_AMOUNT"


async def test_a_balance_settled_by_a_close_cannot_be_topped_up(db: str) -> None:
    org, account, contract, _ = await setup(None)
    balance = await balances.create_balance(org, balances.BalanceSpec(
        account_id=account, name="January only", currency="USD", amount=D(10),
        start_date=YEAR[0], end_date=date(2026, 2, 1)))
    await activation.activate_contract(org, contract)
    await closing.close_period(org, contract)
    with pytest.raises(InvalidInput) as refused:
        await balances.top_up_balance(org, balance.id, D(25), date(2026, 1, 20))
    assert refused.value.errors[0].code.value == "POOL_CLOSED"


def test_ids_beyond_32_bits_are_not_ids() -> None:
    assert parse(encode("Contract", 2**31 - 1)) == ("Contract", 2**31 - 1)
    assert parse(encode("Contract", 10**25)) is None
    assert parse(encode("Contract", 0)) is None


QUARTERLY_MINIMUM = CommitmentSpec(name="Quarterly minimum", type=CommitmentType.SPEND, frequency=Frequency.QUARTERLY,
                                   payment=PaymentTiming.POSTPAID, ramp=(RampStep(1, D(1000)),))


async def test_credit_back_on_a_postpaid_tracking_pool_is_refused_and_the_quarter_bills_its_minimum(db: str) -> None:
    """SPEC §17: £1,000 quarterly minimum, £400 of usage, a £100 credit back on the tracking pool
    used to raise the true-up to £700 (£1,100 billed). It is refused; the quarter bills £1,000."""
    org, _, contract, usage = await setup(QUARTERLY_MINIMUM)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "400")
    await closing.close_period(org, contract)
    entry = await consumed_entry("TRACKING")
    pool_before = await CreditPool.get(id=entry.pool_id)
    with pytest.raises(InvalidInput) as refused:
        await credit_back(org, entry.id, D("100"))
    error = refused.value.errors[0]
    assert (error.code.value, error.field) == ("NOT_A_CREDIT_POOL", "ledgerEntryId")
    assert await LedgerEntry.filter(kind="CREDIT_BACK").count() == 0
    assert (await CreditPool.get(id=entry.pool_id)).balance == pool_before.balance
    await closing.close_period(org, contract)
    march = await closing.close_period(org, contract)
    true_up = await InvoiceLine.filter(invoice_id=march.id, type="TRUE_UP").first()
    assert true_up is not None and true_up.amount == D(600)
    billed = sum([i.total for i in await Invoice.filter(contract_id=contract)], D(0))
    assert billed == D(1000)


async def test_credit_back_is_dated_inside_the_pools_life(db: str) -> None:
    """A quarterly prepaid pool valid [1 Jan, 1 Apr): a credit back given on 10 May, before the close
    of March has expired the pool, is dated 31 March, its last day, not on the wall clock's day."""
    org, _, contract, usage = await setup(CommitmentSpec(
        name="Quarterly", type=CommitmentType.SPEND, frequency=Frequency.QUARTERLY,
        payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(300)),), amount_prepaid=D(1200)))
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "150")
    await closing.close_period(org, contract)
    entry = await consumed_entry("PREPAID")
    with frozen_clock(date(2026, 5, 10)):
        late = await credit_back(org, entry.id, D("10"))
    with frozen_clock(date(2026, 2, 10)):
        inside = await credit_back(org, entry.id, D("5"))
    assert late.on_date == date(2026, 3, 31)
    assert inside.on_date == date(2026, 2, 10)
    pool = await CreditPool.get(id=entry.pool_id)
    dates = [e.on_date for e in await LedgerEntry.filter(pool_id=pool.id)]
    assert all(pool.valid_start <= d < pool.valid_end for d in dates)
