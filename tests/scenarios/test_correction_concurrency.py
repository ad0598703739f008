"""A correction racing an ingest, a close or an amendment of the same contract (SPEC §17: they never
interleave), with real concurrent transactions on PostgreSQL.

Every race runs in one of three ways:

- ``gather``: both mutations at once through GraphQL (``asyncio.gather``, each in its own
  transaction on its own pool connection), several rounds, whatever order the server picks;
- one side *holds the lock*: it is paused right after it took the contract row lock (a wrapper
  around the service's first call under the lock), the other side is started as a separate task,
  and the test waits until PostgreSQL shows that task's transaction waiting on a lock
  (``pg_stat_activity``, from a connection of its own) before letting the first go on. So both
  serial orders are forced, and the second one is seen to wait for the lock.

Whatever the order, the outcome is checked against a twin contract that got the same data on time
(and, for the amendment, against the two serial orders run on twins): every period's amount due
(invoice plus adjustments) and every pool's balance are the twin's, every pool's balance is the sum
of its ledger entries and none is negative, every late datum is applied exactly once, and a
further correction writes nothing.

The contract of the stories: 2026, billed monthly in USD, api-calls at $1.00 a unit, a $1,200
annual PREPAID commitment with a 10 % overage surcharge (so the late usage moves a pool and the
overage it leaves). The clock is frozen on 10 March 2026: January and February may close, and their
late data is within the 60-day correction window. (The rollover story has its own contract and
day.)

The serial stories at the end run on SQLite too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal as D
from typing import Any

import asyncpg
import pytest
from tortoise import connections

from app.api import ids
from app.clock import frozen_clock
from app.db.models import Adjustment, CreditPool, Invoice, LateData, LedgerEntry
from app.services import amendment, closing, corrections, usage_store
from app.services.closing import close_due_periods
from app.services.corrections import correct_pending
from tests.scenarios.story import Story

TODAY = date(2026, 3, 10)
YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}
PREPAID = {"name": "Annual credit", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
           "rampSteps": [{"fromWindow": 1, "amount": "1200"}], "overageSurchargePercent": "10"}

RECORD = """mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted acceptedLate
  results { status code message } } }"""
CORRECT = """mutation($c: ID!) { correctContract(contractId: $c) { applied adjustmentsWritten
  userErrors { code field message } } }"""
CLOSE = """mutation($c: ID!) { closePeriod(contractId: $c) { invoice { periodStart total }
  userErrors { code field message } } }"""
AMEND = """mutation($c: ID!, $ch: ContractChangesInput!) {
  amendContract(contractId: $c, expectedVersion: 1, effectiveDate: "2026-02-01", reason: "price rise", changes: $ch) {
    contract { version } userErrors { code field message } } }"""
STATE = """query($id: ID!) { node(id: $id) { ... on Contract { version
  versions { nodes { number effectiveDate } }
  lateData(pending: false) { nodes { kind day quantity appliedAt } }
  invoices { nodes { periodStart version total amountDue lines { nodes { type amount } }
    adjustments { nodes { kind source total lines { nodes { type amount } } } } } }
  commitments { nodes { pools { nodes { balance entries { nodes { kind amount } } } } } } } } }"""


# --- the stories' contracts --------------------------------------------------------------------------

def pk(contract_id: str) -> int:
    """The row id of a contract's global id."""
    return ids.decode(contract_id, "Contract", "contractId")


async def contract(story: Story, name: str, commitment: dict[str, Any] = PREPAID) -> str:
    api = story.products.get("api-calls") or await story.product("api-calls", "USAGE_CLASS", "call")
    return await story.contract({"accountId": await story.account(name), "name": name, "currency": "USD", **YEAR,
                                 "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
                                 "commitments": [commitment]})


async def send(story: Story, contract_id: str, quantity: str, day: str, key: str) -> dict[str, Any]:
    data = await story.run(RECORD, e=[{"contractId": contract_id, "usageClass": "api-calls", "quantity": quantity,
                                       "timestamp": f"{day}T12:00:00Z", "idempotencyKey": f"{contract_id}-{key}"}])
    answer = dict(data["recordUsage"])
    assert answer["accepted"] == 1, answer
    return answer


async def after(seconds: float, step: Awaitable[Any]) -> Any:
    """``step``, started a little later (to vary which writer reaches the lock first; the checks
    never depend on the order)."""
    await asyncio.sleep(seconds)
    return await step


async def correct(story: Story, contract_id: str) -> dict[str, Any]:
    done = dict((await story.run(CORRECT, c=contract_id))["correctContract"])
    assert done["userErrors"] == [], done
    return done


async def close(story: Story, contract_id: str) -> dict[str, Any]:
    done = (await story.run(CLOSE, c=contract_id))["closePeriod"]
    assert done["userErrors"] == [], done
    return dict(done["invoice"])


async def amend(story: Story, contract_id: str) -> dict[str, Any]:
    api = story.products["api-calls"]
    done = dict((await story.run(AMEND, c=contract_id, ch={
        "setPrices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1.20"}]}))["amendContract"])
    assert done["userErrors"] == [], done
    return done


async def state(story: Story, contract_id: str) -> dict[str, Any]:
    return dict((await story.run(STATE, id=contract_id))["node"])


def billed(node: dict[str, Any]) -> list[tuple[str, D, D]]:
    """Per invoice: (period start, invoice total, amount due = total plus its adjustments)."""
    return [(i["periodStart"], D(i["total"]), D(i["amountDue"])) for i in node["invoices"]]


def due(node: dict[str, Any]) -> list[tuple[str, D]]:
    return [(start, amount_due) for start, _, amount_due in billed(node)]


def balances(node: dict[str, Any]) -> list[D]:
    return [D(p["balance"]) for c in node["commitments"] for p in c["pools"]]


def notes(node: dict[str, Any]) -> dict[str, list[D]]:
    """Period start → the totals of the corrections' notes on its invoice."""
    return {i["periodStart"]: [D(a["total"]) for a in i["adjustments"] if a["source"] == "CORRECTION"]
            for i in node["invoices"]}


async def assert_ledger_holds(story: Story) -> None:
    """Every pool of the organization: its balance is the sum of its entries, and not negative."""
    pools = await CreditPool.filter(organization_id=story.org)
    assert pools
    for pool in pools:
        entries = await LedgerEntry.filter(organization_id=story.org, pool_id=pool.id).values_list("amount", flat=True)
        assert pool.balance == sum(entries, D(0)), (pool.key, pool.balance, entries)
        assert pool.balance >= 0, (pool.key, pool.balance)


async def assert_settled(story: Story, contract_id: str, reference: dict[str, Any], late: int) -> dict[str, Any]:
    """The corrected contract bills what its on-time ``reference`` bills, every late datum applied
    once, and a further correction writes nothing."""
    node = await state(story, contract_id)
    assert due(node) == due(reference)
    assert balances(node) == balances(reference)
    assert len(node["lateData"]) == late and all(d["appliedAt"] for d in node["lateData"]), node["lateData"]
    await assert_ledger_holds(story)
    again = await correct(story, contract_id)
    assert (again["applied"], again["adjustmentsWritten"]) == (0, 0)
    assert await state(story, contract_id) == node
    return node


# --- PostgreSQL: forcing one order --------------------------------------------------------------------

@contextlib.asynccontextmanager
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own to the test database (outside the service's pool)."""
    database = connections.get("default").database  # type: ignore[attr-defined]
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database=database)
    try:
        yield conn
    finally:
        await conn.close()


async def until_waiting_on_a_lock(conn: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Return once a transaction of the test database waits on a lock (bounded: the test fails
    after 10 s rather than hang). The task must not have finished: it is the one waiting."""
    for _ in range(1000):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
        if waiting:
            assert not task.done()
            return
        assert not task.done(), (
            f"the second writer finished without waiting for the lock: {task.exception() or task.result()!r}")
        await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the contract's lock")


class Hold:
    """Pause the first call of ``module.name`` (a function a writer calls once it holds the contract
    row lock) until ``release``: the writer then holds the lock while the other one starts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, *, after: bool = False) -> None:
        self.held, self.release, self.used = asyncio.Event(), asyncio.Event(), False
        real: Callable[..., Awaitable[Any]] = getattr(module, name)

        async def paused(*args: Any, **kwargs: Any) -> Any:
            first, self.used = not self.used, True
            if first and not after:
                self.held.set()
                await self.release.wait()
            result = await real(*args, **kwargs)
            if first and after:
                self.held.set()
                await self.release.wait()
            return result

        monkeypatch.setattr(module, name, paused)


async def race_held(hold: Hold, first: Awaitable[Any], second: Callable[[], Awaitable[Any]]) -> tuple[Any, Any]:
    """``first`` takes the lock and is held there; ``second`` starts and waits on the lock; then
    ``first`` goes on. Both results, in that order. Both tasks are awaited whatever happens (a
    failed check leaves no transaction running into the next test)."""
    tasks = [asyncio.ensure_future(first)]
    try:
        await asyncio.wait_for(hold.held.wait(), 10)
        tasks.append(asyncio.ensure_future(second()))
        async with admin() as conn:
            await until_waiting_on_a_lock(conn, tasks[1])
    finally:
        hold.release.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 20)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results[0], results[1]


def hold_correction(monkeypatch: pytest.MonkeyPatch) -> Hold:
    """The correction, once it has locked the contract and read the pending late data."""
    return Hold(monkeypatch, corrections, "gather_replay")


def hold_ingest(monkeypatch: pytest.MonkeyPatch) -> Hold:
    """A recordUsage batch, once it has locked its contracts (FOR SHARE)."""
    return Hold(monkeypatch, usage_store, "lock_contracts", after=True)


def hold_close(monkeypatch: pytest.MonkeyPatch) -> Hold:
    """closePeriod, once it has locked the contract and picked its period."""
    return Hold(monkeypatch, closing, "close_locked")


def hold_amendment(monkeypatch: pytest.MonkeyPatch) -> Hold:
    """amendContract, once it has locked the contract."""
    return Hold(monkeypatch, amendment, "load_history")


# --- 1. a correction racing an ingest of more late usage ---------------------------------------------

async def ingest_story(story: Story, name: str) -> str:
    """January (1,000 units) and February (500) closed, then 150 units of January arrive late."""
    late = await contract(story, name)
    await send(story, late, "1000", "2026-01-10", "jan")
    await send(story, late, "500", "2026-02-10", "feb")
    await close(story, late), await close(story, late)
    assert (await send(story, late, "150", "2026-01-20", "late-jan"))["acceptedLate"] == 1
    return late


async def on_time(story: Story, usage: list[tuple[str, str]]) -> dict[str, Any]:
    """The twin: every unit on time, January and February closed."""
    twin = await contract(story, "OnTime")
    for n, (quantity, day) in enumerate(usage):
        await send(story, twin, quantity, day, f"on-time-{n}")
    await close(story, twin), await close(story, twin)
    return await state(story, twin)


INGEST_USAGE = [("1000", "2026-01-10"), ("500", "2026-02-10"), ("150", "2026-01-20"), ("100", "2026-02-20")]


async def test_the_twin_of_the_ingest_race_bills_the_expected_amounts(db: str) -> None:
    """1,150 units in January, all drawn from the $1,200 paid ahead (billed $100 a month as the
    commitment fee); 600 in February: $50 drawn, $550 of overage with its 10 % surcharge. The
    figures the races below are held to."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, INGEST_USAGE)
    assert [(s, t) for s, t, _ in billed(reference)] == [("2026-01-01", D("100.00")), ("2026-02-01", D("705.00"))]
    assert balances(reference) == [D("0")]


async def test_a_correction_racing_an_ingest_of_late_usage_loses_and_doubles_nothing(
        db: str, postgres_only: None) -> None:
    """Three rounds of a correction and an ingest of 100 more late units at once (asyncio.gather,
    in both argument orders, the correction started a little later in the second round): either
    the correction applied the new event, or it is still pending and the next correction applies
    it."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, INGEST_USAGE)
        for round_ in range(3):
            late = await ingest_story(story, f"Late{round_}")
            racers = [after(0.05 * (round_ % 2), correct(story, late)),
                      send(story, late, "100", "2026-02-20", "late-feb")]
            if round_ % 2:
                racers.reverse()
            answers = await asyncio.gather(*racers)
            fixed, sent = answers if round_ % 2 == 0 else answers[::-1]
            assert sent["acceptedLate"] == 1
            assert fixed["applied"] in (1, 2)
            pending = await LateData.filter(contract_id=pk(late), applied_at=None).values_list("ref", flat=True)
            assert pending == ([] if fixed["applied"] == 2 else [f"{late}-late-feb"])
            if pending:
                assert (await correct(story, late))["applied"] == 1
            await assert_settled(story, late, reference, late=2)


@pytest.mark.parametrize("first", ["correction", "ingest"])
async def test_a_correction_and_an_ingest_holding_the_lock_in_turn(
        db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch, first: str) -> None:
    """Each order forced: the second writer waits for the first's lock; a correction that came
    first leaves the new event pending (the next one applies it), one that came second applies it."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, INGEST_USAGE)
        late = await ingest_story(story, "Late")
        if first == "correction":
            fixed, sent = await race_held(hold_correction(monkeypatch), correct(story, late),
                                          lambda: send(story, late, "100", "2026-02-20", "late-feb"))
            assert fixed["applied"] == 1
            assert await LateData.filter(contract_id=pk(late), applied_at=None).count() == 1
            assert (await correct(story, late))["applied"] == 1
        else:
            sent, fixed = await race_held(hold_ingest(monkeypatch), send(story, late, "100", "2026-02-20", "late-feb"),
                                          lambda: correct(story, late))
            assert fixed["applied"] == 2
        assert sent["acceptedLate"] == 1
        await assert_settled(story, late, reference, late=2)


async def test_corrections_and_ingests_of_usage_and_charges_all_at_once(db: str, postgres_only: None) -> None:
    """Two corrections, two late usage batches and a late one-time charge of one contract at once:
    nothing lost, nothing counted twice."""
    story = await Story.start("USD")
    setup = await story.product("setup", "SERVICE", "fee")
    post = """mutation($i: PostChargeInput!) { postCharge(input: $i) { userErrors { code field } } }"""

    async def charge(contract_id: str) -> None:
        done = await story.run(post, i={"contractId": contract_id, "productId": setup, "amount": "250",
                                        "serviceDate": "2026-01-05", "idempotencyKey": f"{contract_id}-setup"})
        assert done["postCharge"]["userErrors"] == []

    with frozen_clock(TODAY):
        twin = await contract(story, "OnTime")
        for n, (quantity, day) in enumerate([*INGEST_USAGE, ("40", "2026-01-25")]):
            await send(story, twin, quantity, day, f"on-time-{n}")
        await charge(twin)
        await close(story, twin), await close(story, twin)
        reference = await state(story, twin)
        late = await ingest_story(story, "Late")
        await asyncio.gather(correct(story, late), send(story, late, "100", "2026-02-20", "late-feb"),
                             charge(late), correct(story, late), send(story, late, "40", "2026-01-25", "late-jan-2"))
        if await LateData.filter(contract_id=pk(late), applied_at=None).exists():
            await correct(story, late)
        node = await assert_settled(story, late, reference, late=4)
        assert sorted(d["kind"] for d in node["lateData"]) == ["ONE_TIME", "USAGE", "USAGE", "USAGE"]


# --- 2. a correction racing the close of the next due period -----------------------------------------

async def close_story(story: Story, name: str) -> str:
    """January (1,000 units) closed, February (500) due, then 150 units of January arrive late."""
    late = await contract(story, name)
    await send(story, late, "1000", "2026-01-10", "jan")
    await send(story, late, "500", "2026-02-10", "feb")
    await close(story, late)
    assert (await send(story, late, "150", "2026-01-20", "late-jan"))["acceptedLate"] == 1
    return late


CLOSE_USAGE = [("1000", "2026-01-10"), ("500", "2026-02-10"), ("150", "2026-01-20")]
# What February's close bills without the late units: $500 of usage, $200 left in the pool, $300 of
# overage (10 %: $30) and the $100 commitment fee.
FEBRUARY_WITHOUT_LATE = D("430.00")


async def check_close_race(story: Story, late: str, reference: dict[str, Any], correction_first: bool) -> None:
    """Both went through; if the correction came first the close billed February from the corrected
    pool (its invoice is the on-time one); if the close came first, February's invoice did not know
    the late units and the correction's note on it brings it to the on-time amount. One note per
    period at most, and the amounts due are the twin's."""
    node = await state(story, late)
    february = next(i for i in node["invoices"] if i["periodStart"] == "2026-02-01")
    on_time_february = next(i for i in reference["invoices"] if i["periodStart"] == "2026-02-01")
    if correction_first:
        assert february["total"] == on_time_february["total"]
        assert notes(node)["2026-02-01"] == []
    else:
        assert D(february["total"]) == FEBRUARY_WITHOUT_LATE != D(on_time_february["total"])
        assert notes(node)["2026-02-01"] == [D(on_time_february["total"]) - FEBRUARY_WITHOUT_LATE]
    assert all(len(totals) <= 1 for totals in notes(node).values()), notes(node)
    assert len(notes(node)["2026-01-01"]) == 1
    await assert_settled(story, late, reference, late=1)


async def order_of(late: str, closed: date = date(2026, 2, 1)) -> bool:
    """True if the correction committed before the close of the period starting ``closed`` (the
    lock serializes them, so the rows' creation times follow the order)."""
    note = await Adjustment.filter(contract_id=pk(late), source="CORRECTION").order_by("created_at").first()
    invoice = await Invoice.get(contract_id=pk(late), kind="PERIOD", period_start=closed)
    assert note is not None
    return note.created_at < invoice.created_at


async def test_the_twin_of_the_close_race_bills_the_expected_amounts(db: str) -> None:
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, CLOSE_USAGE)
    assert [(s, t) for s, t, _ in billed(reference)] == [("2026-01-01", D("100.00")), ("2026-02-01", D("595.00"))]
    assert balances(reference) == [D("0")]


async def test_a_correction_racing_the_close_of_the_next_period(db: str, postgres_only: None) -> None:
    """Three rounds of correctContract and closePeriod at once (asyncio.gather, both argument orders)."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, CLOSE_USAGE)
        for round_ in range(3):
            late = await close_story(story, f"Late{round_}")
            racers = [correct(story, late), close(story, late)]
            answers = await asyncio.gather(*(racers if round_ % 2 == 0 else racers[::-1]))
            fixed = answers[0] if round_ % 2 == 0 else answers[1]
            assert fixed["applied"] == 1
            await check_close_race(story, late, reference, await order_of(late))


@pytest.mark.parametrize("first", ["correction", "close"])
async def test_a_correction_and_a_close_holding_the_lock_in_turn(
        db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch, first: str) -> None:
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, CLOSE_USAGE)
        late = await close_story(story, "Late")
        if first == "correction":
            fixed, _ = await race_held(hold_correction(monkeypatch), correct(story, late), lambda: close(story, late))
        else:
            _, fixed = await race_held(hold_close(monkeypatch), close(story, late), lambda: correct(story, late))
        assert fixed["applied"] == 1
        assert await order_of(late) is (first == "correction")
        await check_close_race(story, late, reference, first == "correction")


async def test_the_scheduled_correction_racing_the_batched_due_close(db: str, postgres_only: None) -> None:
    """correct_pending (the scheduled run's correction) and close_due_periods (the batched close)
    at once: the same outcome as the single-contract mutations."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, CLOSE_USAGE)
        late = await close_story(story, "Late")
        report, reports = await asyncio.gather(close_due_periods(story.org), correct_pending(story.org))
        assert (report.closed, report.failures) == (1, ())
        assert [r.applied for r in reports] == [1]
        await check_close_race(story, late, reference, await order_of(late))


async def test_a_correction_the_close_and_more_usage_of_the_closing_period_at_once(
        db: str, postgres_only: None) -> None:
    """A correction, February's close and 100 more February units at once (three rounds): the units
    are on time if they came before the close, else late and pending for the next correction;
    either way the amounts due are those of a twin that got them on time."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, [*CLOSE_USAGE, ("100", "2026-02-20")])
        for round_ in range(3):
            late = await close_story(story, f"Late{round_}")
            racers = [correct(story, late), after(0.05 * round_, close(story, late)),
                      send(story, late, "100", "2026-02-20", "feb-2")]
            answers = await asyncio.gather(*racers[round_:], *racers[:round_])
            sent = next(a for a in answers if "acceptedLate" in a)
            pending = await LateData.filter(contract_id=pk(late), applied_at=None).count()
            assert pending <= sent["acceptedLate"]  # only late data waits for a correction
            if pending:
                assert (await correct(story, late))["applied"] == 1
            node = await assert_settled(story, late, reference, late=1 + sent["acceptedLate"])
            # at most one note per period from each of the (at most two) corrections that wrote
            assert all(len(totals) <= 2 for totals in notes(node).values()), notes(node)


ROLLOVER = {"name": "Quarterly credit", "type": "SPEND", "payment": "PREPAID", "frequency": "QUARTERLY",
            "rampSteps": [{"fromWindow": 1, "amount": "3000"}], "rolloverFraction": "1"}


@pytest.mark.parametrize("mode", ["gather", "correction", "close"])
async def test_a_correction_racing_the_close_that_rolls_the_credit_over(
        db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """$3,000 a quarter prepaid, full rollover: January and February closed, 600 units of February
    late, and the close of March (the end of the quarter, which rolls what is left into Q2) at
    the same time as the correction. Closed first, the close rolls $1,500 over and the correction
    shrinks the rolled credit; corrected first, the close rolls $900 over. Either way the twin's
    amounts and balances."""
    story = await Story.start("USD")
    with frozen_clock(date(2026, 4, 10)):
        twin = await contract(story, "OnTime", ROLLOVER)
        late = await contract(story, "Late", ROLLOVER)
        for contract_id in (twin, late):
            for month in (1, 2, 3):
                await send(story, contract_id, "500", f"2026-{month:02d}-10", f"m{month}")
        await send(story, twin, "600", "2026-02-20", "late-feb")
        for _ in range(3):
            await close(story, twin)
        await close(story, late), await close(story, late)
        assert (await send(story, late, "600", "2026-02-20", "late-feb"))["acceptedLate"] == 1
        if mode == "gather":
            fixed, _ = await asyncio.gather(correct(story, late), close(story, late))
        elif mode == "correction":
            fixed, _ = await race_held(hold_correction(monkeypatch), correct(story, late), lambda: close(story, late))
        else:
            _, fixed = await race_held(hold_close(monkeypatch), close(story, late), lambda: correct(story, late))
        assert fixed["applied"] == 1
        reference = await state(story, twin)
        # Q1 spent ($2,100 of $3,000), Q2 to Q4 issued, $900 rolled over into Q2
        assert balances(reference) == [D("0"), D("3000.00"), D("3000.00"), D("3000.00"), D("900.00")]
        node = await assert_settled(story, late, reference, late=1)
        if mode != "gather":
            assert await order_of(late, date(2026, 3, 1)) is (mode == "correction")
        assert all(len(totals) <= 1 for totals in notes(node).values()), notes(node)


# --- 3. a correction racing an amendment -------------------------------------------------------------

async def amend_story(story: Story, name: str) -> str:
    """January (1,000 units) closed, 500 units in February, 150 units of January late."""
    return await close_story(story, name)


def outcome(node: dict[str, Any]) -> dict[str, Any]:
    """What the two orders must agree on (the state without ids and times)."""
    return {"version": node["version"], "versions": node["versions"],
            "late": [(d["kind"], d["day"], d["quantity"], d["appliedAt"] is not None) for d in node["lateData"]],
            "invoices": node["invoices"], "pools": node["commitments"]}


async def serial_outcomes(story: Story) -> list[dict[str, Any]]:
    """The two serial orders, each on a contract of its own, February closed afterwards."""
    out = []
    for name, steps in (("AmendFirst", (amend, correct)), ("CorrectFirst", (correct, amend))):
        twin = await amend_story(story, name)
        for step in steps:
            await step(story, twin)
        await close(story, twin)
        out.append(outcome(await state(story, twin)))
    return out


@pytest.mark.parametrize("mode", ["gather", "correction", "amendment"])
async def test_a_correction_racing_an_amendment_is_one_of_the_serial_orders(
        db: str, postgres_only: None, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """amendContract (a price rise from February) and correctContract at once: both succeed, and
    the contract ends as one of the two serial orders left it (February closed afterwards bills the
    new price on the corrected pool)."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        serial = await serial_outcomes(story)
        late = await amend_story(story, "Race")
        if mode == "gather":
            await asyncio.gather(correct(story, late), amend(story, late))
        elif mode == "correction":
            await race_held(hold_correction(monkeypatch), correct(story, late), lambda: amend(story, late))
        else:
            await race_held(hold_amendment(monkeypatch), amend(story, late), lambda: correct(story, late))
        await close(story, late)
        assert outcome(await state(story, late)) in serial
        await assert_ledger_holds(story)
        assert (await correct(story, late))["adjustmentsWritten"] == 0


# --- the serial orders, on SQLite and PostgreSQL -----------------------------------------------------

async def test_serially_correct_then_ingest_then_close_then_correct(db: str) -> None:
    """The orders the races above end in, one after the other: a correction, more late usage, the
    next correction; and a correction before or after the next close: the on-time amounts."""
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        reference = await on_time(story, INGEST_USAGE)
        late = await ingest_story(story, "Late")
        assert (await correct(story, late))["applied"] == 1
        await send(story, late, "100", "2026-02-20", "late-feb")
        assert (await correct(story, late))["applied"] == 1
        await assert_settled(story, late, reference, late=2)

        reference = await on_time(story, CLOSE_USAGE)
        for correction_first in (True, False):
            late = await close_story(story, f"Close{correction_first}")
            steps = [correct, close] if correction_first else [close, correct]
            for step in steps:
                await step(story, late)
            await check_close_race(story, late, reference, correction_first)


async def test_the_serial_orders_of_a_correction_and_an_amendment_agree(db: str) -> None:
    story = await Story.start("USD")
    with frozen_clock(TODAY):
        amend_first, correct_first = await serial_outcomes(story)
    assert amend_first == correct_first
    february = next(i for i in amend_first["invoices"] if i["periodStart"] == "2026-02-01")
    # 500 units at $1.20: $50 left in the corrected pool, $550 of overage (10 %: $55), the $100 fee
    assert (february["version"], D(february["total"])) == (2, D("705.00"))
