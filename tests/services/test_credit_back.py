"""Credit back and top-ups only reach open pools, in the currency's minor unit; odd ids are refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.api.ids import encode, parse
from app.billing.terms import CommitmentType, Frequency, PaymentTiming, RampStep
from app.db.models import CreditPool, LedgerEntry
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
