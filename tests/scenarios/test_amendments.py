"""Amending active contracts (SPEC §13) end to end through GraphQL, on SQLite and PostgreSQL.

Each story is a business case: a price rise from 1 July (SPEC example 8), a commitment added at Q3
and another ended mid-quarter, a ramp renegotiated for the second half, a SIM count raised
mid-year, an extension, and the refusals. Closed invoices never change; each invoice says which
version billed it.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from tests.scenarios.story import Story, amounts

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

AMEND = """mutation($c: ID!, $v: Int!, $e: Date!, $r: String!, $ch: ContractChangesInput!, $credit: Boolean! = false) {
  amendContract(contractId: $c, expectedVersion: $v, effectiveDate: $e, reason: $r, changes: $ch,
                creditOverbilledFees: $credit) {
    contract { id version endDate standingCharge versions { nodes { number effectiveDate reason changes } } }
    userErrors { code field message } } }"""

INVOICES = """query($id: ID!) { node(id: $id) { ... on Contract { invoices { nodes {
  number version periodStart total lines { nodes { type amount product } } } } } } }"""

CONTRACT = """query($id: ID!) { node(id: $id) { ... on Contract { version
  prices { nodes { id unitAmount usageClass { code } } }
  serviceLines { nodes { id quantity startDate endDate } }
  commitments { nodes { id name endDate rampSteps { fromWindow amount }
    windows { nodes { number startDate endDate committed settled } }
    pools { nodes { key balance validTo entries { nodes { kind amount } } } } } } } } }"""


async def amend(story: Story, contract: str, version: int, effective: str, changes: dict[str, Any],
                reason: str = "renegotiated", credit: bool = False) -> dict[str, Any]:
    return dict((await story.run(AMEND, c=contract, v=version, e=effective, r=reason, ch=changes,
                                 credit=credit))["amendContract"])


async def invoices(story: Story, contract: str) -> list[dict[str, Any]]:
    return list((await story.run(INVOICES, id=contract))["node"]["invoices"])


async def monthly_usage(story: Story, contract: str, months: range, quantity: str = "1000") -> None:
    for month in months:
        await story.usage(contract, "api-calls", quantity, f"2026-{month:02d}-15T12:00:00Z", f"u{month}")


async def priced_contract(story: Story, **extra: Any) -> str:
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({"accountId": await story.account(), "name": "Usage", "currency": "USD",
                                 **YEAR, "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1.00"}],
                                 **extra})


async def test_a_price_rise_from_1_july_spec_example_8(db: str) -> None:
    story = await Story.start("USD")
    contract = await priced_contract(story)
    api = (await story.run(CONTRACT, id=contract))["node"]["prices"][0]["usageClass"]
    await monthly_usage(story, contract, range(6, 8))
    for _ in range(5):
        await story.close(contract)
    june = await story.close(contract)
    assert amounts(june, "USAGE") == [D("1000.00")]
    usage_class = (await story.run("query { products { nodes { id code } } }"))["products"][0]["id"]
    assert api["code"] == "api-calls"
    done = await amend(story, contract, 1, "2026-07-01", {
        "setPrices": [{"usageClassId": usage_class, "model": "PER_UNIT", "unitAmount": "1.20"}]}, reason="price rise")
    assert done["userErrors"] == [], done
    assert done["contract"]["version"] == 2
    assert [(v["number"], v["effectiveDate"], v["reason"]) for v in done["contract"]["versions"]] == [
        (1, "2026-01-01", "activation"), (2, "2026-07-01", "price rise")]
    july = await story.close(contract)
    assert amounts(july, "USAGE") == [D("1200.00")]
    listed = await invoices(story, contract)
    assert [(i["periodStart"], i["version"]) for i in listed][-2:] == [("2026-06-01", 1), ("2026-07-01", 2)]
    assert listed[5]["total"] == "1000.00"  # the June invoice never changes
    prices = (await story.run(CONTRACT, id=contract))["node"]["prices"]
    assert [p["unitAmount"] for p in prices] == ["1.2"] or [D(p["unitAmount"]) for p in prices] == [D("1.20")]


async def test_an_open_period_before_the_effective_date_still_bills_the_old_price(db: str) -> None:
    """June is still open when the rise from July is agreed: June bills $1.00, July $1.20."""
    story = await Story.start("USD")
    contract = await priced_contract(story)
    await monthly_usage(story, contract, range(6, 8))
    usage_class = (await story.run("query { products { nodes { id } } }"))["products"][0]["id"]
    for _ in range(5):
        await story.close(contract)
    assert (await amend(story, contract, 1, "2026-07-01", {
        "setPrices": [{"usageClassId": usage_class, "model": "PER_UNIT", "unitAmount": "1.20"}]}))["userErrors"] == []
    june, july = await story.close(contract), await story.close(contract)
    assert (amounts(june, "USAGE"), amounts(july, "USAGE")) == ([D("1000.00")], [D("1200.00")])


async def test_refusals_version_conflict_closed_period_and_not_a_period_start(db: str) -> None:
    story = await Story.start("USD")
    contract = await priced_contract(story)
    await story.close(contract)  # January closed
    closed = await amend(story, contract, 1, "2026-01-01", {"standingCharge": "10"})
    assert [e["code"] for e in closed["userErrors"]] == ["INVALID_EFFECTIVE_DATE"]
    mid = await amend(story, contract, 1, "2026-03-15", {"standingCharge": "10"})
    assert [e["code"] for e in mid["userErrors"]] == ["INVALID_EFFECTIVE_DATE"]
    assert (await amend(story, contract, 1, "2026-03-01", {"standingCharge": "10"}))["userErrors"] == []
    stale = await amend(story, contract, 1, "2026-04-01", {"standingCharge": "20"})
    assert [(e["code"], e["field"]) for e in stale["userErrors"]] == [("VERSION_CONFLICT", "expectedVersion")]
    earlier = await amend(story, contract, 2, "2026-02-01", {"standingCharge": "20"})
    assert [e["code"] for e in earlier["userErrors"]] == ["INVALID_EFFECTIVE_DATE"]
    shorter = await amend(story, contract, 2, "2026-04-01", {"endDate": "2026-10-01"})
    assert [e["code"] for e in shorter["userErrors"]] == ["INVALID_INTERVAL"]
    feb, march = await story.close(contract), await story.close(contract)
    assert (amounts(feb, "STANDING"), amounts(march, "STANDING")) == ([], [D("10.00")])
