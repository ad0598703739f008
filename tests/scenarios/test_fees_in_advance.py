"""Commitment fees billed in advance (SPEC §16) end to end through GraphQL, on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL.

The contract of most stories: 2026, billed monthly, an annual prepaid commitment of £12,000 whose
fee is billed in equal monthly parts (£1,000) IN_ADVANCE: activation writes an ACTIVATION invoice
(INV-<contract>-000) carrying January's £1,000, the January invoice carries February's, … and the
December invoice none (there is no next period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.api import ids
from app.services.closing import close_due_periods
from tests.scenarios.story import Story, amounts

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}

INVOICES = """query($c: ID!, $k: InvoiceKind) { invoices(filter: {contractId: $c, kind: $k}) { nodes {
  number kind periodStart periodEnd total chargesSubtotal drawdownTotal billingPeriod { number startDate }
  lines { nodes { type amount description servicePeriodStart servicePeriodEnd commitment { name } } } } } }"""

UPCOMING = """query($id: ID!) { node(id: $id) { ... on Contract { upcomingInvoice { periodStart total
  lines { nodes { type amount servicePeriodStart } } } } } }"""


def annual(fee: dict[str, Any] | None = None, payment: str = "PREPAID") -> dict[str, Any]:
    """The £12,000 annual commitment over 2026, fees IN_ADVANCE (plus ``fee`` settings)."""
    return {"name": "Annual credit", "type": "SPEND", "payment": payment, "frequency": "ANNUAL",
            "rampSteps": [{"fromWindow": 1, "amount": "12000"}], "feeTiming": "IN_ADVANCE", **(fee or {})}


async def contract_with(story: Story, *commitments: dict[str, Any]) -> str:
    api = story.products.get("api-calls") or await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({
        "accountId": await story.account(), "name": "Fees in advance", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": list(commitments),
    })


async def invoices(story: Story, contract: str, kind: str | None = None) -> list[dict[str, Any]]:
    return list((await story.run(INVOICES, c=contract, k=kind))["invoices"])


def fees(invoice: dict[str, Any]) -> list[D]:
    return amounts(invoice, "COMMITMENT_FEE")


async def test_annual_prepaid_billed_monthly_in_advance(db: str) -> None:
    story = await Story.start("GBP")
    contract = await contract_with(story, annual())
    number = ids.decode(contract, "Contract", "id")
    [activation] = await invoices(story, contract)
    assert (activation["number"], activation["kind"], activation["periodStart"], activation["periodEnd"]) == (
        f"INV-{number}-000", "ACTIVATION", "2026-01-01", "2026-02-01")
    assert activation["billingPeriod"] == {"number": 1, "startDate": "2026-01-01"}
    assert (fees(activation), D(activation["total"]), D(activation["chargesSubtotal"]),
            D(activation["drawdownTotal"])) == ([D("1000.00")], D("1000.00"), D(0), D(0))
    [line] = activation["lines"]
    assert (line["servicePeriodStart"], line["commitment"]["name"]) == ("2026-01-01", "Annual credit")
    assert "instalment 1 of 12" in line["description"] and "in advance" in line["description"]

    upcoming = (await story.run(UPCOMING, id=contract))["node"]["upcomingInvoice"]
    assert [(x["type"], D(x["amount"]), x["servicePeriodStart"]) for x in upcoming["lines"]] == [
        ("COMMITMENT_FEE", D("1000.00"), "2026-02-01")]  # the preview bills February's fee too

    await story.usage(contract, "api-calls", "900", "2026-01-15T12:00:00Z", "u1")
    january = await story.close(contract)
    assert fees(january) == [D("1000.00")]  # February's
    assert amounts(january, "DRAWDOWN") == [D("-900.00")]
    for _ in range(10):
        await story.close(contract)
    december = await story.close(contract)
    assert december["periodStart"] == "2026-12-01" and fees(december) == []

    every = await invoices(story, contract)
    assert [i["number"] for i in every] == [f"INV-{number}-{n:03d}" for n in range(13)]
    assert [i["kind"] for i in every] == ["ACTIVATION"] + ["PERIOD"] * 12
    assert sum((sum(fees(i), D(0)) for i in every), D(0)) == D("12000.00")
    assert [x["servicePeriodStart"] for i in every for x in i["lines"] if x["type"] == "COMMITMENT_FEE"] == [
        f"2026-{m:02d}-01" for m in range(1, 13)]  # each fee line names the month it pays for

    again = await story.run(  # closing January again returns its PERIOD invoice, not the activation one
        """mutation($c: ID!) { closePeriod(contractId: $c, periodStart: "2026-01-01") {
             invoice { number kind } userErrors { code } } }""", c=contract)
    assert again["closePeriod"]["invoice"] == {"number": f"INV-{number}-001", "kind": "PERIOD"}


async def test_amount_first_bill_in_advance_is_on_the_activation_invoice(db: str) -> None:
    story = await Story.start("GBP")
    contract = await contract_with(story, annual({"amountPrepaid": "2000", "amountFirstBill": "1000"}))
    [activation] = await invoices(story, contract, "ACTIVATION")
    assert fees(activation) == [D("1000.00"), D("750.00")]  # the first bill, then (12,000 − 3,000) ÷ 12
    january = await story.close(contract)
    assert fees(january) == [D("750.00")]


async def test_fee_dates_in_advance_are_billed_the_period_before_their_date(db: str) -> None:
    story = await Story.start("GBP")
    dates = [{"date": "2026-01-10", "amount": "3000"}, {"date": "2026-03-31", "amount": "4000"},
             {"date": "2026-07-01", "amount": "5000"}]
    contract = await contract_with(story, annual({"feeBilling": "FEE_DATES", "feeDates": dates}))
    [activation] = await invoices(story, contract, "ACTIVATION")
    assert fees(activation) == [D("3000.00")]
    closed = [fees(await story.close(contract)) for _ in range(12)]
    assert closed == [[], [D("4000.00")], [], [], [], [D("5000.00")], [], [], [], [], [], []]


async def test_a_commitment_starting_in_april_bills_its_first_fee_on_the_march_invoice(db: str) -> None:
    story = await Story.start("GBP")
    late = {**annual(), "startDate": "2026-04-01", "frequency": "QUARTERLY",
            "rampSteps": [{"fromWindow": 1, "amount": "3000"}]}
    contract = await contract_with(story, late)
    assert await invoices(story, contract, "ACTIVATION") == []  # nothing is due in January
    closed = [fees(await story.close(contract)) for _ in range(12)]
    assert closed == [[], []] + [[D("1000.00")]] * 9 + [[]]


async def test_in_advance_is_refused_on_a_postpaid_commitment(db: str) -> None:
    story = await Story.start("GBP")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    data = await story.run(
        "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { code field } } }",
        i={"accountId": await story.account(), "name": "Postpaid", "currency": "GBP", **YEAR,
           "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
           "commitments": [annual(payment="POSTPAID")]})
    errors = data["createContract"]["userErrors"]
    assert [e["code"] for e in errors] == ["INVALID_FEE_SCHEDULE"], errors
    assert errors[0]["field"].endswith("feeTiming"), errors


async def test_the_invoice_kind_filter(db: str) -> None:
    story = await Story.start("GBP")
    contract = await contract_with(story, annual())
    await story.close(contract)
    await story.close(contract)
    assert [i["kind"] for i in await invoices(story, contract)] == ["ACTIVATION", "PERIOD", "PERIOD"]
    assert [i["periodStart"] for i in await invoices(story, contract, "PERIOD")] == ["2026-01-01", "2026-02-01"]
    assert [i["number"][-3:] for i in await invoices(story, contract, "ACTIVATION")] == ["000"]
    node = await story.run("query($id: ID!) { node(id: $id) { ... on Contract { invoices { nodes { kind } } } } }",
                           id=contract)
    assert [i["kind"] for i in node["node"]["invoices"]] == ["ACTIVATION", "PERIOD", "PERIOD"]


async def test_activation_without_an_advance_fee_writes_no_invoice(db: str) -> None:
    story = await Story.start("GBP")
    in_arrears = await contract_with(story, {**annual(), "feeTiming": "IN_ARREARS"})
    assert await invoices(story, in_arrears) == []
    january = await story.close(in_arrears)
    assert fees(january) == [D("1000.00")]
    [only] = await invoices(story, in_arrears)
    assert only["kind"] == "PERIOD" and only["number"].endswith("-001")
    commitment = await story.run(
        "query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { feeTiming } } } } }", id=in_arrears)
    assert commitment["node"]["commitments"] == [{"feeTiming": "IN_ARREARS"}]


async def test_the_batched_close_bills_the_advance_fees_as_the_single_close_does(db: str) -> None:
    story = await Story.start("GBP")
    batched, single = await contract_with(story, annual()), await contract_with(story, annual())
    for month in (1, 2, 3):
        for contract in (batched, single):
            await story.usage(contract, "api-calls", "500", f"2026-{month:02d}-15T12:00:00Z", f"u{contract}{month}")
    for _ in range(3):
        await story.close(single)
    report = await close_due_periods(story.org, date(2026, 4, 2))
    assert (report.closed, report.failures) == (3, ())

    def seen(rows: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, D, str]]]]:
        return [(i["kind"], i["total"], [(x["type"], D(x["amount"]), x["servicePeriodStart"]) for x in i["lines"]])
                for i in rows]

    by_batch = seen(await invoices(story, batched))
    assert [fees_of[2] for fees_of in by_batch] == [
        [("COMMITMENT_FEE", D("1000.00"), "2026-01-01")]] + [
        [("USAGE", D("500.00"), f"2026-{m:02d}-01"), ("COMMITMENT_FEE", D("1000.00"), f"2026-{m + 1:02d}-01"),
         ("DRAWDOWN", D("-500.00"), f"2026-{m:02d}-01")] for m in (1, 2, 3)]
    assert by_batch == seen(await invoices(story, single))


async def test_update_commitment_sets_the_fee_timing_of_a_draft(db: str) -> None:
    story = await Story.start("GBP")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    draft = await story.run(
        """mutation($i: CreateContractInput!) { createContract(input: $i) {
             contract { id commitments { nodes { id feeTiming } } } userErrors { code } } }""",
        i={"accountId": await story.account(), "name": "Draft", "currency": "GBP", **YEAR,
           "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
           "commitments": [{**annual(), "feeTiming": "IN_ARREARS"}]})
    contract = draft["createContract"]["contract"]
    [commitment] = contract["commitments"]
    assert commitment["feeTiming"] == "IN_ARREARS"
    updated = await story.run(
        """mutation($id: ID!, $i: CommitmentInput!) { updateCommitment(id: $id, input: $i) {
             commitment { feeTiming } userErrors { code field } } }""", id=commitment["id"], i=annual())
    assert updated["updateCommitment"] == {"commitment": {"feeTiming": "IN_ADVANCE"}, "userErrors": []}
    activated = await story.run(
        "mutation($id: ID!) { activateContract(id: $id) { contract { status } userErrors { code } } }", id=contract["id"])
    assert activated["activateContract"]["contract"]["status"] == "ACTIVE"
    assert [fees(i) for i in await invoices(story, contract["id"], "ACTIVATION")] == [[D("1000.00")]]


TERMINATE = """mutation($c: ID!, $e: Date!) { terminateContract(contractId: $c, endDate: $e, reason: "leaving") {
  contract { status endDate } userErrors { code field message } } }"""


async def test_a_termination_credits_an_instalment_billed_in_advance(db: str) -> None:
    """£12,000 a year billed monthly in advance: activation, January and February invoices bill
    January's, February's and March's £1,000. Terminated on 1 April with nothing used: T′ = 12,000 ×
    90/365 = £2,958.90, so the final (March) invoice credits £3,000 − £2,958.90 = £41.10."""
    story = await Story.start("GBP")
    contract = await contract_with(story, annual())
    january, february = await story.close(contract), await story.close(contract)
    assert (fees(january), fees(february)) == ([D("1000.00")], [D("1000.00")])
    done = (await story.run(TERMINATE, c=contract, e="2026-04-01"))["terminateContract"]
    assert done["userErrors"] == [] and done["contract"]["endDate"] == "2026-04-01", done
    march = await story.close(contract)
    assert fees(march) == [D("-41.10")]
    assert sum((sum(fees(i), D(0)) for i in await invoices(story, contract)), D(0)) == D("2958.90")
    status = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { status } } }", id=contract))
    assert status["node"]["status"] == "ENDED"


async def test_an_amendment_re_plans_fees_billed_in_advance_from_the_first_unbilled_period(db: str) -> None:
    """$1,000 a month prepaid, billed monthly in advance; from July $1,500. The June invoice already
    billed July's $1,000 in advance, so the rest (15,000 − 7,000 = 8,000) is spread over August to
    December: $1,600 a month, billed on the July to November invoices."""
    story = await Story.start("GBP")
    monthly = {"name": "Monthly credit", "type": "SPEND", "payment": "PREPAID", "frequency": "MONTHLY",
               "rampSteps": [{"fromWindow": 1, "amount": "1000"}], "feeTiming": "IN_ADVANCE"}
    contract = await contract_with(story, monthly)
    first_half = [await story.close(contract) for _ in range(6)]
    assert all(fees(i) == [D("1000.00")] for i in first_half)
    commitment = (await story.run("query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { id } } } } }",
                                  id=contract))["node"]["commitments"][0]["id"]
    done = (await story.run(
        """mutation($c: ID!, $ch: ContractChangesInput!) { amendContract(contractId: $c, expectedVersion: 1,
             effectiveDate: "2026-07-01", reason: "second half", changes: $ch) { userErrors { code field message } } }""",
        c=contract, ch={"rampChanges": [{"commitmentId": commitment, "rampSteps": [{"fromWindow": 7, "amount": "1500"}]}]}))
    assert done["amendContract"]["userErrors"] == [], done
    second_half = [await story.close(contract) for _ in range(6)]
    assert [fees(i) for i in second_half] == [[D("1600.00")]] * 5 + [[]]
    total = sum((sum(fees(i), D(0)) for i in await invoices(story, contract)), D(0))
    assert total == D("15000.00")
