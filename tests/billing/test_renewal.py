"""Renewal carry-over in the billing core (SPEC §15): the last window's rollover goes into the
first window of the renewing commitment when the close is given it, and expires otherwise."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from money_builders import contract, months, postpaid, prepaid, simulate

from app.billing.calendar import billing_periods, commitment_windows
from app.billing.charges import UsageTotal
from app.billing.close import close_period
from app.billing.ledger import EntryKind, PoolKind, balances
from app.billing.renewal import Successor, by_renewed, roll_target
from app.billing.terms import Frequency, LineType

D = Decimal
NEXT_YEAR = months(12, date(2026, 1, 1))


def annual(key: str, term=None, **kw):  # noqa: ANN001, ANN201 - a test builder
    return prepaid(key, "12000", term or months(12), frequency=Frequency.ANNUAL, **kw)


def successor_of(old_key: str, new_key: str = "n", **kw) -> Successor:  # noqa: ANN003
    renewing = annual(new_key, NEXT_YEAR, **kw)
    return Successor(old_key, renewing, commitment_windows(renewing)[0])


def last_close(terms, successors=()):  # noqa: ANN001, ANN201
    """Run the year with $900 of usage a month, then close December with ``successors``."""
    run = simulate(terms, [{"api-calls": "900"}] * 11)
    inp = run.inputs[-1]
    december = billing_periods(terms)[11]
    usage = (*run.usage, UsageTotal("api-calls", december.span, D(900)))
    return run, close_period(replace(
        inp, period=december, usage=usage, prior_charges=tuple(run.charges), pools=run.pools,
        successors=tuple(successors)))


def test_the_rollover_of_the_last_window_goes_into_the_renewing_commitments_first_window() -> None:
    terms = contract(annual("a", rollover_fraction=D("0.5"), rollover_cap=D(1000)))
    run, result = last_close(terms, [successor_of("a")])
    # $12,000 less 11 × $900 = $2,100 left before December; December uses $900: $1,200 left
    out = [e for e in result.entries if e.kind is EntryKind.ROLLOVER_OUT]
    into = [e for e in result.entries if e.kind is EntryKind.ROLLOVER_IN]
    expired = [e for e in result.entries if e.kind is EntryKind.EXPIRE]
    assert [(e.pool_key, e.amount) for e in out] == [("prepaid:a:0", D(-600))]  # min(1,200 × 0.5, 1,000)
    assert [(e.pool_key, e.amount) for e in into] == [("rollover:n:0", D(600))]
    assert [(e.pool_key, e.amount) for e in expired] == [("prepaid:a:0", D(-600))]
    pool = next(p for p in result.pools if p.key == "rollover:n:0")
    assert (pool.kind, pool.commitment_key, pool.window_index, pool.valid, pool.rolled_over, pool.balance) == (
        PoolKind.ROLLOVER, "n", 0, NEXT_YEAR, True, D(600))
    assert result.windows[0].rolled_over == D(600) and result.windows[0].expired == D(600)
    every = [*run.entries, *result.entries]
    assert balances(every) == {p.key: p.balance for p in result.pools}
    assert all(p.balance >= 0 for p in result.pools)


def test_the_cap_limits_what_is_carried() -> None:
    terms = contract(annual("a", rollover_fraction=D(1), rollover_cap=D(250)))
    _, result = last_close(terms, [successor_of("a")])
    assert [e.amount for e in result.entries if e.kind is EntryKind.ROLLOVER_IN] == [D(250)]
    assert [e.amount for e in result.entries if e.kind is EntryKind.EXPIRE] == [D(-950)]


def test_without_a_successor_the_remainder_expires_as_before() -> None:
    terms = contract(annual("a", rollover_fraction=D(1)))
    _, result = last_close(terms)
    assert [e.kind for e in result.entries if e.pool_key == "prepaid:a:0"][-1] is EntryKind.EXPIRE
    assert not [e for e in result.entries if e.kind in (EntryKind.ROLLOVER_OUT, EntryKind.ROLLOVER_IN)]
    assert [e.amount for e in result.entries if e.kind is EntryKind.EXPIRE] == [D(-1200)]


def test_a_commitment_without_rollover_carries_nothing_even_with_a_successor() -> None:
    terms = contract(annual("a"))
    _, result = last_close(terms, [successor_of("a")])
    assert not any(p.key == "rollover:n:0" for p in result.pools)
    assert [e.amount for e in result.entries if e.kind is EntryKind.EXPIRE] == [D(-1200)]


def test_a_successor_of_another_commitment_carries_nothing() -> None:
    terms = contract(annual("a", rollover_fraction=D(1)))
    _, result = last_close(terms, [successor_of("other")])
    assert not [e for e in result.entries if e.kind is EntryKind.ROLLOVER_IN]


def test_only_the_last_window_carries_over_inside_the_term_rollover_stays_in_the_commitment() -> None:
    quarterly = prepaid("q", "3000", months(12), frequency=Frequency.QUARTERLY, rollover_fraction=D(1))
    assert roll_target(quarterly, commitment_windows(quarterly)[1], by_renewed([successor_of("q")])).commitment is quarterly
    last = roll_target(quarterly, None, by_renewed([successor_of("q")]))
    assert last.commitment.key == "n" and last.window is not None
    assert (last.window.index, last.window.span) == (0, NEXT_YEAR)
    assert roll_target(quarterly, None, {}).window is None


def test_a_postpaid_shortfall_rolls_into_the_renewal_as_credit() -> None:
    b = postpaid("b", "12000", months(12), frequency=Frequency.ANNUAL, rollover_fraction=D(1), rollover_cap=D(500))
    terms = contract(b)
    renewing = postpaid("m", "12000", NEXT_YEAR, frequency=Frequency.ANNUAL, rollover_fraction=D(1))
    _, result = last_close(terms, [Successor("b", renewing, commitment_windows(renewing)[0])])
    assert [line.amount for line in result.lines if line.type is LineType.TRUE_UP] == [D(1200)]
    assert [(e.pool_key, e.kind, e.amount) for e in result.entries if e.pool_key == "rollover:m:0"] == [
        ("rollover:m:0", EntryKind.ISSUE, D(500))]


def test_closing_the_last_period_is_the_same_on_every_run() -> None:
    terms = contract(annual("a", rollover_fraction=D(1)))
    run, first = last_close(terms, [successor_of("a")])
    _, second = last_close(terms, [successor_of("a")])
    assert first == second
