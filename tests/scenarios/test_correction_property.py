"""A property of corrections (SPEC §17) end to end through GraphQL, on SQLite and PostgreSQL.

Hypothesis draws a contract shape: one or two SPEND commitments (PREPAID or POSTPAID, monthly or
quarterly windows, a ramp, rollover with or without a cap, an overage surcharge or discount, on
some penalties), a usage price (per unit, graduated or volume), sometimes a standing charge, and a
few months of usage events (quantities as decimal strings, days within each month) and one-time
charges. It also draws what happens around them: an account balance, a NEIGHBOUR contract on the
same account drawing that balance, the account's drawdown order, top-ups of the balance and
credit-backs between closes, the order of the twin's and the neighbour's closes, and a 0-unit late
event.

Two TWIN contracts are built on two accounts, each account with the same balance and the same
neighbour. The on-time twin gets all its usage before each close; the late twin gets a random
part of it after the periods closed (``ACCEPTED_LATE``), in one or two rounds, each followed by
``correctContract``. The clock walks month by month (each close a few days after its period's end).

The property, after the last correction:

- every pool's ledger sums to its balance, and no running balance is ever negative (both twins,
  both balances); a period's amount due is its invoice's total plus its adjustments' totals;
- the late twin's DRAWDOWN lines on the account balance (its invoices plus its adjustments) add
  up to what its closes and corrections moved on that balance (CONSUME plus ADJUST entries);
- correcting once more writes nothing and changes nothing (also after the first round);
- if the two neighbours were billed alike (the balance gave them the same), then for every period
  the late twin's invoice plus adjustments equals the on-time twin's invoice line by line (type,
  product, window, commitment and pool), its amount due equals the on-time twin's, and every pool
  (its commitments' and the account balance) holds what the on-time twin's does.

When the neighbours were billed differently, the late twin's missing usage let its neighbour draw
balance credit the on-time neighbour could not, so the twins legitimately differ: SPEC §17 replays
the other contracts' draws as they happened and "an account balance that other contracts also draw
on gives a correction no more than it holds at the correction: what the recomputation would draw
beyond that stays billed". What SPEC §17 still guarantees then, and what is checked: for every
period, the lines that no credit pool changes (USAGE, RECURRING, STANDING, MINIMUM_SPEND, ONE_TIME,
COMMITMENT_FEE, TRUE_UP and PENALTY: rated and measured before any drawdown, §4–§8) equal the
on-time twin's; together with the three invariants above (in particular, credit the balance could
not give stays billed exactly once: the balance's draws and the DRAWDOWN lines agree).

It found three bugs, each now fixed with its own regression test (tests/scenarios/
test_corrections_shared.py): credit held back billed again by a later correction, a correction
failing with INVALID_LEDGER_ENTRY when a neighbour's replayed draw met an empty balance, and "pool
already exists" on the correction after one that created a pool netting to zero.

``CORRECTION_EXAMPLES`` sets the number of examples (default 10); ``CORRECTION_RANDOM=1`` draws
them at random instead of the fixed, derandomized sequence; ``CORRECTION_NO_SHRINK=1`` reports a
failure without shrinking it (shrinking an end-to-end example can take minutes).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from app.clock import frozen_clock
from tests.scenarios.story import Story

EXAMPLES = int(os.environ.get("CORRECTION_EXAMPLES", "10"))
START = date(2026, 1, 1)
END = "2026-07-01"  # six monthly periods; quarterly windows start in January and April
FIXED_TYPES = {"USAGE", "RECURRING", "STANDING", "MINIMUM_SPEND", "ONE_TIME", "COMMITMENT_FEE", "TRUE_UP",
               "PENALTY"}

LINE = "type amount product windowNumber commitment { name } pool { kind windowNumber rolledOver commitment { name } }"
INVOICES = f"""query($id: ID!) {{ node(id: $id) {{ ... on Contract {{ status
  invoices(first: 10) {{ nodes {{ periodStart total amountDue lines(first: 100) {{ nodes {{ {LINE} }} }}
    adjustments(first: 10) {{ nodes {{ kind total lines(first: 40) {{ nodes {{ {LINE} description heldBack }} }} }} }} }} }} }} }} }}"""
ENTRY = "id kind amount runningBalance invoice { contract { id } } adjustment { invoice { contract { id } } }"
POOLS = f"""query($id: ID!) {{ node(id: $id) {{ ... on Contract {{ commitments(first: 3) {{ nodes {{ name
  pools(first: 20) {{ nodes {{ kind windowNumber rolledOver balance entries(first: 100) {{ nodes {{ {ENTRY} }} }} }} }} }} }} }} }} }}"""
BALANCE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Balance {{ pool {{ kind balance
  entries(first: 100) {{ nodes {{ {ENTRY} }} }} }} }} }} }}"""
RECORD = """mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { results { status code message } } }"""
CORRECT = """mutation($c: ID!) { correctContract(contractId: $c) { applied adjustmentsWritten
  userErrors { code field message } } }"""
TOP_UP = """mutation($b: ID!, $a: Decimal!) { topUpBalance(balanceId: $b, amount: $a) { userErrors { code message } } }"""
POST_CHARGE = """mutation($i: PostChargeInput!) { postCharge(input: $i) { userErrors { code field message } } }"""
CREDIT_BACK = """mutation($e: ID!, $a: Decimal!) { creditBack(ledgerEntryId: $e, amount: $a) {
  userErrors { code message } } }"""


# --- what hypothesis draws -------------------------------------------------------------------------

@dataclass(frozen=True)
class Usage:
    month: int  # 1 = January 2026
    day: int
    quantity: str
    late: bool  # the late twin gets it after its period closed
    round: int  # 1: with the first correction round if its period is closed by then; 2: the last round
    charge: bool = False  # a one-time charge of ``quantity`` dollars (postCharge), not a usage event


@dataclass(frozen=True)
class Step:
    """What happens around the close of one month."""
    close_day: int  # the closes run on this day of the next month
    neighbour_first: bool  # the neighbour closes before the twin
    top_up: str | None  # the balance is topped up before the closes
    credit_back: tuple[str, str] | None  # ("balance" | "commitment", amount) after the closes


@dataclass(frozen=True)
class Shape:
    commitments: list[dict[str, Any]]
    price: dict[str, Any]
    standing: str
    usage: list[Usage]
    neighbour_usage: list[Usage]
    balance: str | None
    neighbour: bool
    drawdown: str
    steps: list[Step]
    first_round: int | None  # the first correction round runs after this month's close
    zero_late: int | None  # a 0-unit event of this month arrives late (on time for the on-time twin)


def quantities() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 400).map(str),
                     st.integers(0, 40_000).map(lambda cents: f"{cents // 100}.{cents % 100:02d}"))


@st.composite
def commitment(draw: st.DrawFn, index: int) -> dict[str, Any]:
    payment = draw(st.sampled_from(["PREPAID", "POSTPAID"]))
    amounts = st.sampled_from(["0", "50", "150", "400", "1000"])
    ramp = [{"fromWindow": 1, "amount": draw(amounts)}]
    if draw(st.booleans()):
        ramp.append({"fromWindow": 2, "amount": draw(amounts)})
    spec: dict[str, Any] = {
        "name": f"c{index}", "type": "SPEND", "payment": payment,
        "frequency": draw(st.sampled_from(["MONTHLY", "QUARTERLY"])), "rampSteps": ramp,
        "rolloverFraction": draw(st.sampled_from(["0", "0.5", "1"])),
        "overageSurchargePercent": draw(st.sampled_from(["0", "0", "10", "-5"])),
        "priority": draw(st.integers(0, 1)),
    }
    if spec["rolloverFraction"] != "0" and draw(st.booleans()):
        spec["rolloverCap"] = draw(st.sampled_from(["20", "100"]))
    if payment == "POSTPAID":
        spec["penalties"] = draw(st.sampled_from([
            [], [], [{"kind": "COUNT", "rate": "0.1"}], [{"kind": "CHARGE", "amount": "300"}],
            [{"kind": "TIERED", "basis": "PERCENT", "mode": "GRADUATED",
              "tiers": [{"upTo": "50", "rate": "0.05"}, {"rate": "0.2", "flat": "3"}]}],
        ]))
    return spec


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    months = draw(st.integers(2, 6))
    count = draw(st.integers(1, 2))
    commitments = [draw(commitment(i)) for i in range(count)]
    price: dict[str, Any] = draw(st.sampled_from([
        {"model": "PER_UNIT", "unitAmount": "1"},
        {"model": "PER_UNIT", "unitAmount": "0.37"},
        {"model": "GRADUATED", "tiers": [{"upTo": "100", "unitAmount": "1"}, {"upTo": None, "unitAmount": "0.5"}]},
        {"model": "VOLUME", "tiers": [{"upTo": "200", "unitAmount": "1"}, {"upTo": None, "unitAmount": "0.5"}]},
    ]))
    usage = [Usage(month, draw(st.integers(1, 28)), draw(quantities()), draw(st.booleans()), draw(st.integers(1, 2)))
             for month in range(1, months + 1) for _ in range(draw(st.integers(0, 3)))]
    usage += [Usage(month, draw(st.integers(1, 28)), draw(st.sampled_from(["15", "99.99", "250"])),
                    draw(st.booleans()), draw(st.integers(1, 2)), charge=True)
              for month in range(1, months + 1) if draw(st.integers(0, 3)) == 0]
    balance = draw(st.sampled_from([None, "10", "50", "200", "1000"]))
    neighbour = balance is not None and draw(st.sampled_from([True, True, False]))
    neighbour_usage = [Usage(month, draw(st.integers(1, 28)), draw(quantities()), False, 1)
                       for month in range(1, months + 1) for _ in range(draw(st.integers(0, 2)))] if neighbour else []
    steps = [Step(draw(st.integers(2, 6)), draw(st.booleans()),
                  draw(st.sampled_from([None, None, "25", "100"])) if balance is not None else None,
                  draw(st.one_of(st.none(), st.tuples(st.sampled_from(["balance", "commitment"]),
                                                     st.sampled_from(["1", "5", "20.50"])))))
             for _ in range(months)]
    return Shape(
        commitments=commitments, price=price, standing=draw(st.sampled_from(["0", "0", "20"])), usage=usage,
        neighbour_usage=neighbour_usage, balance=balance, neighbour=neighbour,
        drawdown=draw(st.sampled_from(["BALANCE_FIRST", "COMMITMENT_FIRST"])), steps=steps,
        first_round=draw(st.one_of(st.none(), st.integers(1, months))),
        zero_late=draw(st.one_of(st.none(), st.integers(1, months))),
    )


# --- one side of the story: an account, its balance, the twin and the neighbour ----------------------

@dataclass
class Side:
    name: str
    account: str
    balance: str | None
    twin: str
    neighbour: str | None


async def build(story: Story, shape: Shape, name: str) -> Side:
    api = story.products["api-calls"]
    account = await story.account(name, drawdown=shape.drawdown)
    balance = None
    if shape.balance is not None:
        made = await story.run(
            "mutation($i: CreateBalanceInput!) { createBalance(input: $i) { balance { id } userErrors { code } } }",
            i={"accountId": account, "name": "Shared", "currency": "USD", "amount": shape.balance,
               "startDate": "2026-01-01", "endDate": "2027-01-01"})
        assert made["createBalance"]["userErrors"] == [], made
        balance = made["createBalance"]["balance"]["id"]
    term = {"currency": "USD", "startDate": START.isoformat(), "endDate": END, "billingFrequency": "MONTHLY"}
    twin = await story.contract({"accountId": account, "name": f"{name} twin", **term,
                                 "standingCharge": shape.standing,
                                 "prices": [{"usageClassId": api, **shape.price}],
                                 "commitments": shape.commitments})
    neighbour = None
    if shape.neighbour:
        neighbour = await story.contract({"accountId": account, "name": f"{name} neighbour", **term,
                                          "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}]})
    return Side(name, account, balance, twin, neighbour)


async def record(story: Story, contract: str, items: list[tuple[str, Usage]], status: str) -> None:
    """Record usage events and post one-time charges (by idempotency key) for the contract; each
    event must answer ``status`` (ACCEPTED or ACCEPTED_LATE), each charge be taken."""
    events = [(key, u) for key, u in items if not u.charge]
    if events:
        data = await story.run(RECORD, e=[
            {"contractId": contract, "usageClass": "api-calls", "quantity": u.quantity,
             "timestamp": f"2026-{u.month:02d}-{u.day:02d}T12:00:00Z", "idempotencyKey": key} for key, u in events])
        assert [r["status"] for r in data["recordUsage"]["results"]] == [status] * len(events), data
    for key, u in items:
        if u.charge:
            posted = await story.run(POST_CHARGE, i={
                "contractId": contract, "productId": story.products["setup"], "amount": u.quantity,
                "serviceDate": f"2026-{u.month:02d}-{u.day:02d}", "idempotencyKey": key})
            assert posted["postCharge"]["userErrors"] == [], posted


async def close(story: Story, contract: str) -> None:
    data = await story.run("mutation($c: ID!) { closePeriod(contractId: $c) { userErrors { code message } } }",
                           c=contract)
    assert data["closePeriod"]["userErrors"] == [], data


async def correct(story: Story, contract: str) -> dict[str, Any]:
    done = dict((await story.run(CORRECT, c=contract))["correctContract"])
    assert done["userErrors"] == [], done
    return done


# --- what the story ends with -------------------------------------------------------------------------

def pool_name(pool: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if pool is None:
        return None
    owner = (pool.get("commitment") or {}).get("name")
    return (pool["kind"], owner, pool["windowNumber"], pool["rolledOver"])


def line_key(line: dict[str, Any]) -> tuple[Any, ...]:
    return (line["type"], line["product"], line["windowNumber"], (line["commitment"] or {}).get("name"),
            pool_name(line["pool"]))


def billed(invoice: dict[str, Any], types: set[str] | None = None) -> dict[tuple[Any, ...], D]:
    """The period's lines as billed now: its invoice's lines plus its adjustments' lines, summed by
    (type, product, window, commitment, pool); zero sums left out."""
    sums: dict[tuple[Any, ...], D] = defaultdict(D)
    lines = invoice["lines"] + [line for note_ in invoice["adjustments"] for line in note_["lines"]]
    for line in lines:
        if types is None or line["type"] in types:
            sums[line_key(line)] += D(line["amount"])
    return {key: amount for key, amount in sums.items() if amount != 0}


async def invoices(story: Story, contract: str) -> dict[str, dict[str, Any]]:
    node = (await story.run(INVOICES, id=contract))["node"]
    return {invoice["periodStart"]: invoice for invoice in node["invoices"]}


async def pools(story: Story, side: Side) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every pool of the twin's commitments, and the account balance's, by a name both twins share."""
    node = (await story.run(POOLS, id=side.twin))["node"]
    found: dict[tuple[Any, ...], dict[str, Any]] = {
        (c["name"], p["kind"], p["windowNumber"], p["rolledOver"]): p for c in node["commitments"] for p in c["pools"]}
    if side.balance is not None:
        found[("balance",)] = (await story.run(BALANCE, id=side.balance))["node"]["pool"]
    return found


def check_ledgers(found: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    for name, pool in found.items():
        entries = pool["entries"]
        assert sum((D(e["amount"]) for e in entries), D(0)) == D(pool["balance"]), (name, pool)
        assert all(D(e["runningBalance"]) >= 0 for e in entries), (name, pool)
        assert D(pool["balance"]) >= 0, (name, pool)


def check_amounts_due(bills: dict[str, dict[str, Any]]) -> None:
    for invoice in bills.values():
        for adjustment in invoice["adjustments"]:
            assert D(adjustment["total"]) == sum((D(line["amount"]) for line in adjustment["lines"]), D(0)), adjustment
            assert adjustment["kind"] == ("CREDIT_NOTE" if D(adjustment["total"]) <= 0 else "DEBIT_NOTE"), adjustment
        assert D(invoice["amountDue"]) == D(invoice["total"]) + sum(
            (D(a["total"]) for a in invoice["adjustments"]), D(0)), invoice


def check_balance_draws(side: Side, bills: dict[str, dict[str, Any]], found: dict[tuple[Any, ...], Any]) -> None:
    """The twin's DRAWDOWN lines on the balance agree with its CONSUME and ADJUST entries there."""
    if side.balance is None:
        return
    lines = sum((D(line["amount"]) for invoice in bills.values()
                 for line in invoice["lines"] + [x for a in invoice["adjustments"] for x in a["lines"]]
                 if line["type"] == "DRAWDOWN" and (line["pool"] or {}).get("kind") == "BALANCE"), D(0))
    moved = D(0)
    for entry in found[("balance",)]["entries"]:
        by_close = entry["kind"] == "CONSUME" and (entry["invoice"] or {}).get("contract", {}).get("id") == side.twin
        by_correction = entry["kind"] == "ADJUST" and (
            ((entry["adjustment"] or {}).get("invoice") or {}).get("contract", {}).get("id") == side.twin)
        if by_close or by_correction:
            moved += D(entry["amount"])
    assert lines == moved, (lines, moved, found[("balance",)]["entries"])


# --- the story ----------------------------------------------------------------------------------------

async def credit_back(story: Story, late: Side, on_time: Side, target: str, amount: str,
                      given_back: set[str]) -> None:
    """Give ``amount`` back on the same pool of both sides (a CONSUME entry of each with that much
    left), or on neither."""
    chosen: list[str] = []
    late_pools, on_time_pools = await pools(story, late), await pools(story, on_time)
    names = sorted((n for n in late_pools if (n == ("balance",)) == (target == "balance")), key=repr)
    for name in names:
        if name not in on_time_pools or late_pools[name]["kind"] not in ("PREPAID", "ROLLOVER", "BALANCE"):
            continue
        picks = []
        for found in (late_pools, on_time_pools):
            entries = [e for e in found[name]["entries"]
                       if e["kind"] == "CONSUME" and -D(e["amount"]) >= D(amount) and e["id"] not in given_back]
            picks.append(entries[-1]["id"] if entries else None)
        if None not in picks:
            chosen = [p for p in picks if p is not None]
            break
    if not chosen:
        return
    answers = []
    for entry_id in chosen:
        data = await story.run(CREDIT_BACK, e=entry_id, a=amount)
        answers.append([e["code"] for e in data["creditBack"]["userErrors"]])
        given_back.add(entry_id)
    assert answers[0] == answers[1], answers  # the same pool is open or closed on both sides
    if not answers[0]:
        note(f"credit back {amount} on {target}")


async def run_story(shape: Shape) -> None:
    story = await Story.start("USD")
    await story.run("mutation { updateOrganization(input: {correctionWindowDays: 3650}) { userErrors { code } } }")
    await story.product("api-calls", "USAGE_CLASS", "call")
    await story.product("setup", "SERVICE", "fee")
    with frozen_clock(START):
        late, on_time = await build(story, shape, "Late"), await build(story, shape, "OnTime")
    sides = (late, on_time)
    keyed = [(f"u{i}", u) for i, u in enumerate(shape.usage)]
    pending = [(key, u) for key, u in keyed if u.late]
    given_back: set[str] = set()
    months = len(shape.steps)
    last_day = date(2026, months + 1, 28)

    async def deliver(upto: int, round_: int, today: date) -> None:
        nonlocal pending
        due_now = [(k, u) for k, u in pending if u.month <= upto and u.round <= round_]
        pending = [(k, u) for k, u in pending if (k, u) not in due_now]
        events = [(f"l-{k}", u) for k, u in due_now]
        if shape.zero_late is not None and shape.zero_late <= upto and round_ == 2:
            events.append(("l-zero", Usage(shape.zero_late, 15, "0", True, 2)))
        await record(story, late.twin, events, "ACCEPTED_LATE")
        done = await correct(story, late.twin)
        assert done["applied"] == len(events), (done, events)
        again = await correct(story, late.twin)
        assert (again["applied"], again["adjustmentsWritten"]) == (0, 0), again
        note(f"{today}: {len(events)} late events, {done['adjustmentsWritten']} adjustments")

    for month, step in enumerate(shape.steps, start=1):
        today = date(2026, month + 1, step.close_day)
        with frozen_clock(today):
            for side in sides:
                mine = [(f"{side.name[0]}-{k}", u) for k, u in keyed
                        if u.month == month and not (side is late and u.late)]
                if side is on_time and shape.zero_late == month:
                    mine.append(("o-zero", Usage(month, 15, "0", False, 1)))
                await record(story, side.twin, mine, "ACCEPTED")
                if side.neighbour is not None:
                    await record(story, side.neighbour, [(f"{side.name[0]}-n{i}", u) for i, u
                                                         in enumerate(shape.neighbour_usage) if u.month == month],
                                 "ACCEPTED")
                if step.top_up is not None and side.balance is not None:
                    topped = await story.run(TOP_UP, b=side.balance, a=step.top_up)
                    assert topped["topUpBalance"]["userErrors"] == [], topped
                order = [side.twin] if side.neighbour is None else (
                    [side.neighbour, side.twin] if step.neighbour_first else [side.twin, side.neighbour])
                for contract in order:
                    await close(story, contract)
            if step.credit_back is not None:
                await credit_back(story, late, on_time, *step.credit_back, given_back=given_back)
            if shape.first_round == month:
                await deliver(month, 1, today)
    with frozen_clock(last_day):
        await deliver(months, 2, last_day)
        assert pending == []
        late_bills, on_time_bills = await invoices(story, late.twin), await invoices(story, on_time.twin)
        late_pools, on_time_pools = await pools(story, late), await pools(story, on_time)
        # correcting once more writes nothing and changes nothing
        again = await correct(story, late.twin)
        assert (again["applied"], again["adjustmentsWritten"]) == (0, 0), again
        assert await invoices(story, late.twin) == late_bills
        assert await pools(story, late) == late_pools
        neighbours_alike = late.neighbour is None or on_time.neighbour is None or (
            {p: (billed(i), i["amountDue"]) for p, i in (await invoices(story, late.neighbour)).items()}
            == {p: (billed(i), i["amountDue"]) for p, i in (await invoices(story, on_time.neighbour)).items()})

    notes = [a for invoice in late_bills.values() for a in invoice["adjustments"]]
    held_back = [a for a in notes if any(line["heldBack"] for line in a["lines"])]
    for found in (late_pools, on_time_pools):
        check_ledgers(found)
    for bills in (late_bills, on_time_bills):
        check_amounts_due(bills)
    check_balance_draws(late, late_bills, late_pools)
    check_balance_draws(on_time, on_time_bills, on_time_pools)
    assert sorted(late_bills) == sorted(on_time_bills)
    event("neighbours billed alike" if neighbours_alike else "neighbours billed differently")
    event(f"late twin: {min(len(notes), 3)}{'+' if len(notes) > 3 else ''} adjustments")
    if held_back:
        event("a 'not drawn' DRAWDOWN line")
    if neighbours_alike:
        for period, invoice in on_time_bills.items():
            assert billed(late_bills[period]) == billed(invoice), period
            assert D(late_bills[period]["amountDue"]) == D(invoice["amountDue"]), period
        names = set(late_pools) | set(on_time_pools)
        held = {n: D(late_pools[n]["balance"]) if n in late_pools else D(0) for n in names}
        reference = {n: D(on_time_pools[n]["balance"]) if n in on_time_pools else D(0) for n in names}
        assert held == reference
    else:
        for period, invoice in on_time_bills.items():
            assert billed(late_bills[period], FIXED_TYPES) == billed(invoice, FIXED_TYPES), period


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("CORRECTION_RANDOM"),
          phases=[p for p in Phase if p is not Phase.shrink or not os.environ.get("CORRECTION_NO_SHRINK")],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(shape=shapes())
async def test_a_late_twin_corrected_bills_what_its_on_time_twin_bills(db: str, shape: Shape) -> None:
    await run_story(shape)
