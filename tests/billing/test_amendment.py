"""Amendments in the billing core (SPEC §13): the next version's terms and their money effects.

Unit cases for each kind of change, and properties on random contracts (the generator of
test_properties): an amendment with no changes bills exactly what no amendment bills; whatever an
amendment changes, the periods before it bill as before, the ledger adds up and never goes
negative, and a prepaid commitment's fees add up to its new total less amountPrepaid.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from money_builders import Run, contract, months, price, spend, start
from test_properties import scenarios

from app.billing.amendment import Amendment, RampChange, amend
from app.billing.amendment_money import amended
from app.billing.calendar import billing_periods
from app.billing.fee_timing import activation_fee_lines
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.fees import commitment_total
from app.billing.ledger import apply_all, balances, running_balances_ok
from app.billing.terms import (
    ContractTerms,
    FeeDate,
    FeeTiming,
    Frequency,
    LineType,
    PaymentTiming,
    Price,
    PricingModel,
    RampStep,
)

D = Decimal
EXAMPLES = settings(max_examples=150, deadline=None)


def run_with(terms: ContractTerms, usage: list[dict[str, Decimal]], k: int | None = None,
             change: Amendment | None = None) -> Run:
    """Activate ``terms``, close ``k`` periods, amend with ``change`` (its effects applied as the
    services do), then close the rest under the new version."""
    run = start(terms)
    for i, period_usage in enumerate(usage):
        if i == k and change is not None:
            effects = amended(run.terms, change, {p.key: p for p in run.pools}, first_seq=1000)
            pools = apply_all((*run.pools, *effects.new_pools), effects.entries)
            run.pools = tuple(replace(p, valid=effects.validity.get(p.key, p.valid)) for p in pools)
            run.entries.extend(effects.entries)
            run.terms = effects.terms
        run.close_next(period_usage)
    return run


def lines(run: Run) -> list[tuple[tuple[str, Decimal], ...]]:
    return [tuple((line.type.value, line.amount) for line in r.lines) for r in run.results]


def fees(run: Run, key: str, first: ContractTerms) -> Decimal:
    """Every fee billed for commitment ``key``: on the activation invoice (SPEC §16) and the closes."""
    billed = [*activation_fee_lines(first), *(line for r in run.results for line in r.lines)]
    return sum((line.amount for line in billed if line.type is LineType.COMMITMENT_FEE and line.commitment_key == key),
               D(0))


@given(scenarios(), st.data())
@EXAMPLES
def test_an_amendment_with_no_changes_bills_what_no_amendment_bills(scenario, data) -> None:  # type: ignore[no-untyped-def]
    terms, _, usage = scenario
    k = data.draw(st.integers(0, len(usage) - 1))
    e = billing_periods(terms)[k].span.start
    effects = amended(terms, Amendment(effective=e), {}, first_seq=0)
    assert effects.terms == terms and effects.entries == () and effects.new_pools == ()
    assert lines(run_with(terms, usage, k, Amendment(effective=e))) == lines(run_with(terms, usage))


@given(scenarios(), st.data())
@EXAMPLES
def test_any_amendment_keeps_the_past_the_ledger_and_the_fee_total(scenario, data) -> None:  # type: ignore[no-untyped-def]
    terms, _, usage = scenario
    terms = replace(terms, commitments=tuple(  # some prepaid commitments bill their fees in advance
        replace(c, fees=replace(c.fees, timing=FeeTiming.IN_ADVANCE))
        if c.payment is PaymentTiming.PREPAID and data.draw(st.booleans()) else c for c in terms.commitments))
    k = data.draw(st.integers(1, len(usage))) if len(usage) > 1 else 1
    if k >= len(usage):
        return
    e = billing_periods(terms)[k].span.start
    started = [c for c in terms.commitments if c.term.start < e]
    ended = data.draw(st.frozensets(st.sampled_from([c.key for c in started]))) if started else frozenset()
    ramps = tuple(RampChange(c.key, (RampStep(k + 1, D(data.draw(st.integers(0, 3000)))),))
                  for c in terms.commitments if c.key not in ended and data.draw(st.booleans()))
    change = Amendment(effective=e, end_commitments=ended, ramps=ramps, credit_overbilled_fees=True,
                       standing_charge=D(data.draw(st.integers(0, 100))),
                       prices=(Price("a", PricingModel.PER_UNIT, D(data.draw(st.integers(0, 5)))),))
    before = run_with(terms, usage)
    try:
        after = run_with(terms, usage, k, change)
    except BillingError as refused:  # in advance, amended on the last period with fees left to re-plan
        assert refused.code is BillingErrorCode.INVALID_FEE_SCHEDULE
        reject()
    assert lines(after)[:k] == lines(before)[:k]  # the periods before e bill as they did
    assert [r.entries for r in after.results[:k]] == [r.entries for r in before.results[:k]]
    assert running_balances_ok(after.entries)
    assert all(b >= 0 for b in balances(after.entries).values())
    assert {p.key: p.balance for p in after.pools} == {**{p.key: D(0) for p in after.pools},
                                                       **balances(after.entries)}
    for c in after.terms.commitments:
        if c.payment is PaymentTiming.PREPAID:  # every period was closed: the fees add up to T − prepaid
            assert fees(after, c.key, terms) == commitment_total(c, terms.currency) - c.fees.amount_prepaid


def year(*commitments, **kw) -> ContractTerms:  # type: ignore[no-untyped-def]
    return contract(*commitments, term=months(12), **kw)


def test_spec_example_8_a_price_rise_from_1_july() -> None:
    terms = year(prices=(price("api-calls", "1.00"),))
    rise = Amendment(effective=date(2025, 7, 1), prices=(price("api-calls", "1.20"),))
    run = run_with(terms, [{"api-calls": D(1000)}] * 12, 6, rise)
    usage = [r.lines[0].amount for r in run.results]
    assert usage[5:7] == [D("1000.00"), D("1200.00")]


def test_the_effective_date_is_a_billing_period_start() -> None:
    with pytest.raises(BillingError) as refused:
        amend(year(), Amendment(effective=date(2025, 7, 2)))
    assert refused.value.code is BillingErrorCode.INVALID_EFFECTIVE_DATE


def test_a_ramp_change_cannot_reach_a_window_in_progress() -> None:
    terms = year(spend("q", PaymentTiming.POSTPAID, "1000", months(12)))
    with pytest.raises(BillingError) as refused:
        amend(terms, Amendment(effective=date(2025, 7, 1), ramps=(RampChange("q", (RampStep(6, D(5)),)),)))
    assert refused.value.code is BillingErrorCode.INVALID_RAMP
    new = amend(terms, Amendment(effective=date(2025, 7, 1), ramps=(RampChange("q", (RampStep(7, D(5)),)),)))
    assert new.commitments[0].ramp == (RampStep(1, D(1000)), RampStep(7, D(5)))


def test_ending_a_monthly_prepaid_commitment_withdraws_the_later_windows_pools() -> None:
    terms = year(spend("p", PaymentTiming.PREPAID, "1000", months(12)))
    run = start(terms)
    for _ in range(6):
        run.close_next({})
    end = Amendment(effective=date(2025, 7, 1), end_commitments=frozenset({"p"}))
    effects = amended(terms, end, {p.key: p for p in run.pools}, first_seq=100)
    assert commitment_total(effects.terms.commitments[0], "USD") == D(6000)  # six months billed: nothing to re-plan
    assert [(e.kind.value, e.amount) for e in effects.entries] == [("VOID", D(-1000))] * 6


def test_ending_an_annual_prepaid_commitment_after_more_was_billed_is_refused_unless_credited() -> None:
    terms = year(spend("p", PaymentTiming.PREPAID, "12000", months(12), frequency=Frequency.ANNUAL))
    run = start(terms)
    for _ in range(6):
        run.close_next({})
    end = Amendment(effective=date(2025, 7, 1), end_commitments=frozenset({"p"}))
    pools = {p.key: p for p in run.pools}
    with pytest.raises(BillingError) as refused:
        amended(terms, end, pools, first_seq=100)
    assert refused.value.code is BillingErrorCode.FEES_ALREADY_BILLED
    effects = amended(terms, replace(end, credit_overbilled_fees=True), pools, first_seq=100)
    [c] = effects.terms.commitments
    assert commitment_total(c, "USD") == D("5950.68")  # 12,000 × 181/365
    assert c.fees.fee_dates[-1] == FeeDate(date(2025, 7, 1), D("-49.32"))
    run.pools = apply_all(run.pools, effects.entries)
    run.terms = effects.terms
    july = run.close_next({})
    assert [line.amount for line in july.lines if line.type is LineType.COMMITMENT_FEE] == [D("-49.32")]
