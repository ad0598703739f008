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


POOLS = """query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { name endDate
  rampSteps { fromWindow amount } windows { nodes { number endDate committed settled } }
  pools { nodes { key balance validTo entries { nodes { kind amount } } } } } } } } }"""


async def commitments(story: Story, contract: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in (await story.run(POOLS, id=contract))["node"]["commitments"]}


def entries(pool: dict[str, Any]) -> list[tuple[str, D]]:
    return [(e["kind"], D(e["amount"])) for e in pool["entries"]]


def check_ledger(book: dict[str, dict[str, Any]]) -> None:
    for c in book.values():
        for pool in c["pools"]:
            assert sum((D(e["amount"]) for e in pool["entries"]), D(0)) == D(pool["balance"]) >= 0, pool


def spend(name: str, payment: str, frequency: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "SPEND", "payment": payment, "frequency": frequency,
            "rampSteps": [{"fromWindow": 1, "amount": amount}], **extra}


async def closes(story: Story, contract: str, count: int) -> list[dict[str, Any]]:
    return [await story.close(contract) for _ in range(count)]


async def test_a_commitment_added_at_q3_and_another_ended_mid_quarter(db: str) -> None:
    """$3,000 a quarter postpaid from January; a $2,000 quarterly minimum added from 1 July; the first
    ended on 1 August: its Q3 window is cut to July (3,000 × 31/92 = 1,010.87) and settled on August's
    invoice against July's $800 of spend: TRUE_UP 210.87."""
    story = await Story.start("USD")
    contract = await priced_contract(story, commitments=[spend("Quarterly", "POSTPAID", "QUARTERLY", "3000")])
    await monthly_usage(story, contract, range(1, 10), "800")
    first_half = await closes(story, contract, 6)
    assert (amounts(first_half[2], "TRUE_UP"), amounts(first_half[5], "TRUE_UP")) == ([D("600.00")], [D("600.00")])
    added = await amend(story, contract, 1, "2026-07-01", {
        "addCommitments": [spend("Q3 minimum", "POSTPAID", "QUARTERLY", "2000")]}, reason="new minimum")
    assert added["userErrors"] == [], added
    [july] = await closes(story, contract, 1)
    quarterly = (await commitments(story, contract))["Quarterly"]
    ended = await amend(story, contract, 2, "2026-08-01", {"endCommitments": [
        (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { id name } } } } }",
                         id=contract))["node"]["commitments"][0]["id"]]}, reason="dropped")
    assert ended["userErrors"] == [], ended
    assert [v["number"] for v in ended["contract"]["versions"]] == [1, 2, 3]
    book = await commitments(story, contract)
    assert book["Quarterly"]["endDate"] == "2026-08-01"
    assert [(w["number"], w["endDate"], w["committed"]) for w in book["Quarterly"]["windows"]][2:] == [
        (3, "2026-08-01", "1010.87")]
    q3 = next(p for p in book["Quarterly"]["pools"] if p["key"].endswith(":2"))
    assert entries(q3) == [("ISSUE", D("3000.00")), ("CONSUME", D("-800.00")), ("VOID", D("-1989.13"))]
    q4 = next(p for p in book["Quarterly"]["pools"] if p["key"].endswith(":3"))
    assert entries(q4) == [("ISSUE", D("3000.00")), ("VOID", D("-3000.00"))]
    august, september = await closes(story, contract, 2)
    assert amounts(august, "TRUE_UP") == [D("210.87")]
    assert amounts(september, "TRUE_UP") == []  # Q3 minimum: $2,400 of spend ≥ $2,000
    assert amounts(july, "TRUE_UP") == []
    listed = await invoices(story, contract)
    assert [i["version"] for i in listed] == [1] * 6 + [2, 3, 3]
    assert [i["total"] for i in listed[:6]] == [i["total"] for i in first_half]  # closed invoices never change
    check_ledger(await commitments(story, contract))
    assert quarterly["windows"][2]["committed"] == "3000.00"  # before the cut


async def test_a_ramp_renegotiated_for_the_second_half(db: str) -> None:
    """$1,000 a month prepaid, billed by plan; from July $1,500: July's pool is re-issued, and the fees
    still to bill (15,000 − 6,000 billed) are spread over July–December: $1,500 a month."""
    story = await Story.start("USD")
    contract = await priced_contract(story, commitments=[spend("Monthly credit", "PREPAID", "MONTHLY", "1000")])
    await monthly_usage(story, contract, range(1, 13), "900")
    first_half = await closes(story, contract, 6)
    assert all(amounts(i, "COMMITMENT_FEE") == [D("1000.00")] for i in first_half)
    commitment = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { id } } } } }",
                                  id=contract))["node"]["commitments"][0]["id"]
    early = await amend(story, contract, 1, "2026-07-01", {"rampChanges": [
        {"commitmentId": commitment, "rampSteps": [{"fromWindow": 6, "amount": "1500"}]}]})
    assert [e["code"] for e in early["userErrors"]] == ["INVALID_RAMP"]  # June's window is closed
    done = await amend(story, contract, 1, "2026-07-01", {"rampChanges": [
        {"commitmentId": commitment, "rampSteps": [{"fromWindow": 7, "amount": "1500"}]}]}, reason="second half")
    assert done["userErrors"] == [], done
    book = (await commitments(story, contract))["Monthly credit"]
    assert book["rampSteps"] == [{"fromWindow": 1, "amount": "1000"}, {"fromWindow": 7, "amount": "1500"}]
    assert [w["committed"] for w in book["windows"]] == ["1000.00"] * 6 + ["1500.00"] * 6
    july_pool = next(p for p in book["pools"] if p["key"].endswith(":6"))
    assert entries(july_pool) == [("ISSUE", D("1000.00")), ("VOID", D("-1000.00")), ("ISSUE", D("1500.00"))]
    second_half = await closes(story, contract, 6)
    assert all(amounts(i, "COMMITMENT_FEE") == [D("1500.00")] for i in second_half)
    assert sum(sum(amounts(i, "COMMITMENT_FEE"), D(0)) for i in first_half + second_half) == D("15000.00")
    assert amounts(second_half[0], "DRAWDOWN") == [D("-900.00")]
    check_ledger(await commitments(story, contract))


async def test_a_sim_count_raised_mid_year(db: str) -> None:
    """10 SIMs at $5 until June, 15 from July; a quarterly 12-SIM commitment with $2 per SIM short."""
    story = await Story.start("USD")
    sim = await story.product("sim", "SERVICE", "sim")
    contract = await priced_contract(story, serviceLines=[{"productId": sim, "quantity": "10", "unitPrice": "5"}],
                                     commitments=[{"name": "SIMs", "type": "SERVICE", "frequency": "QUARTERLY",
                                                   "serviceId": sim, "rampSteps": [{"fromWindow": 1, "amount": "12"}],
                                                   "penalties": [{"kind": "COUNT", "rate": "2"}]}])
    first_half = await closes(story, contract, 6)
    assert amounts(first_half[5], "RECURRING") == [D("50.00")]
    assert amounts(first_half[5], "PENALTY") == [D("4.00")]
    line = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { serviceLines { nodes { id } } } } }",
                            id=contract))["node"]["serviceLines"][0]["id"]
    done = await amend(story, contract, 1, "2026-07-01", {"changeServiceLines": [
        {"serviceLineId": line, "quantity": "15"}]}, reason="more SIMs")
    assert done["userErrors"] == [], done
    lines = (await story.run(CONTRACT, id=contract))["node"]["serviceLines"]
    assert [(D(x["quantity"]), x["startDate"], x["endDate"]) for x in lines] == [
        (D(10), "2026-01-01", "2026-07-01"), (D(15), "2026-07-01", None)]
    july, august, september = await closes(story, contract, 3)
    assert amounts(july, "RECURRING") == [D("75.00")]
    assert amounts(september, "PENALTY") == []


async def test_ending_a_prepaid_commitment_after_more_fees_were_billed_credits_them_only_if_asked(db: str) -> None:
    """$12,000 a year prepaid, $1,000 a month billed; ended from 1 July after $6,000 was billed: the new
    total is 12,000 × 181/365 = 5,950.68, so $49.32 was billed too much."""
    story = await Story.start("USD")
    contract = await priced_contract(story, commitments=[spend("Annual", "PREPAID", "ANNUAL", "12000")])
    await monthly_usage(story, contract, range(1, 8), "500")
    await closes(story, contract, 6)
    commitment = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { id } } } } }",
                                  id=contract))["node"]["commitments"][0]["id"]
    refused = await amend(story, contract, 1, "2026-07-01", {"endCommitments": [commitment]})
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("FEES_ALREADY_BILLED", "creditOverbilledFees")]
    done = await amend(story, contract, 1, "2026-07-01", {"endCommitments": [commitment]}, credit=True)
    assert done["userErrors"] == [], done
    pool = (await commitments(story, contract))["Annual"]["pools"][0]
    assert (pool["validTo"], entries(pool)[-1]) == ("2026-07-01", ("VOID", D("-6049.32")))  # keeps 5,950.68 − 3,000
    [july] = await closes(story, contract, 1)
    assert amounts(july, "COMMITMENT_FEE") == [D("-49.32")]
    assert amounts(july, "USAGE") == [D("500.00")] and amounts(july, "DRAWDOWN") == []
    pool = (await commitments(story, contract))["Annual"]["pools"][0]
    assert entries(pool)[-1] == ("EXPIRE", D("-2950.68")) and D(pool["balance"]) == 0


async def test_an_extension_adds_periods_windows_and_pools(db: str) -> None:
    story = await Story.start("USD")
    contract = await priced_contract(story, standingCharge="10",
                                     commitments=[spend("Monthly", "POSTPAID", "MONTHLY", "100")])
    await closes(story, contract, 11)
    done = await amend(story, contract, 1, "2026-12-01", {"endDate": "2027-03-01"}, reason="extended")
    assert done["userErrors"] == [] and done["contract"]["endDate"] == "2027-03-01", done
    book = (await commitments(story, contract))["Monthly"]
    assert len(book["windows"]) == 14 and len(book["pools"]) == 14  # December 2026 to February 2027 added
    rest = await closes(story, contract, 3)
    assert [amounts(i, "STANDING") for i in rest] == [[D("10.00")]] * 3
    assert [amounts(i, "TRUE_UP") for i in rest] == [[D("90.00")]] * 3  # $100 minimum, $10 standing spend
    status = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { status } } }", id=contract))
    assert status["node"]["status"] == "ENDED"


async def test_two_amendments_of_one_version_at_once_one_wins(db: str, postgres_only: None) -> None:
    """Under the contract's row lock: the second sees version 2 and answers VERSION_CONFLICT."""
    import asyncio

    story = await Story.start("USD")
    contract = await priced_contract(story)
    answers = await asyncio.gather(*(amend(story, contract, 1, "2026-03-01", {"standingCharge": str(n)})
                                     for n in range(1, 4)))
    codes = sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers)
    assert codes == [(), ("VERSION_CONFLICT",), ("VERSION_CONFLICT",)]
    versions = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { versions { nodes { number } } } } }",
                                id=contract))["node"]["versions"]
    assert [v["number"] for v in versions] == [1, 2]


async def test_the_batched_close_bills_each_period_by_its_version(db: str) -> None:
    """closeDuePeriods closes June (version 1) and July (version 2) in one run, as closePeriod does."""
    from datetime import date

    from app.services.closing import close_due_periods

    story = await Story.start("USD")
    contract = await priced_contract(story)
    await monthly_usage(story, contract, range(1, 8))
    usage_class = (await story.run("query { products { nodes { id } } }"))["products"][0]["id"]
    assert (await amend(story, contract, 1, "2026-07-01", {
        "setPrices": [{"usageClassId": usage_class, "model": "PER_UNIT", "unitAmount": "1.20"}]}))["userErrors"] == []
    report = await close_due_periods(story.org, date(2026, 8, 2))
    assert report.closed == 7 and report.failures == ()
    listed = await invoices(story, contract)
    assert [(i["version"], i["total"]) for i in listed] == [(1, "1000.00")] * 6 + [(2, "1200.00")]
