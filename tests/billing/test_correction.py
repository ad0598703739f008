"""Corrections in the billing core (SPEC §17): the replay property and its parts.

The heart of late data: deliver a random part of the usage late, close every period with what
arrived on time, then correct. For every period, the invoice plus its adjustment equals the invoice
of the same contract closed with all usage on time, line type by line type, and every pool ends at
the on-time pool's balance — over random contracts with prepaid and postpaid commitments,
rollover, surcharges, balances and several periods (the generator of test_properties).
"""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import contract, months, price, simulate, spend, start
from test_properties import scenarios

from app.billing.calendar import billing_periods
from app.billing.charges import UsageTotal
from app.billing.correction import PeriodData, differences, pool_moves, recompute
from app.billing.terms import Frequency, LineType, PaymentTiming

D = Decimal
# The heart of issue 12: CI runs it at a high count (.ci/run sets REPLAY_EXAMPLES); 400 locally.
REPLAY = settings(max_examples=int(os.environ.get("REPLAY_EXAMPLES", "400")), deadline=None)


def correct(terms, balances, on_time_usage, late_usage):  # type: ignore[no-untyped-def]
    """Close with the on-time part, then correct with everything: (the late run, the differences per
    period, the pool moves)."""
    late_run = simulate(terms, on_time_usage, balances)
    first = start(terms, balances)  # the pools' shells and the movements before the first close
    periods = billing_periods(terms)
    data = [PeriodData(terms, periods[i], tuple(
        UsageTotal(c, periods[i].span, D(on_time_usage[i].get(c, 0)) + D(late_usage[i].get(c, 0)))
        for c in sorted(set(on_time_usage[i]) | set(late_usage[i]))),
        before=tuple(first.entries) if i == 0 else ()) for i in range(len(on_time_usage))]
    replay = recompute(data, first.pools)
    diffs = [differences(issued.lines, again.lines) for issued, again in zip(late_run.results, replay.results)]
    issued_moves: dict[str, Decimal] = defaultdict(Decimal)
    for result in late_run.results:
        for movement in result.entries:
            issued_moves[movement.pool_key] += movement.amount
    moves = pool_moves(issued_moves, replay.results, {p.key: p.balance for p in late_run.pools}, frozenset())
    return late_run, diffs, moves


def by_type(lines) -> dict[LineType, Decimal]:  # type: ignore[no-untyped-def]
    out: dict[LineType, Decimal] = defaultdict(Decimal)
    for line in lines:
        out[line.type] += line.amount
    return {k: v for k, v in out.items() if v}


@given(scenarios(), st.data())
@REPLAY
def test_late_usage_corrected_bills_what_on_time_usage_bills(scenario, data) -> None:  # type: ignore[no-untyped-def]
    terms, balances, usage = scenario
    late = [{c: D(data.draw(st.integers(0, int(q * 10)))) / 10 for c, q in period.items()} for period in usage]
    on_time = [{c: q - late[i][c] for c, q in period.items()} for i, period in enumerate(usage)]
    reference = simulate(terms, usage, balances)
    late_run, diffs, moves = correct(terms, balances, on_time, late)
    for issued, diff, expected in zip(late_run.results, diffs, reference.results):
        assert by_type([*issued.lines, *diff]) == by_type(expected.lines)
        assert issued.total + sum((d.amount for d in diff), D(0)) == expected.total
    corrected = {p.key: p.balance + moves.deltas.get(p.key, D(0)) for p in late_run.pools}
    expected_pools = {p.key: p.balance for p in reference.pools}
    for key in set(corrected) | set(expected_pools):
        assert corrected.get(key, moves.deltas.get(key, D(0))) == expected_pools.get(key, D(0)), key
    assert moves.held_back == {}


@given(scenarios())
@settings(max_examples=100, deadline=None)
def test_a_correction_with_nothing_late_changes_nothing(scenario) -> None:  # type: ignore[no-untyped-def]
    terms, balances, usage = scenario
    _, diffs, moves = correct(terms, balances, usage, [{} for _ in usage])
    assert all(d == [] for d in diffs) and moves.deltas == {}


def test_spec_example_10_quarterly_postpaid_with_late_january_usage() -> None:
    """Q1 closed with $7,000 of spend and a $3,000 TRUE_UP in March; 2,000 units dated in January
    arrive late: January gets +$2,000.00 (USAGE), March −$2,000.00 (TRUE_UP falls to $1,000)."""
    terms = contract(spend("q", PaymentTiming.POSTPAID, "10000", months(3), frequency=Frequency.QUARTERLY),
                     term=months(3), prices=(price("api-calls", "1"),))
    on_time = [{"api-calls": D(2000)}, {"api-calls": D(2500)}, {"api-calls": D(2500)}]
    late = [{"api-calls": D(2000)}, {}, {}]
    late_run, diffs, moves = correct(terms, [], on_time, late)
    assert [l.amount for l in late_run.results[2].lines if l.type is LineType.TRUE_UP] == [D("3000.00")]
    assert [(d.type, d.amount) for d in diffs[0]] == [(LineType.USAGE, D("2000.00"))]
    assert diffs[1] == []
    assert [(d.type, d.amount) for d in diffs[2]] == [(LineType.TRUE_UP, D("-2000.00"))]
    assert moves.deltas == {}  # the tracking pool ends empty both ways: 9,000 consumed and 1,000 expired


def test_a_neighbours_draw_on_a_balance_the_replay_left_empty_takes_nothing() -> None:
    """Another contract's draw on a shared balance is replayed before the close it preceded; when the
    replay has already emptied that balance (the late usage drew it first), the draw takes nothing.
    Before the fix it became a zero CONSUME and the correction failed with INVALID_LEDGER_ENTRY."""
    from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind

    terms = contract(term=months(2), prices=(price("api-calls", "1"),))
    periods = billing_periods(terms)
    shared = Pool("balance:G", PoolKind.BALANCE, months(12), D(0), seq=0)
    fill = LedgerEntry("balance:G", EntryKind.ISSUE, D(100), periods[0].span.start)
    neighbour = LedgerEntry("balance:G", EntryKind.CONSUME, D(-40), periods[1].span.start)
    data = [PeriodData(terms, periods[0], (UsageTotal("api-calls", periods[0].span, D(100)),), before=(fill,)),
            PeriodData(terms, periods[1], (), before=(neighbour,))]
    replay = recompute(data, [shared])
    assert replay.pools["balance:G"].balance == 0
    assert sum((line.amount for line in replay.results[0].lines), D(0)) == 0  # January drew the 100
