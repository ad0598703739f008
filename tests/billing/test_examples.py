"""SPEC §11's worked examples, each played through activation and ``close_period``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from money_builders import (
    amounts,
    contract,
    months,
    pool_of,
    postpaid,
    prepaid,
    price,
    ramp,
    simulate,
    total,
)

from app.billing.credit import new_balance
from app.billing.ledger import EntryKind, PoolKind
from app.billing.terms import (
    Commitment,
    CommitmentType,
    DrawdownOrder,
    FeeSchedule,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    ProductKind,
    ServiceLine,
)

D = Decimal
SEED_SPEND_RAMP = ramp((1, "10000"), (5, "20000"), (9, "30000"))


def test_1_monthly_postpaid_spend_with_ramp_trues_up_month_2_and_not_month_6() -> None:
    terms = contract(postpaid("min", SEED_SPEND_RAMP, months(12)), currency="GBP")
    spend = ["10000", "8500", "10000", "10000", "20000", "23000"]
    run = simulate(terms, [{"api-calls": s} for s in spend])
    month2, month6 = run.results[1], run.results[5]
    assert amounts(month2, LineType.TRUE_UP) == [D("1500.00")]
    assert month2.total == D("10000.00")  # £8,500 usage billed in full + £1,500 true-up
    assert month2.windows[0].measurement.shortfall == D("1500.00")
    assert amounts(month6, LineType.TRUE_UP) == []
    assert month6.total == D("23000.00")
    assert month6.windows[0].measurement.measured == D("23000.00")


def test_2_usage_commitment_count_penalty_per_gb_short() -> None:
    usage_ramp = ramp((1, "1000"), (4, "2000"), (7, "3000"))
    commitment = Commitment(
        "data",
        CommitmentType.USAGE,
        months(12),
        Frequency.MONTHLY,
        usage_ramp,
        usage_class="data-gb",
        penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),),
    )
    terms = contract(commitment, prices=(price("data-gb", "0"),))
    run = simulate(terms, [{"data-gb": q} for q in ("1000", "1000", "1000", "2000", "1500")])
    month5 = run.results[4]
    assert month5.windows[0].measurement.shortfall == D(500)
    assert amounts(month5, LineType.PENALTY) == [D("5.00")]
    assert month5.windows[0].penalties == (D("5.00"),)
    assert all(amounts(r, LineType.PENALTY) == [] for r in run.results[:4])


def test_3_average_usage_per_sim_count_penalty() -> None:
    term = months(1)
    sims = tuple(
        ServiceLine(f"sim-{n}", "sim-a", ProductKind.SERVICE, D(1), D(0), term) for n in (1, 2)
    )
    commitment = Commitment(
        "avg",
        CommitmentType.AVERAGE_USAGE,
        term,
        Frequency.MONTHLY,
        ramp((1, "10")),
        usage_class="data-mb",
        service="sim-a",
        penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.50")),),
    )
    terms = contract(commitment, term=term, prices=(price("data-mb", "0"),), service_lines=sims)
    result = simulate(terms, [{"data-mb": "16"}]).results[0]  # 6 MB + 10 MB
    m = result.windows[0].measurement
    assert (m.measured, m.volume, m.shortfall) == (D(8), D(2), D(4))
    assert amounts(result, LineType.PENALTY) == [D("2.00")]


def test_4_quarterly_postpaid_rollover_credit_pays_first_3000_of_q2() -> None:
    commitment = postpaid(
        "q", "10000", months(12), frequency=Frequency.QUARTERLY, rollover_fraction=D(1)
    )
    run = simulate(contract(commitment), [{"api-calls": s} for s in ("2000", "2500", "2500")])
    march = run.results[2]
    assert amounts(march, LineType.TRUE_UP) == [D("3000.00")]
    credit = pool_of(run, "rollover:q:1")
    assert (credit.kind, credit.balance, credit.valid) == (
        PoolKind.ROLLOVER,
        D("3000.00"),
        months(3, date(2025, 4, 1)),
    )
    april = run.close_next({"api-calls": "1200"})
    may = run.close_next({"api-calls": "2500"})
    assert amounts(april, LineType.DRAWDOWN) == [D("-1200.00")]
    assert amounts(may, LineType.DRAWDOWN) == [D("-1800.00")]
    assert (april.total, may.total) == (D(0), D("700.00"))
    # Charges paid by the credit still count toward Q2's commitment.
    assert pool_of(run, "tracking:q:1").balance == D("10000") - D("3700")


def test_5_annual_prepaid_billed_monthly_with_surcharge_runs_dry_after_month_8() -> None:
    commitment = prepaid(
        "annual",
        "12000",
        months(12),
        frequency=Frequency.ANNUAL,
        overage_surcharge_percent=D(10),
    )
    run = simulate(contract(commitment), [{"api-calls": "1500"}] * 9)
    for month in run.results[:8]:
        assert amounts(month, LineType.COMMITMENT_FEE) == [D("1000.00")]
        assert amounts(month, LineType.DRAWDOWN) == [D("-1500.00")]
        assert amounts(month, LineType.OVERAGE_SURCHARGE) == []
    assert run.results[7].pools[0].balance == D(0)
    month9 = run.results[8]
    assert amounts(month9, LineType.DRAWDOWN) == []
    assert amounts(month9, LineType.USAGE) == [D("1500.00")]
    assert amounts(month9, LineType.OVERAGE_SURCHARGE) == [D("150.00")]
    assert month9.total == D("2650.00")


def _balance_and_pool_run(order: DrawdownOrder):  # type: ignore[no-untyped-def]
    commitment = prepaid(
        "pre",
        "2000",
        months(1),
        fees=FeeSchedule(amount_prepaid=D(2000)),
        overage_surcharge_percent=D(10),
    )
    terms = contract(commitment, term=months(1), drawdown_order=order)
    balance = new_balance("bal", D(500), months(1), date(2025, 1, 1), "USD", seq=1)
    return simulate(terms, [{"api-calls": "800"}], balances=[balance]).results[0]


@pytest.mark.parametrize(
    ("order", "from_balance", "from_commitment", "total_due"),
    [
        (DrawdownOrder.BALANCE_FIRST, "500", "300", "0"),
        (DrawdownOrder.COMMITMENT_FIRST, "0", "800", "0"),
        (DrawdownOrder.BALANCE_ONLY, "500", "0", "300"),
        (DrawdownOrder.COMMITMENT_ONLY, "0", "800", "0"),
    ],
)
def test_6_balance_and_prepaid_pool_in_each_drawdown_order(
    order: DrawdownOrder, from_balance: str, from_commitment: str, total_due: str
) -> None:
    result = _balance_and_pool_run(order)
    drawn = {d.pool_key: d.amount for d in result.draws}
    assert drawn.get("bal", D(0)) == D(from_balance)
    assert drawn.get("prepaid:pre:0", D(0)) == D(from_commitment)
    assert result.total == D(total_due)
    # BALANCE_ONLY leaves the commitment's pool untouched, so nothing is overage.
    assert total(result, LineType.OVERAGE_SURCHARGE) == D(0)


def test_6_balance_first_draws_balance_before_commitment_in_that_order() -> None:
    result = _balance_and_pool_run(DrawdownOrder.BALANCE_FIRST)
    assert [(d.pool_key, d.amount) for d in result.draws] == [
        ("bal", D(500)),
        ("prepaid:pre:0", D(300)),
    ]
    consumed = [e for e in result.entries if e.kind is EntryKind.CONSUME]
    assert [(e.pool_key, e.amount) for e in consumed] == [
        ("bal", D(-500)),
        ("prepaid:pre:0", D(-300)),
    ]
