"""When a period may close (SPEC §12), through GraphQL: closeGraceDays, PERIOD_NOT_ENDED, closeDuePeriods."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.clock import frozen_clock
from app.db.models import Invoice, InvoiceLine, LedgerEntry
from tests.scenarios.story import Story

ORG = "{ organization { closeGraceDays } }"
SET_GRACE = """mutation($g: Int!) { updateOrganization(input: {closeGraceDays: $g}) {
  organization { closeGraceDays } userErrors { code field message } } }"""
CLOSE = """mutation($c: ID!, $s: Date) { closePeriod(contractId: $c, periodStart: $s) {
  invoice { periodStart total } userErrors { code field message } } }"""
DUE = """mutation($d: Date) { closeDuePeriods(asOf: $d) { closed asOf failures { code } } }"""


async def started(start: str, end: str, grace: int | None = None) -> tuple[Story, str]:
    story = await Story.start("USD")
    if grace is not None:
        assert (await story.run(SET_GRACE, g=grace))["updateOrganization"]["userErrors"] == []
    calls = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Timing", "currency": "USD", "startDate": start,
        "endDate": end, "billingFrequency": "MONTHLY",
        "prices": [{"usageClassId": calls, "model": "PER_UNIT", "unitAmount": "1"}],
    })
    return story, contract


async def close(story: Story, contract: str, start: str | None = None) -> dict[str, Any]:
    return dict((await story.run(CLOSE, c=contract, s=start))["closePeriod"])


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


# --- closeGraceDays --------------------------------------------------------------------------------


async def test_close_grace_days_defaults_to_one_and_takes_0_to_31(db: str) -> None:
    story = await Story.start()
    assert (await story.run(ORG))["organization"]["closeGraceDays"] == 1
    for days in (0, 31, 7):
        data = (await story.run(SET_GRACE, g=days))["updateOrganization"]
        assert data == {"organization": {"closeGraceDays": days}, "userErrors": []}
    for days in (-1, 32, 365):
        data = (await story.run(SET_GRACE, g=days))["updateOrganization"]
        assert data["organization"] is None
        assert codes(data) == [("INVALID_INPUT", "input.closeGraceDays")], days
    assert (await story.run(ORG))["organization"]["closeGraceDays"] == 7  # the refusals wrote nothing


async def test_other_fields_leave_close_grace_days_alone(db: str) -> None:
    story = await Story.start()
    await story.run(SET_GRACE, g=3)
    data = await story.run('mutation { updateOrganization(input: {name: "Renamed"}) { organization { name closeGraceDays } } }')
    assert data["updateOrganization"]["organization"] == {"name": "Renamed", "closeGraceDays": 3}


# --- closePeriod -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("grace", "refused_on", "closes_on"), [
    (1, date(2026, 2, 1), date(2026, 2, 2)),  # SPEC §19 example 7
    (0, date(2026, 1, 31), date(2026, 2, 1)),
])
async def test_january_is_not_ended_on_15_january_and_closes_from_end_plus_grace(
        db: str, grace: int, refused_on: date, closes_on: date) -> None:
    story, contract = await started("2026-01-01", "2027-01-01", grace)
    await story.usage(contract, "api-calls", "9", "2026-01-10T12:00:00Z", "jan-10")
    entries = await LedgerEntry.all().count()
    for day in (date(2026, 1, 15), refused_on):
        with frozen_clock(day):
            assert codes(await close(story, contract)) == [("PERIOD_NOT_ENDED", "contractId")]
            refused = await close(story, contract, "2026-01-01")
            assert refused["invoice"] is None
            assert codes(refused) == [("PERIOD_NOT_ENDED", "periodStart")]
            assert "closeGraceDays" in refused["userErrors"][0]["message"]
    assert (await Invoice.all().count(), await InvoiceLine.all().count()) == (0, 0)
    assert await LedgerEntry.all().count() == entries
    with frozen_clock(closes_on):
        closed = await close(story, contract)
    assert closed == {"invoice": {"periodStart": "2026-01-01", "total": "9.00"}, "userErrors": []}
    with frozen_clock(date(2026, 1, 15)):  # closed is closed: its invoice, whatever the day
        assert (await close(story, contract, "2026-01-01"))["invoice"] == closed["invoice"]


async def test_the_finding_ten_retries_on_1_december_leave_december_open_for_its_usage(db: str) -> None:
    """On 1 December, closePeriod without periodStart retried ten times used to bill December,
    January, … ten periods ahead; usage dated 20 December was then refused forever."""
    story, contract = await started("2026-12-01", "2027-12-01")
    with frozen_clock(date(2026, 12, 1)):
        answers = [await close(story, contract) for _ in range(10)]
    assert all(a["invoice"] is None and codes(a) == [("PERIOD_NOT_ENDED", "contractId")] for a in answers)
    assert await Invoice.all().count() == 0
    with frozen_clock(date(2026, 12, 20)):
        await story.usage(contract, "api-calls", "20", "2026-12-20T12:00:00Z", "dec-20")  # accepted
    with frozen_clock(date(2027, 1, 2)):
        december = await close(story, contract)
    assert december == {"invoice": {"periodStart": "2026-12-01", "total": "20.00"}, "userErrors": []}


# --- closeDuePeriods -------------------------------------------------------------------------------


@pytest.mark.parametrize(("as_of", "closed", "ran_as_of"), [
    ("2030-01-01", 2, "2026-03-15"),  # after today: counts as today
    (None, 2, "2026-03-15"),
    ("2026-03-01", 1, "2026-03-01"),  # February is due from 2 March
])
async def test_close_due_periods_never_closes_beyond_today(db: str, as_of: str | None, closed: int,
                                                          ran_as_of: str) -> None:
    story, contract = await started("2026-01-01", "2027-01-01")
    with frozen_clock(date(2026, 3, 15)):
        data = (await story.run(DUE, d=as_of))["closeDuePeriods"]
        assert data == {"closed": closed, "asOf": ran_as_of, "failures": []}
        await story.usage(contract, "api-calls", "1", "2026-03-14T12:00:00Z", "mar-14")  # March is still open
    assert await Invoice.all().count() == closed
