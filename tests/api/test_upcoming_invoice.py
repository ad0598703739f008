"""Live figures agree with what the close will bill: `upcomingInvoice`, pools' and balances'
`available`, windows' `consumed` / `remaining`, before and after the close, through GraphQL."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from graphql import parse, validate

from app.api.schema import schema
from app.db import models
from app.billing.terms import (
    CommitmentType,
    DrawdownOrder,
    Frequency,
    PaymentTiming,
    PricingModel,
    ProductKind,
    RampStep,
)
from app.services import accounts, activation, balances, products
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec
from tests.api.helpers import count_queries, gql, gql_raw, new_org, unpage
from tests.scenarios.story import Story
from tests.scenarios.test_readme_session import session_blocks, variables_of
from tests.services.test_closing import use

README = Path(__file__).resolve().parents[2] / "README.md"
YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

WINDOWS = """query($id: ID!) { node(id: $id) { ... on Contract {
  commitments { nodes { windows { nodes { number measured shortfall consumed remaining settled } } } }
} } }"""

LIVE = """query($id: ID!) { node(id: $id) { ... on Contract {
  upcomingInvoice {
    preview currency periodStart periodEnd billingPeriod { number partial }
    chargesSubtotal drawdownTotal total
    lines { nodes { type product quantity unitAmount amount description servicePeriodStart servicePeriodEnd
            windowNumber chargeKey commitment { name } pool { key } } }
  }
  commitments { nodes { windows { nodes { number measured shortfall consumed remaining settled pool { key balance available } } } } }
  account { balances { nodes { remaining available pool { balance available } } } }
} } }"""

CLOSE = """mutation($c: ID!) { closePeriod(contractId: $c) {
  invoice { periodStart periodEnd chargesSubtotal drawdownTotal total
    lines { nodes { type product quantity unitAmount amount description servicePeriodStart servicePeriodEnd
            windowNumber chargeKey commitment { name } pool { key } } } }
  userErrors { code field message } } }"""


async def annual_prepaid_beside_a_balance(story: Story) -> str:
    """SPEC §11 example 6's account: $500 balance drawn first, then an annual $12,000 prepayment."""
    await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account(drawdown="BALANCE_FIRST")
    made = await story.run(
        "mutation($i: CreateBalanceInput!) { createBalance(input: $i) { userErrors { code } } }",
        i={"accountId": account, "name": "Sign-up credit", "currency": "USD", "amount": "500",
           "startDate": "2026-01-01", "endDate": "2027-01-01"})
    assert made["createBalance"]["userErrors"] == []
    return await story.contract({
        "accountId": account, "name": "Annual prepaid", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": story.products["api-calls"], "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{"name": "Annual $12,000", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
                         "rampSteps": [{"fromWindow": 1, "amount": "12000"}], "eligibleChargeTypes": ["USAGE"]}],
    })


async def test_window_consumed_and_remaining_move_with_usage_before_a_close(db: str) -> None:
    """The finding: before a close, `measured` moved with usage but `consumed` and `remaining` did not."""
    story = await Story.start("USD")
    contract = await annual_prepaid_beside_a_balance(story)
    await story.usage(contract, "api-calls", "800", "2026-01-05T12:00:00Z", "u1")
    window = (await story.run(WINDOWS, id=contract))["node"]["commitments"][0]["windows"][0]
    # $800: the balance pays $500 first, the prepaid pool the other $300.
    assert (window["measured"], window["shortfall"]) == ("800.00", "11200.00")
    assert (window["consumed"], window["remaining"], window["settled"]) == ("300.00", "11700.00", False)


async def test_side_by_side_figures_agree_before_the_close_and_the_close_bills_them(db: str) -> None:
    story = await Story.start("USD")
    contract = await annual_prepaid_beside_a_balance(story)
    idle = (await story.run(LIVE, id=contract))["node"]
    assert idle["upcomingInvoice"]["total"] == "1000.00"  # nothing recorded: the fee only
    assert idle["account"]["balances"] == [{"remaining": "500.00", "available": "500.00",
                                             "pool": {"balance": "500.00", "available": "500.00"}}]

    await story.usage(contract, "api-calls", "600", "2026-01-05T12:00:00Z", "u1")
    await story.usage(contract, "api-calls", "200", "2026-01-25T12:00:00Z", "u2")
    live = (await story.run(LIVE, id=contract))["node"]
    upcoming = live["upcomingInvoice"]
    assert (upcoming["preview"], upcoming["periodStart"], upcoming["periodEnd"]) == (True, "2026-01-01", "2026-02-01")
    assert upcoming["billingPeriod"] == {"number": 1, "partial": False}
    assert [(line["type"], line["amount"]) for line in upcoming["lines"]] == [
        ("USAGE", "800.00"), ("COMMITMENT_FEE", "1000.00"), ("DRAWDOWN", "-500.00"), ("DRAWDOWN", "-300.00")]
    assert (upcoming["chargesSubtotal"], upcoming["drawdownTotal"], upcoming["total"]) == (
        "800.00", "-800.00", "1000.00")
    window = live["commitments"][0]["windows"][0]
    assert (window["measured"], window["shortfall"], window["consumed"], window["remaining"]) == (
        "800.00", "11200.00", "300.00", "11700.00")
    assert window["pool"]["balance"] == "12000.00"  # settled: nothing is drawn before the close
    assert window["pool"]["available"] == window["remaining"] == "11700.00"
    assert live["account"]["balances"] == [{"remaining": "500.00", "available": "0.00",
                                             "pool": {"balance": "500.00", "available": "0.00"}}]
    drawn = -sum(D(line["amount"]) for line in upcoming["lines"] if line["type"] == "DRAWDOWN")
    assert drawn == D(window["consumed"]) + D("500.00") - D(live["account"]["balances"][0]["available"])

    closed = await story.run(CLOSE, c=contract)
    invoice = closed["closePeriod"]["invoice"]
    assert {k: v for k, v in upcoming.items() if k not in ("preview", "currency", "billingPeriod")} == invoice
    after = (await story.run(LIVE, id=contract))["node"]
    january = after["commitments"][0]["windows"][0]
    # The annual window is still open: its settled figures are now what the preview projected.
    assert (january["consumed"], january["remaining"], january["pool"]["balance"]) == ("300.00", "11700.00", "11700.00")
    assert after["account"]["balances"][0]["remaining"] == "0.00"
    assert after["upcomingInvoice"]["periodStart"] == "2026-02-01"


async def test_a_postpaid_window_projects_the_spend_it_tracks_and_its_true_up(db: str) -> None:
    story = await Story.start("GBP")
    await story.product("data-gb", "USAGE_CLASS", "GB")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Minimum", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": story.products["data-gb"], "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{"name": "Monthly minimum", "type": "SPEND", "payment": "POSTPAID", "frequency": "MONTHLY",
                         "rampSteps": [{"fromWindow": 1, "amount": "1000"}]}],
    })
    await story.usage(contract, "data-gb", "600", "2026-01-10T12:00:00Z", "u1")
    live = (await story.run(LIVE, id=contract))["node"]
    window = live["commitments"][0]["windows"][0]
    assert (window["measured"], window["shortfall"], window["consumed"], window["remaining"]) == (
        "600.00", "400.00", "600.00", "400.00")
    assert window["pool"] == {"key": window["pool"]["key"], "balance": "1000.00", "available": "400.00"}
    upcoming = live["upcomingInvoice"]
    assert [(line["type"], line["amount"]) for line in upcoming["lines"]] == [("USAGE", "600.00"), ("TRUE_UP", "400.00")]
    invoice = (await story.run(CLOSE, c=contract))["closePeriod"]["invoice"]
    assert {k: v for k, v in upcoming.items() if k not in ("preview", "currency", "billingPeriod")} == invoice
    settled = (await story.run(LIVE, id=contract))["node"]["commitments"][0]["windows"][0]
    # Settled: the tracking pool tracked 600 and its remaining 400 left it as the TRUE_UP.
    assert (settled["settled"], settled["consumed"], settled["remaining"]) == (True, "600.00", "0.00")


async def test_only_active_contracts_have_an_upcoming_invoice(db: str) -> None:
    story = await Story.start("GBP")
    await story.product("data-gb", "USAGE_CLASS", "GB")
    data = await story.run(
        "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id upcomingInvoice { total } } } }",
        i={"accountId": await story.account(), "name": "Draft", "currency": "GBP", **YEAR})
    assert data["createContract"]["contract"]["upcomingInvoice"] is None


async def test_the_readme_upcoming_invoice_example_is_valid_and_says_what_the_close_bills(db: str) -> None:
    blocks = [b for b in re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.S) if "upcomingInvoice" in b]
    assert len(blocks) == 1 and validate(schema._schema, parse(blocks[0])) == []
    org = await new_org("Readme", "GBP")
    session, known = session_blocks(), {}
    for block in session[:4]:  # set-up, draft, activation, January's usage
        data = await gql(org, block, variables_of(block, known))
        if "createProduct" in data:
            known["gb"] = data["createProduct"]["product"]["id"]
            known["account"] = data["createAccount"]["account"]["id"]
        if "createContract" in data:
            known["contract"] = data["createContract"]["contract"]["id"]
    node = unpage(await gql(org, blocks[0], variables_of(blocks[0], known)))["node"]
    assert node["upcomingInvoice"]["total"] == "1275.00"
    first = node["commitments"][0]["windows"][0]
    assert (first["consumed"], first["remaining"], first["pool"]) == (
        "3000.00", "0.00", {"balance": "3000.00", "available": "0.00"})
    assert node["account"]["balances"] == [{"name": "Goodwill", "remaining": "500.00", "available": "0.00"}]
    closed = unpage(await gql(org, session[5], variables_of(session[5], known)))
    invoice = closed["closePeriod"]["invoice"]
    assert invoice["total"] == "1275.00"
    assert [(line["type"], line["amount"]) for line in invoice["lines"]] == [
        (line["type"], line["amount"]) for line in node["upcomingInvoice"]["lines"]]


async def contracts_with_previews(n: int) -> int:
    """An organization with ``n`` active prepaid contracts, each on its own account with a balance and
    with usage recorded; returns the organization."""
    org, _ = await create_organization(f"Previews {n}", "USD")
    product = await products.create_product(org.id, products.ProductSpec("api", "API", ProductKind.USAGE_CLASS, "call"))
    for i in range(n):
        account = await accounts.create_account(org.id, accounts.AccountSpec(
            name=f"Acme {i}", drawdown_order=DrawdownOrder.BALANCE_FIRST))
        await balances.create_balance(org.id, balances.BalanceSpec(
            account.id, "Credit", "USD", D(50), date(2026, 1, 1), date(2027, 1, 1)))
        contract = await create_contract(org.id, ContractSpec(
            account_id=account.id, name="C", currency="USD", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
            billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(product.id, PricingModel.PER_UNIT, D(1)),),
            commitments=(CommitmentSpec(name="Monthly", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                                        payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(100)),),
                                        amount_prepaid=D(1200)),)))
        await activation.activate_contract(org.id, contract.id)
        await use(org.id, contract.id, product.id, date(2026, 1, 5), "80")
    return org.id


UPCOMING = "{ contracts(first: 10, status: ACTIVE) { nodes { upcomingInvoice { total lines { nodes { type amount pool { key } } } } } } }"
SIDE_BY_SIDE = """{ contracts(first: 10, status: ACTIVE) { nodes {
  upcomingInvoice { total lines { nodes { type amount } } }
  commitments { nodes { windows { nodes { measured consumed remaining pool { available } } } } }
  account { balances { nodes { remaining available } } }
} } }"""


async def statements(org_id: int, query: str) -> tuple[int, list[Any]]:
    with count_queries() as sql:
        data = await gql(org_id, query)
    return len(sql), unpage(data)["contracts"]


async def test_previews_of_many_contracts_cost_a_fixed_number_of_statements(db: str) -> None:
    one, five = await contracts_with_previews(1), await contracts_with_previews(5)
    (upcoming_one, nodes), (upcoming_five, many) = await statements(one, UPCOMING), await statements(five, UPCOMING)
    assert len(many) == 5 and all(n["upcomingInvoice"]["total"] == "0.00" for n in [*nodes, *many])
    # $80: $50 from the balance, $30 from the month's prepaid pool.
    assert [line["amount"] for line in many[4]["upcomingInvoice"]["lines"]] == ["80.00", "-50.00", "-30.00"]
    # the previews are one batch: nothing grows per contract (26: one more since the close looks up
    # active renewals, SPEC §15)
    assert upcoming_five == upcoming_one <= 26
    (side_one, _), (side_five, rows) = await statements(one, SIDE_BY_SIDE), await statements(five, SIDE_BY_SIDE)
    assert rows[4]["commitments"][0]["windows"][0] == {"measured": "80.00", "consumed": "30.00", "remaining": "70.00",
                                                       "pool": {"available": "70.00"}}
    assert rows[4]["account"]["balances"] == [{"remaining": "50.00", "available": "0.00"}]
    assert side_five == side_one  # the live window measures too: one usage aggregate for all contracts


async def test_a_close_that_would_fail_is_reported_and_projects_nothing(db: str) -> None:
    """A postpaid commitment slipped in after activation has no tracking pool: the close would fail
    with MISSING_POOL, so the upcoming invoice errs with that code and no figure is projected."""
    story = await Story.start("USD")
    contract = await annual_prepaid_beside_a_balance(story)
    await story.usage(contract, "api-calls", "800", "2026-01-05T12:00:00Z", "u1")
    row = await models.Contract.get(organization_id=story.org, name="Annual prepaid")
    late = await models.Commitment.create(
        organization_id=story.org, contract_id=row.id, name="Slipped in", seq=9, type="SPEND", frequency="MONTHLY",
        payment="POSTPAID", eligible_charge_types=["USAGE"])
    await models.RampStep.create(organization_id=story.org, commitment_id=late.id, from_window=1, amount=D(100))
    result = await gql_raw(story.org, LIVE, {"id": contract})
    assert [(e.path, e.extensions["code"]) for e in result.errors] == [(["node", "upcomingInvoice"], "MISSING_POOL")]
    assert unpage(result.data)["node"]["account"]["balances"][0]["available"] == "500.00"  # settled: nothing projected
