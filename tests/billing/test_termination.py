"""Ending a contract early (SPEC §14): ``terminated`` cuts the terms once, ``withdraw`` voids the
unused credit, and the final close settles the fees, the removed windows and the termination fee."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import Run, amounts, contract, months, postpaid, prepaid, start

from app.billing.calendar import billing_periods, commitment_windows
from app.billing.close import CloseInput, CloseResult, close_period
from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind, apply_all, balances, running_balances_ok
from app.billing.terms import (
    Commitment,
    CommitmentType,
    DateRange,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    ProductKind,
    RampStep,
    ServiceLine,
    Termination,
)
from app.billing.termination import terminated, withdraw

D = Decimal
YEAR = DateRange(date(2026, 1, 1), date(2027, 1, 1))


def annual_prepaid(**kw: object) -> Commitment:
    return prepaid("c", "12000", YEAR, frequency=Frequency.ANNUAL, **kw)  # type: ignore[arg-type]


def fees_billed(run: Run) -> dict[str, Decimal]:
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for result in run.results:
        for line in result.lines:
            if line.type is LineType.COMMITMENT_FEE and line.commitment_key:
                billed[line.commitment_key] += line.amount
    return dict(billed)


def terminate(run: Run, on: date, *, charge_remaining: bool = False, fee: str = "0") -> list[LedgerEntry]:
    """What the services do: cut the terms, void the credit, cut validities, keep what was consumed."""
    asked = Termination(on, charge_remaining=charge_remaining, fee=D(fee))
    withdrawal = withdraw(terminated(run.terms, asked), run.pools, on)
    pools = apply_all(run.pools, withdrawal.entries)
    run.pools = tuple(replace(p, valid=DateRange(p.valid.start, on)) if p.key in withdrawal.cut_validity else p
                      for p in pools)
    run.entries.extend(withdrawal.entries)
    run.terms = terminated(run.terms, replace(asked, consumed=withdrawal.consumed))
    return list(withdrawal.entries)


def close(run: Run, usage: dict[str, str] | None = None) -> CloseResult:
    """Close the next period with the fees billed so far (as the services gather them)."""
    billed = fees_billed(run)
    period = billing_periods(run.terms)[len(run.results)]
    inp = replace(_input(run, period, usage), fees_billed=billed)
    result = close_period(inp)
    run.pools = result.pools
    run.entries.extend(result.entries)
    run.charges.extend(result.charges)
    run.results.append(result)
    return result


def _input(run: Run, period: object, usage: dict[str, str] | None) -> CloseInput:
    from app.billing.charges import UsageTotal

    for usage_class, quantity in (usage or {}).items():
        run.usage.append(UsageTotal(usage_class, period.span, D(quantity)))  # type: ignore[attr-defined]
    return CloseInput(terms=run.terms, period=period, usage=tuple(run.usage),  # type: ignore[arg-type]
                      prior_charges=tuple(run.charges), pools=run.pools)


def example_9(charge_remaining: bool) -> tuple[Run, CloseResult, list[LedgerEntry]]:
    run = start(contract(annual_prepaid(), term=YEAR))
    close(run), close(run)
    voids = terminate(run, date(2026, 4, 1), charge_remaining=charge_remaining)
    return run, close(run), voids


def test_example_9_the_final_march_invoice_bills_t_prime_less_what_was_billed() -> None:
    run, march, voids = example_9(False)
    assert amounts(run.results[0], LineType.COMMITMENT_FEE) == [D("1000.00")]
    assert amounts(march, LineType.COMMITMENT_FEE) == [D("958.90")]  # T′ 2,958.90 − 2,000.00
    assert voids == [LedgerEntry("prepaid:c:0", EntryKind.VOID, D("-9041.10"), date(2026, 4, 1),
                                 note="termination: cut window")]
    assert march.total == D("958.90")
    # the cut window's 2,958.90 left after the VOID expires at the final close
    assert [(e.kind, e.amount) for e in march.entries] == [(EntryKind.EXPIRE, D("-2958.90"))]


def test_example_9_with_charge_remaining_bills_the_whole_commitment() -> None:
    run, march, voids = example_9(True)
    assert amounts(march, LineType.COMMITMENT_FEE) == [D("10000.00")]  # T 12,000 − 2,000
    assert voids == []  # the cut window keeps its whole amount, usable until t
    assert not any(line.type is LineType.TERMINATION_FEE for line in march.lines)


def test_terminated_cuts_the_term_commitments_and_service_lines() -> None:
    line = ServiceLine("l", "sim", ProductKind.SERVICE, D(2), D(5), YEAR)
    late = ServiceLine("m", "sim", ProductKind.SERVICE, D(1), D(5), DateRange(date(2026, 6, 1), YEAR.end))
    later = prepaid("late", "100", DateRange(date(2026, 7, 1), YEAR.end))
    terms = contract(annual_prepaid(), later, term=YEAR, service_lines=(line, late))
    cut = terminated(terms, Termination(date(2026, 4, 15)))
    assert cut.term == DateRange(date(2026, 1, 1), date(2026, 4, 15))
    assert [c.key for c in cut.commitments] == ["c"]  # a commitment starting after t is dropped
    (c,) = cut.commitments
    assert (c.term.end, c.uncut_end) == (date(2026, 4, 15), date(2027, 1, 1))
    assert [l.active for l in cut.service_lines] == [DateRange(date(2026, 1, 1), date(2026, 4, 15))]
    assert billing_periods(cut)[-1].span == DateRange(date(2026, 4, 1), date(2026, 4, 15))
    assert cut.termination is not None and cut.termination.agreed == terms.commitments
    assert terminated(terms, Termination(YEAR.end)).commitments == terms.commitments


def test_a_cut_window_never_falls_below_what_was_consumed() -> None:
    run = start(contract(annual_prepaid(), term=YEAR))
    close(run, {"api-calls": "2500"}), close(run, {"api-calls": "2500"})  # 5,000 consumed > 2,958.90
    voids = terminate(run, date(2026, 4, 1))
    assert [e.amount for e in voids] == [D("-7000.00")]
    march = close(run)
    assert amounts(march, LineType.COMMITMENT_FEE) == [D("3000.00")]  # T′ 5,000 − 2,000 billed


def test_postpaid_removed_windows_bill_their_committed_amount_with_charge_remaining() -> None:
    terms = contract(postpaid("p", "1000", YEAR, frequency=Frequency.QUARTERLY), term=YEAR)
    run = start(terms)
    close(run, {"api-calls": "400"})
    voids = terminate(run, date(2026, 3, 1), charge_remaining=True, fee="250")
    assert sorted(e.pool_key for e in voids) == ["tracking:p:1", "tracking:p:2", "tracking:p:3"]
    final = close(run, {"api-calls": "100"})
    # the cut Q1 settles unprorated: 1,000 − 500; Q2–Q4 owe 1,000 each
    assert amounts(final, LineType.TRUE_UP) == [D("500.00"), D("1000.00"), D("1000.00"), D("1000.00")]
    assert amounts(final, LineType.TERMINATION_FEE) == [D("250.00")]


def test_postpaid_cut_window_is_prorated_without_charge_remaining() -> None:
    run = start(contract(postpaid("p", "900", YEAR, frequency=Frequency.QUARTERLY), term=YEAR))
    close(run, {"api-calls": "100"})
    terminate(run, date(2026, 3, 1))
    final = close(run)
    # Q1 cut to 59 of 90 days: 900 × 59 ÷ 90 = 590.00, 100 spent
    assert amounts(final, LineType.TRUE_UP) == [D("490.00")]


def test_a_quantity_commitment_bills_its_penalties_for_removed_windows() -> None:
    usage = Commitment("u", CommitmentType.USAGE, YEAR, Frequency.MONTHLY, (RampStep(1, D(1000)),),
                       usage_class="api-calls", penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),))
    run = start(contract(usage, term=YEAR))
    close(run, {"api-calls": "1000"})
    terminate(run, date(2026, 3, 1), charge_remaining=True)
    final = close(run, {"api-calls": "1000"})
    assert amounts(final, LineType.PENALTY) == [D("10.00")] * 10  # March–December measured 0


def test_a_waived_fee_is_zero_and_a_termination_on_the_end_bills_no_fee() -> None:
    run = start(contract(annual_prepaid(), term=YEAR))
    for _ in range(11):
        close(run)
    terminate(run, YEAR.end, fee="500")
    december = close(run)
    assert amounts(december, LineType.TERMINATION_FEE) == []
    assert amounts(december, LineType.COMMITMENT_FEE) == [D("1000.00")]


def _plain_run(terms: object, usage: list[str]) -> list[CloseResult]:
    run = start(terms)  # type: ignore[arg-type]
    return [close(run, {"api-calls": u}) for u in usage]


@settings(max_examples=40, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=50000),
    frequency=st.sampled_from([Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL, Frequency.TERM]),
    payment=st.sampled_from(["pre", "post"]),
    usage=st.lists(st.integers(min_value=0, max_value=6000), min_size=12, max_size=12),
    at=st.integers(min_value=0, max_value=11),
    charge_remaining=st.booleans(),
)
def test_a_termination_on_the_end_bills_what_no_termination_bills(
    amount: int, frequency: Frequency, payment: str, usage: list[int], at: int, charge_remaining: bool
) -> None:
    build = prepaid if payment == "pre" else postpaid
    terms = contract(build("c", str(amount), YEAR, frequency=frequency), term=YEAR)
    plain = _plain_run(terms, [str(u) for u in usage])
    run = start(terms)
    for month in range(12):
        if month == at:
            terminate(run, YEAR.end, charge_remaining=charge_remaining, fee="99")
        close(run, {"api-calls": str(usage[month])})
    assert [r.lines for r in run.results] == [r.lines for r in plain]
    assert [r.entries for r in run.results] == [r.entries for r in plain]


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=50000),
    frequency=st.sampled_from([Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL, Frequency.TERM]),
    payment=st.sampled_from(["pre", "post"]),
    usage=st.lists(st.integers(min_value=0, max_value=6000), min_size=12, max_size=12),
    closed=st.integers(min_value=0, max_value=11),
    days=st.integers(min_value=1, max_value=364),
    charge_remaining=st.booleans(),
    rollover=st.booleans(),
)
def test_ledger_invariants_hold_through_any_termination(
    amount: int, frequency: Frequency, payment: str, usage: list[int], closed: int, days: int,
    charge_remaining: bool, rollover: bool,
) -> None:
    build = prepaid if payment == "pre" else postpaid
    extra = {"rollover_fraction": D(1)} if rollover and frequency is not Frequency.TERM else {}
    terms = contract(build("c", str(amount), YEAR, frequency=frequency, **extra), term=YEAR)
    run = start(terms)
    for month in range(closed):
        close(run, {"api-calls": str(usage[month])})
    t = max(date.fromordinal(YEAR.start.toordinal() + days), billing_periods(run.terms)[closed].span.start)
    if t == billing_periods(run.terms)[closed].span.start:
        t = date.fromordinal(t.toordinal() + 1)
    terminate(run, t, charge_remaining=charge_remaining)
    while len(run.results) < len(billing_periods(run.terms)):
        close(run, {"api-calls": str(usage[len(run.results)])})
    assert running_balances_ok(run.entries)
    folded = balances(run.entries)
    for pool in run.pools:
        assert folded.get(pool.key, D(0)) == pool.balance >= 0
    # after the final close no paying pool of the contract is left holding credit
    assert all(p.balance == 0 for p in run.pools if p.kind is not PoolKind.TRACKING or p.valid.start < t)
    assert isinstance(run.pools[0], Pool) and commitment_windows(run.terms.commitments[0])[-1].span.end <= t
