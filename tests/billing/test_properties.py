"""Invariants of the money side of the billing core, checked on random contracts (hypothesis).

Each example is a small random contract (USD, JPY or KWD; prepaid and postpaid commitments with
random eligibility, surcharges and rollover; balances; every drawdown order) closed period by
period the way the services layer does it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from random import Random
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st
from money_builders import Run, contract, months, price, simulate, spend

from app.billing.close import CloseResult, close_period
from app.billing.credit import new_balance
from app.billing.invoice import CHARGE_LINE_TYPES
from app.billing.ledger import LedgerEntry, Pool, balances, running_balances_ok
from app.billing.money import quantum
from app.billing.terms import (
    ChargeType,
    Commitment,
    ContractTerms,
    DrawdownOrder,
    LineType,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    ProductKind,
    ServiceLine,
    TierBasis,
    TierMode,
)

D = Decimal
CURRENCIES = ("USD", "JPY", "KWD")
CLASSES = ("a", "b")
PRODUCTS = ("a", "b", "standing", "sim")
EXAMPLES = settings(max_examples=300, deadline=None)


def money(max_units: int = 3000) -> st.SearchStrategy[Decimal]:
    """An amount with up to three decimals (rounded by the core where a currency has fewer)."""
    return st.integers(0, max_units * 1000).map(lambda n: D(n) / 1000)


PENALTIES = (
    Penalty(PenaltyKind.CHARGE, amount=D("250")),
    Penalty(PenaltyKind.COUNT, rate=D("0.1")),
    Penalty(PenaltyKind.TIERED, basis=TierBasis.PERCENT, mode=TierMode.VOLUME,
            tiers=(PenaltyTier(D(10), D("0.5")), PenaltyTier(None, D(2)))),
)


@st.composite
def commitments(draw: st.DrawFn, key: str, count: int) -> Commitment:
    payment = draw(st.sampled_from(PaymentTiming))
    percent = draw(st.sampled_from([D(0), D(-100), D(-25), D("7.5"), D(10), D(50)]))
    separate = payment is PaymentTiming.PREPAID and percent == 0 and draw(st.booleans())
    cap = draw(st.none() | money(500))
    types = draw(st.frozensets(st.sampled_from(ChargeType), min_size=1))
    return spend(
        key,
        payment,
        str(draw(money())),
        months(count),
        eligible_charge_types=types,
        eligible_products=draw(st.frozensets(st.sampled_from(PRODUCTS), max_size=2)),
        overage_surcharge_percent=percent,
        separate_overage=separate,
        rollover_fraction=draw(st.sampled_from([D(0), D("0.5"), D(1)])),
        rollover_cap=cap,
        true_up=payment is PaymentTiming.PREPAID or draw(st.booleans()),
        priority=draw(st.integers(0, 2)),
        penalties=tuple(draw(st.lists(st.sampled_from(PENALTIES), unique=True, max_size=2))),
        make_good=payment is PaymentTiming.POSTPAID and draw(st.booleans()),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[ContractTerms, list[tuple[Pool, LedgerEntry]], list[dict[str, Decimal]]]:
    count = draw(st.integers(1, 4))
    currency = draw(st.sampled_from(CURRENCIES))
    keys = draw(st.lists(st.sampled_from("pqrs"), unique=True, max_size=3))
    line = ServiceLine(
        "sim-1",
        "sim",
        ProductKind.SERVICE,
        D(draw(st.integers(0, 3))),
        draw(money(50)),
        months(count),
    )
    terms = contract(
        *[draw(commitments(k, count)) for k in keys],
        term=months(count),
        currency=currency,
        prices=(price("a", str(draw(money(2)))), price("b", "1")),
        standing_charge=draw(money(100)),
        service_lines=(line,),
        drawdown_order=draw(st.sampled_from(DrawdownOrder)),
    )
    step = quantum(currency)
    balances_ = [
        new_balance(
            f"bal{i}",
            D(draw(st.integers(1, 200_000))) * step,
            months(draw(st.integers(1, count))),
            date(2025, 1, 1),
            currency,
            seq=draw(st.integers(0, 5)),
            priority=draw(st.integers(0, 2)),
            eligible_products=draw(st.frozensets(st.sampled_from(PRODUCTS), max_size=2)),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    usage = [{c: D(draw(st.integers(0, 20_000))) / 10 for c in CLASSES} for _ in range(count)]
    return terms, balances_, usage


def check_close(result: CloseResult) -> None:
    """The invariants of one close."""
    step = quantum(result.currency)
    assert all(line.amount == line.amount.quantize(step) for line in result.lines)
    assert result.invoice.total == sum((line.amount for line in result.lines), D(0))
    charged = sum((c.amount for c in result.charges), D(0))
    drawn = sum((d.amount for d in result.draws), D(0))
    by_charge = {c.key: c.amount for c in result.charges}
    for key, amount in by_charge.items():
        assert sum((d.amount for d in result.draws if d.charge_key == key), D(0)) <= amount
    assert all(d.amount > 0 for d in result.draws)
    # Money is conserved: the charges are paid by the pools or billed.
    assert result.invoice.total_of(*CHARGE_LINE_TYPES) == charged
    assert -result.invoice.drawdown_total == drawn
    assert charged == drawn + (result.invoice.charges_subtotal + result.invoice.drawdown_total)


def check_ledger(run: Run) -> None:
    """Every pool's entries sum to its balance and never dip below zero."""
    assert running_balances_ok(run.entries)
    assert balances(run.entries) == {p.key: p.balance for p in run.pools}
    assert all(p.balance >= 0 for p in run.pools)


@EXAMPLES
@given(scenarios())
def test_every_close_conserves_money_and_the_ledger_adds_up(
    scenario: tuple[ContractTerms, list[tuple[Pool, LedgerEntry]], list[dict[str, Decimal]]],
) -> None:
    terms, balances_, usage = scenario
    run = simulate(terms, usage, balances=balances_)
    for inp, result in zip(run.inputs, run.results):
        check_close(result)
        before = {p.key: p.balance for p in inp.pools}
        for key, balance in before.items():
            assert sum((d.amount for d in result.draws if d.pool_key == key), D(0)) <= balance
    check_ledger(run)
    check_true_ups(terms, run)


def check_true_ups(terms: ContractTerms, run: Run) -> None:
    """A postpaid TRUE_UP is exactly the window's measured shortfall, unless the window carried it
    (make-good, SPEC §18): then it bills nothing now, and the next window's end bills the TRUE_UP
    of what its excess did not recover; a window that received a carry never carries."""
    postpaid = {
        c.key for c in terms.commitments if c.payment is PaymentTiming.POSTPAID and c.true_up
    }
    for result in run.results:
        for window in result.windows:
            if window.commitment_key not in postpaid:
                continue
            if window.carried:
                assert window.true_up == 0 and window.carried == window.measurement.shortfall
                assert window.carried_in is None
            else:
                assert window.true_up == window.measurement.shortfall
            if window.carried_in is not None:
                came = window.carried_in
                assert came.true_up == came.left == came.carried - came.recovered


@EXAMPLES
@given(scenarios(), st.randoms(use_true_random=False))
def test_a_close_is_independent_of_input_order_and_repeatable(
    scenario: tuple[ContractTerms, list[tuple[Pool, LedgerEntry]], list[dict[str, Decimal]]],
    rnd: Random,
) -> None:
    terms, balances_, usage = scenario
    run = simulate(terms, usage, balances=balances_)
    inp, result = run.inputs[-1], run.results[-1]
    shuffled = replace(
        inp,
        terms=replace(
            terms,
            commitments=_shuffle(rnd, terms.commitments),
            prices=_shuffle(rnd, terms.prices),
        ),
        usage=_shuffle(rnd, inp.usage),
        prior_charges=_shuffle(rnd, inp.prior_charges),
        pools=_shuffle(rnd, inp.pools),
    )
    assert close_period(shuffled) == result
    assert close_period(inp) == result  # closing twice from the same inputs


T = TypeVar("T")


def _shuffle(rnd: Random, items: tuple[T, ...]) -> tuple[T, ...]:
    copy = list(items)
    rnd.shuffle(copy)
    return tuple(copy)


@EXAMPLES
@given(st.integers(1, 4), st.sampled_from(CURRENCIES), money(100), money(30), st.integers(0, 4))
def test_zero_usage_and_no_commitments_bills_exactly_standing_and_recurring(
    count: int, currency: str, standing: Decimal, unit_price: Decimal, quantity: int
) -> None:
    line = ServiceLine("l", "sim", ProductKind.SERVICE, D(quantity), unit_price, months(count))
    terms = contract(
        term=months(count), currency=currency, standing_charge=standing, service_lines=(line,)
    )
    for result in simulate(terms, [{}] * count).results:
        assert {ln.type for ln in result.lines} <= {LineType.STANDING, LineType.RECURRING}
        assert result.total == sum((c.amount for c in result.charges), D(0))
        assert {c.type for c in result.charges} <= {ChargeType.STANDING, ChargeType.RECURRING}
        assert result.entries == () and result.draws == ()
