"""Corrections on a balance other contracts draw on (SPEC §17), through GraphQL on both databases.

Contract L and its neighbour N share the account's balance G of 100 ($1 a unit). L's January closes
drawing 60, then N's January draws the other 40. Forty units of L's January arrive late: replayed on
time, L's January draws all 100, so N's draw (replayed before L's February) meets an empty balance
and takes nothing, and what G cannot give L now (40: N has it) stays billed on L as a held-back
line. Each test failed before the fix it names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.clock import frozen_clock
from tests.scenarios.story import Story
from tests.scenarios.test_corrections import send
from tests.scenarios.test_corrections_again import QUARTERLY_CREDIT, correct, pools, state

BALANCE = """mutation($i: CreateBalanceInput!) { createBalance(input: $i) { balance { id } userErrors { code } } }"""
TOP_UP = """mutation($b: ID!, $a: Decimal!) { topUpBalance(balanceId: $b, amount: $a) { userErrors { code } } }"""
NOTES = """query($c: ID!) { invoices(contractId: $c) { nodes { periodStart amountDue
  adjustments { nodes { total lines { nodes { type amount heldBack description } } } } } } }"""


async def shared_balance() -> tuple[Story, str, str, str]:
    """L and N on one account with the balance G of 100; January closed (L first) and February of L."""
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account("A")
    made = await story.run(BALANCE, i={"accountId": account, "name": "G", "currency": "USD", "amount": "100",
                                       "startDate": "2026-01-01", "endDate": "2027-01-01"})
    assert made["createBalance"]["userErrors"] == []
    spec = {"accountId": account, "currency": "USD", "startDate": "2026-01-01", "endDate": "2027-01-01",
            "billingFrequency": "MONTHLY", "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}]}
    late, neighbour = await story.contract({**spec, "name": "L"}), await story.contract({**spec, "name": "N"})
    with frozen_clock(date(2026, 3, 2)):
        await send(story, late, "60", "2026-01-10", "l1")
        await send(story, neighbour, "40", "2026-01-10", "n1")
        await story.close(late)
        await story.close(neighbour)
        await story.close(late)  # February: no usage
    return story, late, neighbour, made["createBalance"]["balance"]["id"]


async def notes(story: Story, contract: str) -> list[dict[str, Any]]:
    return list((await story.run(NOTES, c=contract))["invoices"])


def owed(invoices: list[dict[str, Any]]) -> D:
    return sum((D(i["amountDue"]) for i in invoices), D(0))


def held(invoices: list[dict[str, Any]]) -> list[D]:
    return [D(line["amount"]) for i in invoices for a in i["adjustments"] for line in a["lines"] if line["heldBack"]]


async def test_a_neighbours_draw_meeting_a_balance_the_replay_emptied_takes_nothing(db: str) -> None:
    """Before the fix the replayed draw of N became a zero CONSUME: INVALID_LEDGER_ENTRY."""
    story, late, _, _ = await shared_balance()
    with frozen_clock(date(2026, 3, 3)):
        assert (await send(story, late, "40", "2026-01-20", "l-late"))["acceptedLate"] == 1
        done = await correct(story, late)
        assert done["applied"] == 1
        invoices = await notes(story, late)
    assert owed(invoices) == D("40.00")  # 100 units used, 60 drawn from G: the 40 N took stay billed
    assert held(invoices) == [D("40.00")]
    assert [line["description"] for i in invoices for a in i["adjustments"] for line in a["lines"]
            if line["heldBack"]] == ['not drawn: the account balance (2026) no longer holds it (used by another contract or expired)']


async def test_what_was_held_back_is_billed_once_across_later_closes_and_corrections(db: str) -> None:
    """Before the fix a correction after a later close billed the 40 held back again (90 owed, not
    50), and one reaching back to January rewrote it (a reversal and a new line)."""
    story, late, _, _ = await shared_balance()
    with frozen_clock(date(2026, 4, 2)):
        await send(story, late, "40", "2026-01-20", "l-late")
        await correct(story, late)
        await story.close(late)  # March
        assert (await send(story, late, "10", "2026-03-20", "l-late-2"))["acceptedLate"] == 1
        await correct(story, late)
        assert owed(await notes(story, late)) == D("50.00")  # 90 before the fix
        await send(story, late, "1", "2026-01-21", "l-late-3")
        await correct(story, late)
        invoices = await notes(story, late)
        assert (await correct(story, late))["adjustmentsWritten"] == 0
    assert owed(invoices) == D("51.00")
    assert held(invoices) == [D("40.00")]  # written once: G is empty in the replay for the later units too


async def test_a_top_up_since_gives_what_was_held_back(db: str) -> None:
    """G is topped up after the first correction: the next one draws the 40 it held back and credits
    them ("drawn now"); L then owes only its new late usage, which February's close could not draw."""
    story, late, _, balance = await shared_balance()
    with frozen_clock(date(2026, 3, 3)):
        await send(story, late, "40", "2026-01-20", "l-late")
        await correct(story, late)
        assert (await story.run(TOP_UP, b=balance, a="100"))["topUpBalance"]["userErrors"] == []
        await send(story, late, "5", "2026-02-20", "l-late-2")
        await correct(story, late)
        invoices = await notes(story, late)
    assert held(invoices) == [D("40.00"), D("-40.00")]
    assert [line["description"] for i in invoices for a in i["adjustments"] for line in a["lines"]
            if line["heldBack"]][1] == 'drawn now: the account balance (2026) gives what an earlier correction could not draw'
    assert owed(invoices) == D("5.00")
    after = await story.run("""query($b: ID!) { node(id: $b) { ... on Balance { remaining } } }""", b=balance)
    assert D(after["node"]["remaining"]) == D("60.00")  # 200 issued: L drew 100, N 40


async def test_a_second_correction_after_one_that_created_a_pool_now_empty(db: str) -> None:
    """Volume pricing: late January units lower Q1's spend, so the replay rolls 450 into Q2 and April
    uses it all: the first correction creates that pool with no movement on it. A second correction
    failed before the fix ("pool already exists"). The twin had all its usage on time."""
    story = await Story.start("USD")
    await story.run("mutation { updateOrganization(input: {correctionWindowDays: 365}) { userErrors { code } } }")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    spec = {"currency": "USD", "startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY",
            "prices": [{"usageClassId": api, "model": "VOLUME", "tiers": [
                {"upTo": "1000", "unitAmount": "1", "flatAmount": "0"},
                {"upTo": None, "unitAmount": "0.5", "flatAmount": "0"}]}],
            "commitments": [QUARTERLY_CREDIT]}
    late = await story.contract({**spec, "accountId": await story.account("L"), "name": "L"})
    on_time = await story.contract({**spec, "accountId": await story.account("O"), "name": "O"})
    with frozen_clock(date(2026, 5, 5)):
        for contract, extra in ((late, (0, 0)), (on_time, (100, 1))):
            for month, quantity in ((1, 1000 + extra[0]), (2, 1000 + extra[1]), (3, 1000), (4, 1000)):
                await send(story, contract, str(quantity), f"2026-{month:02d}-10", f"{contract}-{month}")
            for _ in range(4):
                await story.close(contract)
        await send(story, late, "100", "2026-01-11", "late-1")
        await correct(story, late)
        assert ("rollover:1", D("0")) in pools(await state(story, late))
        await send(story, late, "1", "2026-02-11", "late-2")
        assert (await correct(story, late))["applied"] == 1
        corrected, reference = await notes(story, late), await notes(story, on_time)
        assert [(i["periodStart"], i["amountDue"]) for i in corrected] == \
               [(i["periodStart"], i["amountDue"]) for i in reference]
        assert pools(await state(story, late)) == pools(await state(story, on_time))
