"""Make-good (SPEC §18, example 11) end to end through GraphQL: a shortfall carried into the next
window, recovered by its excess, what is left billed at its end on lines naming the carried
window. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.clock import frozen_clock
from tests.scenarios.story import Story, amounts
from tests.scenarios.test_corrections import CORRECT, state

QUARTER = {"startDate": "2026-01-01", "endDate": "2026-04-01", "billingFrequency": "MONTHLY"}

CLOSE = """mutation($c: ID!) { closePeriod(contractId: $c) {
  invoice { total lines { nodes { type amount description windowNumber servicePeriodStart } } }
  userErrors { code field message } } }"""

WINDOWS = """query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { makeGood
  windows { nodes { number measured shortfall settled carriedShortfall recovered } } } } } } }"""


def at(month: int) -> str:
    return f"2026-{month:02d}-15T12:00:00Z"


async def close(story: Story, contract: str) -> dict[str, Any]:
    data = (await story.run(CLOSE, c=contract))["closePeriod"]
    assert data["userErrors"] == [], data
    return dict(data["invoice"])


def lines(invoice: dict[str, Any], line_type: str) -> list[tuple[int, D]]:
    return [(line["windowNumber"], D(line["amount"])) for line in invoice["lines"] if line["type"] == line_type]


async def windows(story: Story, contract: str) -> list[dict[str, Any]]:
    commitment = (await story.run(WINDOWS, id=contract))["node"]["commitments"][0]
    assert commitment["makeGood"] is True
    return list(commitment["windows"])


async def gb_contract(story: Story, usage: dict[int, str], *, end: str = "2026-04-01") -> str:
    """A monthly usage commitment of 1,000 GB with makeGood and COUNT {0.01} per GB short."""
    gb = await story.product("data-gb", "USAGE_CLASS", "GB")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Make-good data", "currency": "GBP",
        **{**QUARTER, "endDate": end},
        "prices": [{"usageClassId": gb, "model": "PER_UNIT", "unitAmount": "0"}],
        "commitments": [{
            "name": "Data 1 TB", "type": "USAGE", "usageClassId": gb, "frequency": "MONTHLY",
            "rampSteps": [{"fromWindow": 1, "amount": "1000"}], "makeGood": True,
            "penalties": [{"kind": "COUNT", "rate": "0.01"}],
        }],
    })
    for month, quantity in usage.items():
        await story.usage(contract, "data-gb", quantity, at(month), f"u{month}")
    return contract


async def test_example_11_january_carries_200_february_recovers_150_and_bills_0_50_naming_january(db: str) -> None:
    story = await Story.start("GBP")
    contract = await gb_contract(story, {1: "800", 2: "1150"})
    january = await close(story, contract)
    assert lines(january, "PENALTY") == [] and D(january["total"]) == 0
    first = (await windows(story, contract))[0]
    assert (D(first["shortfall"]), D(first["carriedShortfall"]), first["recovered"]) == (D(200), D(200), None)
    february = await close(story, contract)
    assert lines(february, "PENALTY") == [(1, D("0.50"))]
    penalty = next(line for line in february["lines"] if line["type"] == "PENALTY")
    assert penalty["servicePeriodStart"] == "2026-01-01" and "50 short" in penalty["description"]
    assert D(february["total"]) == D("0.50")
    jan, feb, _ = await windows(story, contract)
    assert (D(jan["carriedShortfall"]), D(jan["recovered"])) == (D(200), D(150))
    assert feb["carriedShortfall"] is None and D(feb["measured"]) == D(1150)


async def test_a_shortfall_never_recovered_is_settled_in_full_at_the_last_windows_end_with_its_own(db: str) -> None:
    story = await Story.start("GBP")
    contract = await gb_contract(story, {1: "800", 2: "900"}, end="2026-03-01")
    january, february = await close(story, contract), await close(story, contract)
    assert lines(january, "PENALTY") == []
    assert sorted(lines(february, "PENALTY")) == [(1, D("2.00")), (2, D("1.00"))]
    jan, feb = await windows(story, contract)
    assert (D(jan["carriedShortfall"]), D(jan["recovered"])) == (D(200), D(0))
    assert feb["carriedShortfall"] is None  # the last window settles its own shortfall


async def test_a_window_that_received_a_carry_settles_its_own_with_it_and_the_next_carries_afresh(db: str) -> None:
    story = await Story.start("GBP")
    contract = await gb_contract(story, {1: "800", 2: "900", 3: "1040"})
    january, february, march = [await close(story, contract) for _ in range(3)]
    assert lines(january, "PENALTY") == []
    # January's 200 and February's own 100, together (SPEC §18); nothing carried into March.
    assert sorted(lines(february, "PENALTY")) == [(1, D("2.00")), (2, D("1.00"))]
    assert lines(march, "PENALTY") == [] and D(march["total"]) == 0
    assert [w["carriedShortfall"] for w in await windows(story, contract)] == ["200", None, None]


async def test_whether_a_window_carried_follows_from_the_run_of_short_windows_before_it(db: str) -> None:
    # May's close reads the kept figures back to January: January met its commitment, February
    # carried, March settled both, so April (nothing carried into it) carried its own 300, of
    # which May's excess recovers 40.
    story = await Story.start("GBP")
    contract = await gb_contract(story, {1: "1000", 2: "800", 3: "900", 4: "700", 5: "1040"}, end="2026-06-01")
    invoices = [await close(story, contract) for _ in range(5)]
    assert [sorted(lines(i, "PENALTY")) for i in invoices] == [
        [], [], [(2, D("2.00")), (3, D("1.00"))], [], [(4, D("2.60"))]
    ]
    assert [w["carriedShortfall"] for w in await windows(story, contract)] == [None, "200", None, "300", None]


async def test_postpaid_spend_make_good_bills_the_true_up_of_what_is_left_naming_the_carried_window(db: str) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Make-good minimum", "currency": "USD", **QUARTER,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Monthly minimum", "type": "SPEND", "payment": "POSTPAID", "frequency": "MONTHLY",
            "rampSteps": [{"fromWindow": 1, "amount": "1000"}], "makeGood": True,
        }],
    })
    for month, quantity in {1: "600", 2: "1250", 3: "700"}.items():
        await story.usage(contract, "api-calls", quantity, at(month), f"u{month}")
    january, february, march = [await close(story, contract) for _ in range(3)]
    assert amounts(january, "TRUE_UP") == [] and D(january["total"]) == D("600.00")
    assert lines(february, "TRUE_UP") == [(1, D("150.00"))]  # 400 carried, 250 recovered
    assert D(february["total"]) == D("1400.00")
    assert lines(march, "TRUE_UP") == [(3, D("300.00"))]  # the last window settles its own
    pools = await story.run("""query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes {
      pools { nodes { key balance entries { nodes { kind amount } } } } } } } } }""", id=contract)
    jan_pool = next(p for p in pools["node"]["commitments"][0]["pools"] if p["key"].endswith(":0"))
    assert D(jan_pool["balance"]) == 0
    assert [(e["kind"], D(e["amount"])) for e in jan_pool["entries"]] == [
        ("ISSUE", D(1000)), ("CONSUME", D(-600)), ("EXPIRE", D(-400))]


async def test_make_good_is_refused_on_a_prepaid_commitment(db: str) -> None:
    story = await Story.start("USD")
    data = await story.run(
        "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { code field message } } }",
        i={"accountId": await story.account(), "name": "Prepaid", "currency": "USD", **QUARTER,
           "commitments": [{"name": "Credit", "type": "SPEND", "payment": "PREPAID", "frequency": "MONTHLY",
                            "rampSteps": [{"fromWindow": 1, "amount": "1000"}], "makeGood": True}]},
    )
    errors = data["createContract"]["userErrors"]
    assert data["createContract"]["contract"] is None
    assert [e["code"] for e in errors] == ["INVALID_COMMITMENT"]
    assert "makeGood" in errors[0]["message"] and errors[0]["field"].endswith("makeGood")


async def test_renewal_copies_make_good(db: str) -> None:
    story = await Story.start("GBP")
    contract = await gb_contract(story, {})
    data = await story.run("""mutation($c: ID!, $e: Date!) { renewContract(contractId: $c, endDate: $e) {
      contract { commitments { nodes { makeGood renews { id } } } } userErrors { code message } } }""",
                           c=contract, e="2026-07-01")
    assert data["renewContract"]["userErrors"] == []
    [copy] = data["renewContract"]["contract"]["commitments"]
    assert copy["makeGood"] is True and copy["renews"] is not None


async def test_a_correction_recomputes_what_was_carried(db: str) -> None:
    """January 800 GB carried 200 and February 900 settled both (2.00 + 1.00). Then 200 GB of
    January arrive late: January met its commitment, so February carried its own 100 instead of
    settling it — February's correction credits 3.00 — and March's excess recovers 40 of it."""
    story = await Story.start("GBP")
    contract = await gb_contract(story, {1: "800", 2: "900", 3: "1040"})
    with frozen_clock(date(2026, 3, 10)):
        january, february = await close(story, contract), await close(story, contract)
        assert sorted(lines(february, "PENALTY")) == [(1, D("2.00")), (2, D("1.00"))]
        await story.usage(contract, "data-gb", "200", at(1), "late-jan")
        done = (await story.run(CORRECT, c=contract))["correctContract"]
        assert (done["applied"], done["adjustmentsWritten"], done["userErrors"]) == (1, 1, [])
        node = await state(story, contract)
        notes = [(a["kind"], [(l["type"], D(l["amount"])) for l in a["lines"]]) for a in node["invoices"][1]["adjustments"]]
        assert notes == [("CREDIT_NOTE", [("PENALTY", D("-2.00")), ("PENALTY", D("-1.00"))])]
        assert [w["carriedShortfall"] for w in await windows(story, contract)] == [None, "100", None]
    with frozen_clock(date(2026, 4, 10)):
        march = await close(story, contract)
    assert lines(march, "PENALTY") == [(2, D("0.60"))]
    jan, feb, mar = await windows(story, contract)
    assert (D(jan["shortfall"]), D(feb["carriedShortfall"]), D(feb["recovered"])) == (D(0), D(100), D(40))
