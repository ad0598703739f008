"""Renewal (SPEC §15) end to end through GraphQL: renew, activate the successor, close the old
contract's last period and see the rollover carried into the new year. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL.

The contract of every story: 2026, billed monthly, an annual prepaid commitment of £12,000 with
rolloverFraction 0.5 and rolloverCap £1,000, and £900 of usage a month. By the end of December
£10,800 is used and £1,200 is left: min(1,200 × 0.5, 1,000) = £600 rolls, £600 expires.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D
from typing import Any

from app.api import ids
from app.db.models import Contract
from app.services.closing import close_due_periods
from tests.scenarios.story import Story, amounts

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

RENEW = """mutation($c: ID!, $e: Date!, $k: String) { renewContract(contractId: $c, endDate: $e, idempotencyKey: $k) {
  contract { id status startDate endDate currency billingFrequency renews { id }
    prices { nodes { unitAmount } } commitments { nodes { id name frequency rolloverFraction rolloverCap
      rampSteps { fromWindow amount } renews { id } } } }
  userErrors { code field message } } }"""

POOLS = """query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { pools { nodes {
  key kind balance validFrom validTo rolledOver entries { nodes { kind amount runningBalance } } } } } } } } }"""


async def annual_prepaid(story: Story) -> str:
    """The prepaid story: £12,000 of credit, rolloverFraction 0.5, cap £1,000."""
    return await annual_spend(story, "PREPAID", fraction="0.5", cap="1000")


async def annual_spend(story: Story, payment: str, *, fraction: str, cap: str) -> str:
    """An annual £12,000 SPEND commitment over 2026 (paid ``payment``), with £900 of usage a month."""
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": f"Annual {payment.lower()}", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Annual credit", "type": "SPEND", "payment": payment, "frequency": "ANNUAL",
            "rampSteps": [{"fromWindow": 1, "amount": "12000"}],
            "rolloverFraction": fraction, "rolloverCap": cap,
        }],
    })
    for month in range(1, 13):
        await story.usage(contract, "api-calls", "900", f"2026-{month:02d}-15T12:00:00Z", f"u{month}")
    return contract


async def renew(story: Story, contract: str, end: str = "2028-01-01", key: str | None = None) -> dict[str, Any]:
    return dict((await story.run(RENEW, c=contract, e=end, k=key))["renewContract"])


async def activate(story: Story, contract: str) -> None:
    data = await story.run(
        "mutation($id: ID!) { activateContract(id: $id) { contract { status } userErrors { code field message } } }",
        id=contract)
    assert data["activateContract"]["userErrors"] == [], data


async def pools(story: Story, contract: str) -> dict[str, dict[str, Any]]:
    node = (await story.run(POOLS, id=contract))["node"]
    return {p["key"].split(":")[0] + ":" + p["key"].split(":")[2]: p
            for c in node["commitments"] for p in c["pools"]}


def kinds(pool: dict[str, Any]) -> list[tuple[str, D]]:
    return [(e["kind"], D(e["amount"])) for e in pool["entries"]]


def check_ledger(*books: dict[str, dict[str, Any]]) -> None:
    """Every pool's entries sum to its balance and no running balance is ever negative."""
    for book in books:
        for pool in book.values():
            assert sum((D(e["amount"]) for e in pool["entries"]), D(0)) == D(pool["balance"]), pool
            assert all(D(e["runningBalance"]) >= 0 for e in pool["entries"]), pool


async def test_a_renewal_that_carries_a_rollover_into_the_new_year(db: str) -> None:
    story = await Story.start("GBP")
    old = await annual_prepaid(story)
    renewed = await renew(story, old, key="renew-2027")
    assert renewed["userErrors"] == []
    new = renewed["contract"]
    assert (new["status"], new["startDate"], new["endDate"], new["currency"], new["billingFrequency"]) == (
        "DRAFT", "2027-01-01", "2028-01-01", "GBP", "MONTHLY")
    assert new["renews"]["id"] == old
    [commitment] = new["commitments"]
    assert (commitment["name"], commitment["frequency"], D(commitment["rolloverFraction"]),
            D(commitment["rolloverCap"]), commitment["rampSteps"]) == (
        "Annual credit", "ANNUAL", D("0.5"), D(1000), [{"fromWindow": 1, "amount": "12000"}])
    old_commitment = (await story.run(
        "query($id: ID!) { node(id: $id) { ... on Contract { renewedBy { id } commitments { nodes { id } } } } }",
        id=old))["node"]
    assert old_commitment["renewedBy"]["id"] == new["id"]
    assert commitment["renews"]["id"] == old_commitment["commitments"][0]["id"]
    await activate(story, new["id"])

    for _ in range(11):
        await story.close(old)
    december = await story.close(old)
    assert amounts(december, "DRAWDOWN") == [D("-900.00")]

    before, after = await pools(story, old), await pools(story, new["id"])
    assert kinds(before["prepaid:0"])[-2:] == [("ROLLOVER_OUT", D("-600.00")), ("EXPIRE", D("-600.00"))]
    assert D(before["prepaid:0"]["balance"]) == 0
    carried = after["rollover:0"]
    assert (carried["kind"], carried["validFrom"], carried["validTo"], carried["rolledOver"]) == (
        "ROLLOVER", "2027-01-01", "2028-01-01", True)
    assert kinds(carried) == [("ROLLOVER_IN", D("600.00"))]

    # January 2027: £1,000 of usage draws the rolled credit first, then the new year's pool
    await story.usage(new["id"], "api-calls", "1000", "2027-01-20T12:00:00Z", "n1")
    january = await story.close(new["id"])
    assert sorted(amounts(january, "DRAWDOWN")) == [D("-600.00"), D("-400.00")]
    after = await pools(story, new["id"])
    assert D(after["rollover:0"]["balance"]) == 0
    assert D(after["prepaid:0"]["balance"]) == D("11600.00")
    check_ledger(before, after)

    again = await story.run(  # closing the closed period again returns its invoice and writes nothing
        """mutation($c: ID!) { closePeriod(contractId: $c, periodStart: "2026-12-01") {
             invoice { total periodStart lines { nodes { type amount product } } } userErrors { code } } }""", c=old)
    assert again["closePeriod"]["invoice"] == december
    assert await pools(story, old) == before
    assert kinds((await pools(story, new["id"]))["rollover:0"]) == [("ROLLOVER_IN", D("600.00")), ("CONSUME", D("-600.00"))]


async def test_the_batched_close_carries_the_rollover_too_and_only_once(db: str) -> None:
    story = await Story.start("GBP")
    old = await annual_prepaid(story)
    new = (await renew(story, old))["contract"]["id"]
    await activate(story, new)
    report = await close_due_periods(story.org, date(2027, 1, 2))
    assert (report.closed, report.failures) == (12, ())
    again = await close_due_periods(story.org, date(2027, 1, 2))
    assert again.closed == 0
    before, after = await pools(story, old), await pools(story, new)
    assert kinds(before["prepaid:0"])[-2:] == [("ROLLOVER_OUT", D("-600.00")), ("EXPIRE", D("-600.00"))]
    assert kinds(after["rollover:0"]) == [("ROLLOVER_IN", D("600.00"))]
    check_ledger(before, after)


async def test_a_renewal_not_activated_lets_the_rollover_expire_as_before(db: str) -> None:
    story = await Story.start("GBP")
    old = await annual_prepaid(story)
    draft = (await renew(story, old))["contract"]["id"]
    for _ in range(12):
        await story.close(old)
    before = await pools(story, old)
    assert kinds(before["prepaid:0"])[-1] == ("EXPIRE", D("-1200.00"))
    assert not [k for k, _ in kinds(before["prepaid:0"]) if k.startswith("ROLLOVER")]
    assert await pools(story, draft) == {}
    check_ledger(before)


async def test_renewals_that_are_refused(db: str) -> None:
    story = await Story.start("GBP")
    old = await annual_prepaid(story)
    for end in ("2027-01-01", "2026-06-01"):
        refused = await renew(story, old, end)
        assert refused["contract"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_INTERVAL", "endDate")]
    draft = (await renew(story, old))["contract"]["id"]
    twice = await renew(story, old)
    assert [(e["code"], e["field"]) for e in twice["userErrors"]] == [("ALREADY_RENEWED", "contractId")]
    not_active = await renew(story, draft, "2029-01-01")
    assert [(e["code"], e["field"]) for e in not_active["userErrors"]] == [("CONTRACT_NOT_ACTIVE", "contractId")]
    other = await Story.start("GBP")
    foreign = await renew(other, old)
    assert [(e["code"], e["field"]) for e in foreign["userErrors"]] == [("NOT_FOUND", "contractId")]
    cancelled = await story.run(
        "mutation($id: ID!) { cancelContract(id: $id) { contract { status } userErrors { code } } }", id=draft)
    assert cancelled["cancelContract"]["contract"]["status"] == "CANCELLED"
    again = await renew(story, old)  # a cancelled draft is no successor: renewing again is allowed
    assert again["userErrors"] == [] and again["contract"]["renews"]["id"] == old
    node = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { renewedBy { id } } } }", id=old))
    assert node["node"]["renewedBy"]["id"] == again["contract"]["id"]


async def test_five_renewals_at_once_make_one_successor(db: str, postgres_only: None) -> None:
    """PostgreSQL: the old contract's row lock serializes racing renewals; one wins, the others
    answer ALREADY_RENEWED, and exactly one successor exists."""
    story = await Story.start("GBP")
    old = await annual_prepaid(story)
    answers = await asyncio.gather(*(renew(story, old) for _ in range(5)))
    won = [a for a in answers if a["userErrors"] == []]
    refused = [a["userErrors"][0]["code"] for a in answers if a["userErrors"]]
    assert len(won) == 1 and refused == ["ALREADY_RENEWED"] * 4, answers
    successors = await Contract.filter(organization_id=story.org, renews_id=ids.decode(old, "Contract", "id"))
    assert [ids.encode("Contract", c.id) for c in successors] == [won[0]["contract"]["id"]]


async def test_a_postpaid_shortfall_carries_into_the_renewal_as_credit(db: str) -> None:
    """Annual postpaid £12,000 with rolloverFraction 1 and cap £500, £900 a month: the year spends
    £10,800, so the last close bills a £1,200 TRUE_UP, and min(1,200 × 1, 500) = £500 comes back as
    credit (ISSUE) in the ACTIVE successor's first window instead of the old contract's nowhere."""
    story = await Story.start("GBP")
    old = await annual_spend(story, "POSTPAID", fraction="1", cap="500")
    new = (await renew(story, old))["contract"]["id"]
    await activate(story, new)
    invoices = [await story.close(old) for _ in range(12)]
    assert amounts(invoices[-1], "TRUE_UP") == [D("1200.00")]
    after = await pools(story, new)
    assert kinds(after["rollover:0"]) == [("ISSUE", D("500.00"))]
    assert not [p for p in (await pools(story, old)).values() if p["key"].startswith("rollover:")]
    await story.usage(new, "api-calls", "900", "2027-01-15T12:00:00Z", "n1")
    await story.close(new)
    assert kinds((await pools(story, new))["rollover:0"]) == [("ISSUE", D("500.00")), ("CONSUME", D("-500.00"))]
    check_ledger(await pools(story, old), await pools(story, new))
