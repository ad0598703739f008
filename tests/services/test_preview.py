"""The preview of the open period is the invoice its close then writes, and it writes nothing.

Each story records usage, previews the oldest open period, closes it, and compares the preview with
what the close wrote: every line (type, amount, product, quantity, price, description, service period,
charge, commitment, pool, window), the totals, and the ledger entries.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.billing.terms import DrawdownOrder, Frequency, PaymentTiming, PricingModel
from app.db import models
from app.db.models import Invoice, InvoiceLine, LedgerEntry
from app.services import contracts
from app.services.activation import activate_contract
from app.services.closing import close_period
from app.services.organizations import create_organization
from app.services.preview import Preview, preview_many, projected_draw
from app.services.specs import ContractSpec, PriceSpec
from tests.services.lifecycle import YEAR, Setup, active_contract, spend, use

SURCHARGED = {"overage_surcharge_percent": D(10)}


async def org(name: str = "Preview") -> int:
    return (await create_organization(name, "GBP"))[0].id


async def preview_of(s: Setup) -> Preview:
    preview = (await preview_many(s.org_id, [s.contract_id]))[s.contract_id]
    assert preview.error is None and preview.result is not None
    return preview


def previewed_lines(p: Preview) -> list[tuple[Any, ...]]:
    assert p.result is not None
    return [(line.type.value, line.amount, line.product, line.quantity, line.unit_amount, line.description[:300],
             line.service_period.start, line.service_period.end, line.charge_key,
             int(line.commitment_key) if line.commitment_key else None,
             p.pool_ids[line.pool_key] if line.pool_key else None,
             line.window_index + 1 if line.window_index is not None else None)
            for line in p.result.lines]


async def written_lines(invoice: Invoice) -> list[tuple[Any, ...]]:
    return [(r.type, r.amount, r.product, r.quantity, r.unit_amount, r.description, r.service_start, r.service_end,
             r.charge_key, r.commitment_id, r.pool_id, r.window_number)
            for r in await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")]


def previewed_entries(p: Preview) -> list[tuple[Any, ...]]:
    assert p.result is not None
    return sorted((p.pool_ids.get(e.pool_key), e.kind.value, e.amount, e.on) for e in p.result.entries)


async def written_entries(invoice: Invoice) -> list[tuple[Any, ...]]:
    return sorted((e.pool_id, e.kind, e.amount, e.on_date) for e in await LedgerEntry.filter(invoice_id=invoice.id))


async def assert_close_bills_the_preview(s: Setup) -> Preview:
    preview = await preview_of(s)
    assert preview.result is not None
    invoice = await close_period(s.org_id, s.contract_id)
    assert (invoice.period_start, invoice.period_end) == (preview.period.start_date, preview.period.end_date)
    assert previewed_lines(preview) == await written_lines(invoice)
    view = preview.result.invoice
    assert (view.charges_subtotal, view.drawdown_total, view.total) == (
        invoice.charges_subtotal, invoice.drawdown_total, invoice.total)
    assert previewed_entries(preview) == await written_entries(invoice)
    return preview


async def row_counts() -> dict[str, int]:
    return {name: await getattr(models, name).all().count() for name in models.__all__}


async def test_prepaid_with_drawdown_a_balance_and_a_surcharge_previews_each_month_exactly(db: str) -> None:
    """The README's session: quarterly prepaid £3,000 billed monthly, 10 % surcharge, £500 balance."""
    s = await active_contract(await org(), spend("Quarterly prepaid", PaymentTiming.PREPAID, "3000",
                                                 Frequency.QUARTERLY, **SURCHARGED),
                              mb_price="2.50", drawdown=DrawdownOrder.COMMITMENT_FIRST, balance="500")
    await use(s, s.mb, "600", date(2026, 1, 10))
    await use(s, s.mb, "900", date(2026, 1, 20))
    january = await assert_close_bills_the_preview(s)
    assert january.result is not None and january.result.invoice.total == D("3750.00") - D("3500.00") + D("25.00") + D("1000.00")
    await use(s, s.mb, "100", date(2026, 2, 3))
    february = await assert_close_bills_the_preview(s)
    assert february.result is not None and february.result.invoice.total == D("250.00") + D("25.00") + D("1000.00")
    march = await assert_close_bills_the_preview(s)  # the quarter ends: nothing to expire, only the fee
    assert march.result is not None and march.result.invoice.total == D("1000.00")


async def test_postpaid_tracking_with_a_true_up_previews_exactly(db: str) -> None:
    s = await active_contract(await org(), spend("Minimum", PaymentTiming.POSTPAID, "1000", Frequency.QUARTERLY))
    await use(s, s.mb, "600", date(2026, 1, 10))
    january = await assert_close_bills_the_preview(s)
    assert january.result is not None and january.result.invoice.total == D("600.00")
    await use(s, s.mb, "150", date(2026, 2, 10))
    await assert_close_bills_the_preview(s)
    march = await assert_close_bills_the_preview(s)  # 750 tracked of 1,000: a 250 true-up
    assert march.result is not None
    assert [(line.type.value, line.amount) for line in march.result.lines] == [("TRUE_UP", D("250.00"))]


async def test_a_balance_first_account_previews_the_balance_then_the_commitment(db: str) -> None:
    """SPEC §11 example 6: a £500 balance, a £2,000 prepaid pool, £800 of usage, BALANCE_FIRST."""
    s = await active_contract(await org(), spend("Prepaid", PaymentTiming.PREPAID, "2000", Frequency.ANNUAL,
                                                 amount_prepaid=D(2000)),
                              drawdown=DrawdownOrder.BALANCE_FIRST, balance="500")
    await use(s, s.mb, "800", date(2026, 1, 5))
    preview = await assert_close_bills_the_preview(s)
    assert preview.result is not None
    assert [line.amount for line in preview.result.lines if line.type.value == "DRAWDOWN"] == [D("-500.00"), D("-300.00")]
    assert preview.result.invoice.total == D("0.00")


async def test_a_preview_writes_nothing_and_an_inactive_contract_has_none(db: str) -> None:
    s = await active_contract(await org(), spend("Prepaid", PaymentTiming.PREPAID, "1000"), balance="100")
    await use(s, s.mb, "400", date(2026, 1, 5))
    before = await row_counts()
    pools_before = [(p.id, p.balance) for p in await models.CreditPool.all().order_by("id")]
    await preview_of(s)
    await preview_many(s.org_id, [s.contract_id, s.contract_id])
    assert await row_counts() == before
    assert [(p.id, p.balance) for p in await models.CreditPool.all().order_by("id")] == pools_before
    assert await models.BillingPeriod.filter(contract_id=s.contract_id, status="OPEN").count() == 12
    draft = await contracts.create_contract(s.org_id, ContractSpec(
        account_id=s.account_id, name="Draft", currency="GBP", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=Frequency.MONTHLY))
    other = await org("Other")
    assert await preview_many(s.org_id, [draft.id]) == {}
    assert await preview_many(other, [s.contract_id]) == {}


async def test_contracts_sharing_a_balance_are_previewed_in_the_order_due_closes_run(db: str) -> None:
    """Two contracts of one account draw on one £500 balance: £300 and £400 of usage. The first
    previews £300 from it, the second the £200 left; the closes, in that order, bill exactly that."""
    org_id = await org()
    first = await active_contract(org_id, drawdown=DrawdownOrder.BALANCE_FIRST, balance="500")
    second_id = await _second_contract(first)
    second = Setup(org_id, first.account_id, second_id, first.mb, first.gb, first.sim)
    await use(first, first.mb, "300", date(2026, 1, 5))
    await use(second, second.mb, "400", date(2026, 1, 6))
    previews = await preview_many(org_id, [second_id, first.contract_id])
    balance = await models.CreditPool.get(kind="BALANCE")
    assert [projected_draw([p], balance.id) for p in (previews[first.contract_id], previews[second_id])] == [
        D("300.00"), D("200.00")]
    assert projected_draw(previews.values(), balance.id) <= balance.balance
    await assert_close_bills_the_preview(first)
    await assert_close_bills_the_preview(second)


async def _second_contract(s: Setup) -> int:
    """Another monthly GBP contract of the same account, pricing sms-mo-mb at £1."""
    contract = await contracts.create_contract(s.org_id, ContractSpec(
        account_id=s.account_id, name="Second", currency="GBP", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(s.mb, PricingModel.PER_UNIT, D(1)),)))
    await activate_contract(s.org_id, contract.id)
    return contract.id

