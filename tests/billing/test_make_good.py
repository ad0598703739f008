"""Make-good commitments (SPEC §18, example 11): a shortfall carried one window, recovered by the
next window's excess, what is left settled at that window's end naming the carried window."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import amounts, contract, months, pool_of, postpaid, prepaid, price, simulate

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import EntryKind
from app.billing.terms import (
    Commitment,
    CommitmentType,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    RampStep,
    TierBasis,
    TierMode,
)
from app.billing.validation import validate_commitment

D = Decimal
GB = "data-gb"


def usage_commitment(windows: int, *, make_good: bool = True, rate: str = "0.01",
                     penalties: tuple[Penalty, ...] | None = None) -> Commitment:
    """A monthly usage commitment of 1,000 GB with a COUNT penalty of ``rate`` per GB short."""
    return Commitment(
        "gb", CommitmentType.USAGE, months(windows), Frequency.MONTHLY, (RampStep(1, D(1000)),),
        usage_class=GB, make_good=make_good,
        penalties=penalties if penalties is not None else (Penalty(PenaltyKind.COUNT, rate=D(rate)),),
    )


def gb_terms(c: Commitment, windows: int):  # type: ignore[no-untyped-def]
    return contract(c, term=months(windows), prices=(price(GB, "0"),))


def test_example_11_january_carries_200_and_february_bills_a_penalty_on_50_naming_january() -> None:
    run = simulate(gb_terms(usage_commitment(3), 3), [{GB: "800"}, {GB: "1150"}])
    jan, feb = run.results
    assert amounts(jan, LineType.PENALTY) == []
    assert jan.windows[0].carried == D(200)
    assert amounts(feb, LineType.PENALTY) == [D("0.50")]
    line = next(line for line in feb.lines if line.type is LineType.PENALTY)
    assert line.window_index == 0 and line.service_period == months(1)
    assert "50 short" in line.description and "January 2025" in line.description
    carried = feb.windows[0].carried_in
    assert carried is not None
    assert (carried.carried, carried.recovered, carried.left) == (D(200), D(150), D(50))
    assert feb.windows[0].carried == 0  # February met its own commitment


def test_without_make_good_january_is_settled_at_its_end() -> None:
    run = simulate(gb_terms(usage_commitment(3, make_good=False), 3), [{GB: "800"}, {GB: "1150"}])
    jan, feb = run.results
    assert amounts(jan, LineType.PENALTY) == [D("2.00")]
    assert amounts(feb, LineType.PENALTY) == []
    assert jan.windows[0].carried == 0 and feb.windows[0].carried_in is None


def test_a_shortfall_never_recovered_is_settled_in_full_with_the_last_windows_own() -> None:
    run = simulate(gb_terms(usage_commitment(2), 2), [{GB: "800"}, {GB: "900"}])
    jan, feb = run.results
    assert amounts(jan, LineType.PENALTY) == []
    penalties = [(line.window_index, line.amount) for line in feb.lines if line.type is LineType.PENALTY]
    assert sorted(penalties) == [(0, D("2.00")), (1, D("1.00"))]


def test_a_window_that_received_a_carry_settles_its_own_shortfall_with_it() -> None:
    # SPEC §18: what is left of S_k is settled "together with window k+1's own shortfall".
    # Jan 800 (carries 200), Feb 900 (no excess: Jan's 200 and Feb's own 100 settled; nothing
    # carried), Mar 700 (nothing carried into it: carries its own 300), Apr 1,040 (recovers 40).
    run = simulate(gb_terms(usage_commitment(4), 4), [{GB: "800"}, {GB: "900"}, {GB: "700"}, {GB: "1040"}])
    jan, feb, mar, apr = run.results
    penalties = [[(l.window_index, l.amount) for l in r.lines if l.type is LineType.PENALTY] for r in run.results]
    assert penalties == [[], [(0, D("2.00")), (1, D("1.00"))], [], [(2, D("2.60"))]]
    assert (jan.windows[0].carried, feb.windows[0].carried, mar.windows[0].carried) == (D(200), D(0), D(300))
    assert feb.windows[0].carried_in is not None and feb.windows[0].carried_in.left == D(200)
    assert apr.windows[0].carried_in is not None and apr.windows[0].carried_in.recovered == D(40)


def test_a_shortfall_is_carried_once_only_and_never_recovered_by_the_window_after_next() -> None:
    # Jan 800 carries 200; Feb 1,000 (X = 0) settles it; Mar 1,500's excess recovers nothing of it.
    run = simulate(gb_terms(usage_commitment(3), 3), [{GB: "800"}, {GB: "1000"}, {GB: "1500"}])
    jan, feb, mar = run.results
    assert [(l.window_index, l.amount) for l in feb.lines if l.type is LineType.PENALTY] == [(0, D("2.00"))]
    assert amounts(mar, LineType.PENALTY) == [] and mar.windows[0].carried_in is None


def test_postpaid_spend_a_window_that_received_a_carry_trues_up_both() -> None:
    c = postpaid("min", "1000", months(3), make_good=True)
    run = simulate(contract(c, term=months(3)), [{"api-calls": "600"}, {"api-calls": "900"}, {"api-calls": "1500"}])
    jan, feb, mar = run.results
    assert sorted((l.window_index, l.amount) for l in feb.lines if l.type is LineType.TRUE_UP) == [
        (0, D(400)), (1, D(100))
    ]
    assert feb.windows[0].carried == 0
    assert amounts(mar, LineType.TRUE_UP) == [] and mar.windows[0].carried_in is None


def test_the_last_window_settles_what_was_carried_into_it_and_its_own() -> None:
    run = simulate(gb_terms(usage_commitment(2), 2), [{GB: "700"}, {GB: "1100"}])
    feb = run.results[1]
    # X = 100 recovers 100 of January's 300; 200 left → 2.00; February met its own.
    assert [(l.window_index, l.amount) for l in feb.lines if l.type is LineType.PENALTY] == [(0, D("2.00"))]


def test_percent_tiers_on_what_is_left_use_the_carried_windows_committed_total() -> None:
    tiers = (PenaltyTier(D(10), D(1)), PenaltyTier(None, D(2)))
    penalty = Penalty(PenaltyKind.TIERED, basis=TierBasis.PERCENT, mode=TierMode.VOLUME, tiers=tiers)
    run = simulate(gb_terms(usage_commitment(2, penalties=(penalty,)), 2), [{GB: "700"}, {GB: "1150"}])
    # 300 carried, 150 recovered, 150 left = 15 % of January's 1,000 → second tier: 150 × 2.
    assert amounts(run.results[1], LineType.PENALTY) == [D("300.00")]


def test_postpaid_spend_make_good_keeps_the_pool_and_bills_the_true_up_naming_the_carried_window() -> None:
    c = postpaid("min", "1000", months(3), make_good=True)
    run = simulate(contract(c, term=months(3)), [{"api-calls": "600"}, {"api-calls": "1250"}])
    jan, feb = run.results
    assert amounts(jan, LineType.TRUE_UP) == []
    assert not any(e.kind is EntryKind.EXPIRE for e in jan.entries)
    assert jan.windows[0].carried == D(400)
    assert pool_of(run, "tracking:min:0").balance == 0  # released at February's end
    line = next(line for line in feb.lines if line.type is LineType.TRUE_UP)
    assert (line.amount, line.window_index, line.pool_key) == (D(150), 0, "tracking:min:0")
    assert [(e.pool_key, e.amount) for e in feb.entries if e.kind is EntryKind.EXPIRE] == [
        ("tracking:min:0", D(-400))
    ]


def test_postpaid_spend_make_good_fully_recovered_bills_nothing() -> None:
    c = postpaid("min", "1000", months(2), make_good=True)
    run = simulate(contract(c, term=months(2)), [{"api-calls": "600"}, {"api-calls": "1500"}])
    assert amounts(run.results[1], LineType.TRUE_UP) == []
    assert run.results[1].windows[0].carried_in.recovered == D(400)  # type: ignore[union-attr]


def test_make_good_is_refused_on_a_prepaid_commitment() -> None:
    c = prepaid("pre", "1000", months(3), make_good=True)
    with pytest.raises(BillingError) as caught:
        validate_commitment(c, months(3))
    assert caught.value.code is BillingErrorCode.INVALID_COMMITMENT
    assert "makeGood" in str(caught.value)


def test_make_good_is_allowed_on_postpaid_spend_and_quantity_commitments() -> None:
    validate_commitment(postpaid("min", "1000", months(3), make_good=True), months(3))
    validate_commitment(usage_commitment(3), months(3))


def _settled_as_defined(measures: list[int]) -> Decimal:
    """Σ over windows of what is billed for them, window by window as SPEC §18 reads: a window
    with a next window and nothing carried into it carries its shortfall; a window with a carry
    settles what its excess did not recover together with its own shortfall; the last window
    settles its own."""
    total, carried = D(0), D(0)
    for k, m in enumerate(measures):
        excess, own = D(max(0, m - 1000)), D(max(0, 1000 - m))
        total += carried - min(carried, excess)
        if carried == 0 and k < len(measures) - 1:
            carried = own
        else:
            carried = D(0)
            total += own
    return total


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2500), min_size=1, max_size=6))
def test_total_settled_shortfall_is_the_carried_shortfalls_less_what_was_recovered(measures: list[int]) -> None:
    n = len(measures)
    run = simulate(gb_terms(usage_commitment(n, rate="1"), n), [{GB: str(m)} for m in measures])
    billed = sum((sum(amounts(r, LineType.PENALTY), D(0)) for r in run.results), D(0))
    assert billed == _settled_as_defined(measures)
    plain = simulate(gb_terms(usage_commitment(n, make_good=False, rate="1"), n), [{GB: str(m)} for m in measures])
    unrecovered = sum((sum(amounts(r, LineType.PENALTY), D(0)) for r in plain.results), D(0))
    assert billed <= unrecovered  # make-good never bills more than settling each window at its end
    recovered = sum((w.carried_in.recovered for r in run.results for w in r.windows if w.carried_in), D(0))
    assert billed == unrecovered - recovered
    for r in run.results:  # a window that received a carry never carries
        assert all(w.carried == 0 for w in r.windows if w.carried_in is not None)
