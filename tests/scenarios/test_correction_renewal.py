"""A correction of a contract whose last window rolled credit into its renewal (SPEC §15, §17).

Twin contracts over Q1 2026, billed monthly, each with a quarterly prepaid $3,000 commitment and full
rollover, each renewed for Q2 (the renewal ACTIVE before the old contract's last close): 500 units a
month, and the on-time twin has 600 more units on 20 March from the start. The late twin gets those
600 units in April, after its last close rolled $1,500 into its renewal instead of $900. The
correction brings the renewal's rollover pool to what the on-time twin's renewal received (an
``ADJUST`` on the successor's pool, named by the old contract's adjustment); if the renewal has
already drawn on that credit, the pool gives what it holds and the rest stays billed on the old
contract (the rule for credit other contracts draw on). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.clock import frozen_clock
from tests.scenarios.story import Story
from tests.scenarios.test_corrections import CORRECT, send, state
from tests.scenarios.test_renewal import activate, renew

Q1 = {"startDate": "2026-01-01", "endDate": "2026-04-01", "billingFrequency": "MONTHLY"}
QUARTERLY = {"name": "Quarterly credit", "type": "SPEND", "payment": "PREPAID", "frequency": "QUARTERLY",
             "rampSteps": [{"fromWindow": 1, "amount": "3000"}], "rolloverFraction": "1"}
ENTRIES = """query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes { pools { nodes {
  key balance entries { nodes { kind amount runningBalance adjustment { number } } } } } } } } } }"""


async def renewed_pair(story: Story, name: str) -> tuple[str, str]:
    """A Q1 contract with the quarterly commitment and its ACTIVE renewal for Q2."""
    api = story.products.get("api-calls") or await story.product("api-calls", "USAGE_CLASS", "call")
    old = await story.contract({"accountId": await story.account(name), "name": name, "currency": "USD", **Q1,
                                "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
                                "commitments": [QUARTERLY]})
    new = (await renew(story, old, end="2026-07-01"))["contract"]["id"]
    await activate(story, new)
    return old, new


async def rollover_pool(story: Story, contract: str) -> dict[str, Any]:
    node = (await story.run(ENTRIES, id=contract))["node"]
    [pool] = [p for c in node["commitments"] for p in c["pools"] if p["key"].startswith("rollover:")]
    return dict(pool)


async def twins(story: Story) -> tuple[tuple[str, str], tuple[str, str]]:
    late, on_time = await renewed_pair(story, "Late"), await renewed_pair(story, "OnTime")
    for (old, _), prefix in ((late, "l"), (on_time, "o")):
        for month in (1, 2, 3):
            await send(story, old, "500", f"2026-{month:02d}-10", f"{prefix}-{month}")
    await send(story, on_time[0], "600", "2026-03-20", "o-late")
    for old, _ in (late, on_time):
        for _ in range(3):
            await story.close(old)
    return late, on_time


async def test_a_correction_brings_the_renewals_rolled_credit_to_the_on_time_amount(db: str) -> None:
    story = await Story.start("USD")
    with frozen_clock(date(2026, 4, 10)):
        late, on_time = await twins(story)
        assert D((await rollover_pool(story, late[1]))["balance"]) == D("1500.00")
        assert D((await rollover_pool(story, on_time[1]))["balance"]) == D("900.00")
        sent = await send(story, late[0], "600", "2026-03-20", "l-late")
        assert sent["acceptedLate"] == 1, sent
        done = (await story.run(CORRECT, c=late[0]))["correctContract"]
        assert done["userErrors"] == [] and done["applied"] == 1
        pool = await rollover_pool(story, late[1])
        assert D(pool["balance"]) == D("900.00")
        assert [(e["kind"], D(e["amount"])) for e in pool["entries"]] == [
            ("ROLLOVER_IN", D("1500.00")), ("ADJUST", D("-600.00"))]
        assert pool["entries"][-1]["adjustment"] is not None
        corrected, reference = await state(story, late[0]), await state(story, on_time[0])
        again = (await story.run(CORRECT, c=late[0]))["correctContract"]
    assert [D(i["amountDue"]) for i in corrected["invoices"]] == [D(i["amountDue"]) for i in reference["invoices"]]
    assert again["adjustmentsWritten"] == 0


async def test_credit_the_renewal_has_used_since_stays_billed_on_the_old_contract(db: str) -> None:
    story = await Story.start("USD")
    with frozen_clock(date(2026, 5, 10)):
        late, _ = await twins(story)
        await send(story, late[1], "1200", "2026-04-10", "n-april")  # draws $1,200 of the $1,500 rolled
        await story.close(late[1])
        assert D((await rollover_pool(story, late[1]))["balance"]) == D("300.00")
        sent = await send(story, late[0], "600", "2026-03-20", "l-late")
        assert sent["acceptedLate"] == 1, sent
        done = (await story.run(CORRECT, c=late[0]))["correctContract"]
        assert done["userErrors"] == []
        pool = await rollover_pool(story, late[1])
        node = await state(story, late[0])
    assert D(pool["balance"]) == 0  # it gives what it holds, never goes negative
    assert all(D(e["runningBalance"]) >= 0 for e in pool["entries"])
    march = node["invoices"][-1]
    lines = [(l["type"], D(l["amount"])) for a in march["adjustments"] for l in a["lines"]]
    assert ("DRAWDOWN", D("300.00")) in lines  # the $300 the renewal has used since stays billed
