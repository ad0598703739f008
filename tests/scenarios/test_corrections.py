"""Late usage and corrections (SPEC §17) end to end through GraphQL, on SQLite and PostgreSQL.

Most stories run twin contracts: one gets part of its usage late, the other all of it on time.
After the correction, every period's amount due (invoice plus adjustments) and every pool's balance
equal the on-time twin's. The clock is frozen where the story needs a day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.clock import frozen_clock
from tests.scenarios.story import Story, amounts

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

RECORD = """mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted acceptedLate
  results { status code message } } }"""
CORRECT = """mutation($c: ID!) { correctContract(contractId: $c) { applied adjustmentsWritten
  userErrors { code field message } } }"""
INVOICES = """query($id: ID!) { node(id: $id) { ... on Contract {
  lateData(pending: false) { nodes { kind day quantity appliedAt } }
  invoices { nodes { number periodStart total amountDue
    adjustments { nodes { number kind source total lines { nodes { type amount } } } } } }
  commitments { nodes { pools { nodes { key balance } } } } } } }"""


async def send(story: Story, contract: str, quantity: str, day: str, key: str) -> dict[str, Any]:
    data = await story.run(RECORD, e=[{"contractId": contract, "usageClass": "api-calls", "quantity": quantity,
                                       "timestamp": f"{day}T12:00:00Z", "idempotencyKey": key}])
    return dict(data["recordUsage"])


async def twin(story: Story, commitment: dict[str, Any], name: str) -> str:
    api = story.products.get("api-calls") or await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({"accountId": await story.account(name), "name": name, "currency": "USD", **YEAR,
                                 "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
                                 "commitments": [commitment]})


async def state(story: Story, contract: str) -> dict[str, Any]:
    return dict((await story.run(INVOICES, id=contract))["node"])


def due(node: dict[str, Any]) -> list[tuple[str, D]]:
    return [(i["periodStart"], D(i["amountDue"])) for i in node["invoices"]]


def balances(node: dict[str, Any]) -> list[D]:
    return [D(p["balance"]) for c in node["commitments"] for p in c["pools"]]


async def test_spec_example_10_late_january_usage_on_a_quarterly_postpaid_commitment(db: str) -> None:
    """Q1 closed with $7,000 of spend and a $3,000 TRUE_UP; in April 2,000 units dated in January
    arrive (on 2 April: 60 days after January's end, the default window): a DEBIT_NOTE of +$2,000.00 on January's invoice, a CREDIT_NOTE of −$2,000.00 on March's."""
    story = await Story.start("USD")
    contract = await twin(story, {"name": "Quarterly minimum", "type": "SPEND", "payment": "POSTPAID",
                                  "frequency": "QUARTERLY", "rampSteps": [{"fromWindow": 1, "amount": "10000"}]}, "A")
    with frozen_clock(date(2026, 4, 2)):  # March may close; January ended 60 days ago: still in the window
        for month, quantity in ((1, "2000"), (2, "2500"), (3, "2500")):
            assert (await send(story, contract, quantity, f"2026-{month:02d}-15", f"on-{month}"))["accepted"] == 1
        january, february, march = [await story.close(contract) for _ in range(3)]
        assert amounts(march, "TRUE_UP") == [D("3000.00")]
        late = await send(story, contract, "2000", "2026-01-20", "late-1")
        assert (late["accepted"], late["acceptedLate"], late["results"][0]["status"]) == (1, 1, "ACCEPTED_LATE")
        pending = await state(story, contract)
        assert [(d["kind"], d["day"], d["appliedAt"]) for d in pending["lateData"]] == [("USAGE", "2026-01-20", None)]
        done = (await story.run(CORRECT, c=contract))["correctContract"]
        assert (done["applied"], done["adjustmentsWritten"], done["userErrors"]) == (1, 2, [])
        node = await state(story, contract)
        notes = {i["periodStart"]: i["adjustments"] for i in node["invoices"]}
        assert [(a["kind"], a["source"], D(a["total"]), [(l["type"], D(l["amount"])) for l in a["lines"]])
                for a in notes["2026-01-01"]] == [("DEBIT_NOTE", "CORRECTION", D("2000.00"), [("USAGE", D("2000.00"))])]
        assert notes["2026-02-01"] == []
        assert [(a["kind"], D(a["total"]), [(l["type"], D(l["amount"])) for l in a["lines"]])
                for a in notes["2026-03-01"]] == [("CREDIT_NOTE", D("-2000.00"), [("TRUE_UP", D("-2000.00"))])]
        assert sum((D(i["amountDue"]) for i in node["invoices"]), D(0)) == D("10000.00")
        assert node["lateData"][0]["appliedAt"] is not None
        again = (await story.run(CORRECT, c=contract))["correctContract"]
        assert (again["applied"], again["adjustmentsWritten"]) == (0, 0)  # nothing pending: nothing written
        assert await state(story, contract) == node


async def test_late_usage_that_drains_a_prepaid_pool_bills_what_on_time_usage_bills(db: str) -> None:
    """$1,200 a year prepaid with a 10 % overage surcharge: 300 units of January arrive in March.
    The late twin's invoices plus adjustments equal the on-time twin's, period by period, and so do
    the pools."""
    story = await Story.start("USD")
    prepaid = {"name": "Annual credit", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
               "rampSteps": [{"fromWindow": 1, "amount": "1200"}], "overageSurchargePercent": "10"}
    late, on_time = await twin(story, prepaid, "Late"), await twin(story, prepaid, "OnTime")
    with frozen_clock(date(2026, 3, 10)):
        for contract, prefix in ((late, "l"), (on_time, "o")):
            await send(story, contract, "1000", "2026-01-10", f"{prefix}-jan")
            await send(story, contract, "500", "2026-02-10", f"{prefix}-feb")
        await send(story, on_time, "300", "2026-01-20", "o-jan-2")
        for contract in (late, on_time):
            await story.close(contract), await story.close(contract)
        assert (await send(story, late, "300", "2026-01-20", "l-jan-2"))["acceptedLate"] == 1
        assert (await story.run(CORRECT, c=late))["correctContract"]["adjustmentsWritten"] == 2
        corrected, reference = await state(story, late), await state(story, on_time)
    assert due(corrected) == due(reference)
    assert balances(corrected) == balances(reference)


async def test_late_usage_after_a_rollover_moved_credit_into_the_next_window(db: str) -> None:
    """Quarterly $3,000 prepaid with full rollover: Q1 left $1,500 that rolled into Q2; 600 units of
    March arrive in April, after the rollover: the rolled credit shrinks by $600 (ADJUST)."""
    story = await Story.start("USD")
    quarterly = {"name": "Quarterly credit", "type": "SPEND", "payment": "PREPAID", "frequency": "QUARTERLY",
                 "rampSteps": [{"fromWindow": 1, "amount": "3000"}], "rolloverFraction": "1"}
    late, on_time = await twin(story, quarterly, "Late"), await twin(story, quarterly, "OnTime")
    with frozen_clock(date(2026, 5, 10)):
        for contract, prefix in ((late, "l"), (on_time, "o")):
            for month in (1, 2, 3, 4):
                await send(story, contract, "500" if month < 4 else "200", f"2026-{month:02d}-10", f"{prefix}-{month}")
        await send(story, on_time, "600", "2026-03-20", "o-late")
        for contract in (late, on_time):
            for _ in range(4):
                await story.close(contract)
        assert (await send(story, late, "600", "2026-03-20", "l-late"))["acceptedLate"] == 1
        await story.run(CORRECT, c=late)
        corrected, reference = await state(story, late), await state(story, on_time)
    assert due(corrected) == due(reference)
    assert balances(corrected) == balances(reference)


async def test_late_data_outside_the_window_or_under_reject_is_period_closed(db: str) -> None:
    story = await Story.start("USD")
    contract = await twin(story, {"name": "Minimum", "type": "SPEND", "payment": "POSTPAID", "frequency": "MONTHLY",
                                  "rampSteps": [{"fromWindow": 1, "amount": "10"}]}, "A")
    with frozen_clock(date(2026, 2, 10)):
        await story.close(contract)
    with frozen_clock(date(2026, 4, 3)):  # January ended 1 February: 61 days ago, the window is 60
        old = await send(story, contract, "5", "2026-01-15", "too-old")
        assert [(r["status"], r["code"]) for r in old["results"]] == [("REJECTED", "PERIOD_CLOSED")]
    with frozen_clock(date(2026, 4, 2)):  # 60 days: still taken
        assert (await send(story, contract, "5", "2026-01-15", "just-in-time"))["acceptedLate"] == 1
        await story.run("""mutation { updateOrganization(input: {lateUsage: REJECT}) { userErrors { code } } }""")
        refused = await send(story, contract, "5", "2026-01-16", "rejected")
        assert [(r["status"], r["code"]) for r in refused["results"]] == [("REJECTED", "PERIOD_CLOSED")]
        assert "REJECT" in refused["results"][0]["message"]


async def test_a_late_one_time_charge_becomes_a_debit_note(db: str) -> None:
    """A $250 setup fee dated 5 January is posted on 20 February, after January closed: stored late,
    then billed by the correction as a DEBIT_NOTE on January's invoice."""
    story = await Story.start("USD")
    contract = await twin(story, {"name": "Minimum", "type": "SPEND", "payment": "POSTPAID", "frequency": "MONTHLY",
                                  "rampSteps": [{"fromWindow": 1, "amount": "0"}]}, "A")
    setup = await story.product("setup", "SERVICE", "fee")
    with frozen_clock(date(2026, 2, 20)):
        await story.close(contract)
        posted = await story.run(
            """mutation($i: PostChargeInput!) { postCharge(input: $i) { charge { id } userErrors { code field } } }""",
            i={"contractId": contract, "productId": setup, "amount": "250", "serviceDate": "2026-01-05",
               "idempotencyKey": "setup-fee"})
        assert posted["postCharge"]["userErrors"] == [], posted
        assert [d["kind"] for d in (await state(story, contract))["lateData"]] == ["ONE_TIME"]
        assert (await story.run(CORRECT, c=contract))["correctContract"]["adjustmentsWritten"] == 1
        node = await state(story, contract)
    [january] = node["invoices"]
    assert [(a["kind"], [(l["type"], D(l["amount"])) for l in a["lines"]]) for a in january["adjustments"]] == [
        ("DEBIT_NOTE", [("ONE_TIME", D("250.00"))])]
    assert D(january["amountDue"]) == D(january["total"]) + D("250.00")


async def test_an_ended_contract_takes_late_usage_within_the_window(db: str) -> None:
    """A one-month contract is ENDED by its last close; a late event for it is ACCEPTED_LATE within
    the correction window (it was refused as CONTRACT_NOT_ACTIVE before) and PERIOD_CLOSED after."""
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({"accountId": await story.account("E"), "name": "January", "currency": "USD",
                                     "startDate": "2026-01-01", "endDate": "2026-02-01", "billingFrequency": "MONTHLY",
                                     "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}]})
    with frozen_clock(date(2026, 2, 5)):
        await story.close(contract)
        status = await story.run("query($id: ID!) { node(id: $id) { ... on Contract { status } } }", id=contract)
        assert status["node"]["status"] == "ENDED"
        taken = await send(story, contract, "40", "2026-01-20", "late-ended")
        assert [r["status"] for r in taken["results"]] == ["ACCEPTED_LATE"]
        assert (await story.run(CORRECT, c=contract))["correctContract"]["adjustmentsWritten"] == 1
        [january] = (await state(story, contract))["invoices"]
        assert D(january["amountDue"]) == D("40.00")
    with frozen_clock(date(2026, 4, 3)):
        refused = await send(story, contract, "5", "2026-01-21", "too-late-ended")
        assert [(r["status"], r["code"]) for r in refused["results"]] == [("REJECTED", "PERIOD_CLOSED")]
