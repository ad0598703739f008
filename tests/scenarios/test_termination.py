"""Ending a contract early (SPEC §14) end to end through GraphQL: terminateContract, the final
close, the contract ENDED with its reason kept, the VOID entries in the ledger. Runs on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from tests.scenarios.story import Story, amounts

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

TERMINATE = """mutation($c: ID!, $e: Date!, $r: String!, $cr: Boolean!, $w: Boolean!, $k: String) {
  terminateContract(contractId: $c, endDate: $e, reason: $r, chargeRemaining: $cr, waiveTerminationFee: $w,
                    idempotencyKey: $k) {
    contract { status endDate originalEndDate earlyTerminationFee
      termination { date reason chargeRemaining feeWaived at } }
    userErrors { code field message } } }"""

CONTRACT = """query($id: ID!) { node(id: $id) { ... on Contract { status endDate originalEndDate
  termination { date reason chargeRemaining feeWaived }
  billingPeriods { nodes { number startDate endDate partial } }
  commitments { nodes { pools { nodes { key balance validTo entries { nodes { kind amount } } } } } } } } }"""


async def terminate(story: Story, contract: str, end: str, *, charge_remaining: bool = False,
                    waive: bool = False, reason: str = "customer moved to another provider",
                    key: str | None = None) -> dict[str, Any]:
    data = await story.run(TERMINATE, c=contract, e=end, r=reason, cr=charge_remaining, w=waive, k=key)
    return dict(data["terminateContract"])


async def annual_prepaid(story: Story, fee: str = "0") -> str:
    """SPEC example 9: annual prepaid $12,000 from 1 January 2026, BILLING_PLAN monthly."""
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({
        "accountId": await story.account(), "name": "Example 9", "currency": "USD", **YEAR,
        "earlyTerminationFee": fee,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{"name": "Annual credit", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
                         "rampSteps": [{"fromWindow": 1, "amount": "12000"}]}],
    })


async def read(story: Story, contract: str) -> dict[str, Any]:
    return dict((await story.run(CONTRACT, id=contract))["node"])


def entries(node: dict[str, Any]) -> list[tuple[str, str, D]]:
    return [(p["key"].split(":")[0], e["kind"], D(e["amount"]))
            for c in node["commitments"] for p in c["pools"] for e in p["entries"]]


async def test_example_9_an_annual_prepayment_terminated_on_1_april_bills_t_prime_on_the_march_invoice(db: str) -> None:
    story = await Story.start("USD")
    contract = await annual_prepaid(story)
    january, february = await story.close(contract), await story.close(contract)
    assert amounts(january, "COMMITMENT_FEE") == amounts(february, "COMMITMENT_FEE") == [D("1000.00")]
    done = await terminate(story, contract, "2026-04-01", key="end-of-march")
    assert done["userErrors"] == []
    c = done["contract"]
    assert (c["status"], c["endDate"], c["originalEndDate"]) == ("ACTIVE", "2026-04-01", "2027-01-01")
    assert (c["termination"]["date"], c["termination"]["chargeRemaining"], c["termination"]["feeWaived"]) == (
        "2026-04-01", False, False)
    node = await read(story, contract)
    assert [p["endDate"] for p in node["billingPeriods"]] == ["2026-02-01", "2026-03-01", "2026-04-01"]
    assert ("prepaid", "VOID", D("-9041.10")) in entries(node)  # 12,000 − T′ 2,958.90

    march = await story.close(contract)
    assert amounts(march, "COMMITMENT_FEE") == [D("958.90")]  # T′ 2,958.90 − 2,000.00 billed
    assert D(march["total"]) == D("958.90")
    node = await read(story, contract)
    assert node["status"] == "ENDED"
    assert node["termination"]["reason"] == "customer moved to another provider"
    [pool] = [p for c in node["commitments"] for p in c["pools"]]
    assert (D(pool["balance"]), pool["validTo"]) == (D(0), "2026-04-01")
    assert sum(D(e["amount"]) for e in pool["entries"]) == D(pool["balance"])
    # the same key answers the same, and writes nothing more
    again = await terminate(story, contract, "2026-04-01", key="end-of-march")
    assert again["contract"]["endDate"] == "2026-04-01"


async def test_example_9_with_charge_remaining_the_march_invoice_bills_the_rest_of_the_year(db: str) -> None:
    story = await Story.start("USD")
    contract = await annual_prepaid(story)
    await story.close(contract), await story.close(contract)
    done = await terminate(story, contract, "2026-04-01", charge_remaining=True)
    assert done["contract"]["termination"]["chargeRemaining"] is True
    assert not any(kind == "VOID" for _, kind, _ in entries(await read(story, contract)))
    march = await story.close(contract)
    assert amounts(march, "COMMITMENT_FEE") == [D("10000.00")]


async def test_a_termination_fee_is_billed_once_on_the_final_invoice_unless_waived(db: str) -> None:
    story = await Story.start("USD")
    billed = await annual_prepaid(story, fee="500")
    await story.close(billed), await story.close(billed)
    done = await terminate(story, billed, "2026-04-01")
    assert D(done["contract"]["earlyTerminationFee"]) == D(500)
    march = await story.close(billed)
    assert amounts(march, "TERMINATION_FEE") == [D("500.00")]
    assert D(march["total"]) == D("1458.90")

    other = await Story.start("USD")
    waived = await annual_prepaid(other, fee="500")
    await other.close(waived), await other.close(waived)
    assert (await terminate(other, waived, "2026-04-01", waive=True))["contract"]["termination"]["feeWaived"]
    march = await other.close(waived)
    assert amounts(march, "TERMINATION_FEE") == []
    assert D(march["total"]) == D("958.90")


async def quarterly_postpaid(story: Story) -> str:
    """Quarterly postpaid $3,000 minimum with $1 units, billed monthly over 2026."""
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({
        "accountId": await story.account(), "name": "Postpaid", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{"name": "Quarterly minimum", "type": "SPEND", "payment": "POSTPAID",
                         "frequency": "QUARTERLY", "rampSteps": [{"fromWindow": 1, "amount": "3000"}]}],
    })


async def test_a_postpaid_minimum_terminated_mid_period_with_charge_remaining_trues_up_every_removed_quarter(db: str) -> None:
    story = await Story.start("USD")
    contract = await quarterly_postpaid(story)
    await story.usage(contract, "api-calls", "1000", "2026-01-10T00:00:00Z", "jan")
    await story.close(contract)
    done = await terminate(story, contract, "2026-02-15", charge_remaining=True)
    assert done["userErrors"] == []
    node = await read(story, contract)
    assert node["billingPeriods"][-1] == {"number": 2, "startDate": "2026-02-01", "endDate": "2026-02-15",
                                          "partial": True}
    assert [k for _, k, _ in entries(node)].count("VOID") == 3  # Q2–Q4 tracking pools
    refused = await story.run(
        """mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted results { status code } } }""",
        e=[{"contractId": contract, "usageClass": "api-calls", "quantity": "5", "timestamp": "2026-02-20T00:00:00Z",
            "idempotencyKey": "after-t"}])
    assert refused["recordUsage"]["accepted"] == 0  # usage dated after t matches no term any more
    final = await story.close(contract)
    # Q1 cut but unprorated: 3,000 − 1,000; Q2, Q3, Q4 removed: 3,000 each
    assert amounts(final, "TRUE_UP") == [D("2000.00"), D("3000.00"), D("3000.00"), D("3000.00")]
    assert (await read(story, contract))["status"] == "ENDED"


async def test_a_postpaid_minimum_terminated_on_a_period_boundary_trues_up_the_prorated_quarter(db: str) -> None:
    story = await Story.start("USD")
    contract = await quarterly_postpaid(story)
    await story.usage(contract, "api-calls", "1000", "2026-01-10T00:00:00Z", "jan")
    await story.close(contract)
    await terminate(story, contract, "2026-03-01")
    final = await story.close(contract)
    # Q1 cut to 59 of 90 days: 3,000 × 59 ÷ 90 = 1,966.67; 1,000 spent
    assert amounts(final, "TRUE_UP") == [D("966.67")]
    node = await read(story, contract)
    assert node["status"] == "ENDED" and node["endDate"] == "2026-03-01"
    assert [p["endDate"] for p in node["billingPeriods"]] == ["2026-02-01", "2026-03-01"]


async def test_a_usage_commitment_and_a_sim_level_commitment_owe_their_penalties_for_removed_months(db: str) -> None:
    story = await Story.start("USD")
    data = await story.product("data", "USAGE_CLASS", "GB")
    sim = await story.product("sim", "SERVICE", "SIM")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Usage and SIMs", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": data, "model": "PER_UNIT", "unitAmount": "1"}],
        "serviceLines": [{"productId": sim, "quantity": "8", "unitPrice": "0"}],
        "commitments": [
            {"name": "Data", "type": "USAGE", "usageClassId": data, "frequency": "MONTHLY",
             "rampSteps": [{"fromWindow": 1, "amount": "1000"}], "penalties": [{"kind": "COUNT", "rate": "0.01"}]},
            {"name": "SIMs", "type": "SERVICE", "serviceId": sim, "frequency": "MONTHLY",
             "rampSteps": [{"fromWindow": 1, "amount": "10"}], "penalties": [{"kind": "COUNT", "rate": "2"}]},
        ],
    })
    await story.usage(contract, "data", "1000", "2026-01-10T00:00:00Z", "jan")
    await story.close(contract)
    await terminate(story, contract, "2026-11-01", charge_remaining=True)
    for _ in range(8):
        await story.close(contract)
    final = await story.close(contract)  # October
    # October: 1,000 GB short (10.00), 2 SIMs short (4.00); November and December measured 0
    assert sorted(amounts(final, "PENALTY")) == sorted(
        [D("10.00"), D("4.00"), D("10.00"), D("10.00"), D("20.00"), D("20.00")])


async def test_terminations_that_are_refused(db: str) -> None:
    story = await Story.start("USD")
    contract = await annual_prepaid(story)
    await story.close(contract)
    cases = [("2026-02-01", "INVALID_TERMINATION_DATE"),  # not after the first open period's start
             ("2026-01-15", "INVALID_TERMINATION_DATE"),  # inside a closed period
             ("2027-02-01", "INVALID_TERMINATION_DATE")]  # after the current end
    for end, code in cases:
        refused = await terminate(story, contract, end)
        assert refused["contract"] is None and [e["code"] for e in refused["userErrors"]] == [code], (end, refused)
    blank = await terminate(story, contract, "2026-03-01", reason="  ")
    assert [(e["code"], e["field"]) for e in blank["userErrors"]] == [("INVALID_INPUT", "reason")]
    assert (await terminate(story, contract, "2026-03-01"))["userErrors"] == []
    again = await terminate(story, contract, "2026-02-15")
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_TERMINATED"]
    draft = await story.run(
        """mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } } }""",
        i={"accountId": await story.account("Draft Co"), "name": "Draft", "currency": "USD", **YEAR})
    refused = await terminate(story, draft["createContract"]["contract"]["id"], "2026-03-01")
    assert [e["code"] for e in refused["userErrors"]] == ["CONTRACT_NOT_ACTIVE"]
