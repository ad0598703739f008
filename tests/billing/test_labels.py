"""Invoice lines a finance person can read: amounts at the minor unit, percents without trailing
zeros, commitments and pools by their names, windows by their dates (issue: lines read like debug
output, ``overage surcharge 10.000000000000% on 250.000000000000``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from fractions import Fraction

import pytest

from app.billing.credit import new_balance
from app.billing.labels import money_text, percent_text, pool_label, quantity_text, span_label
from app.billing.ledger import Pool, PoolKind
from app.billing.terms import (
    CommitmentType,
    DateRange,
    Frequency,
    LineType,
    Penalty,
    PenaltyKind,
    RampStep,
)
from app.billing.terms import Commitment
from tests.billing.money_builders import START, contract, months, postpaid, prepaid, price, simulate


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2026, 1, 1), date(2026, 2, 1), "January 2026"),
        (date(2026, 1, 1), date(2026, 4, 1), "Q1 2026"),
        (date(2026, 10, 1), date(2027, 1, 1), "Q4 2026"),
        (date(2026, 7, 1), date(2027, 1, 1), "H2 2026"),
        (date(2026, 1, 1), date(2027, 1, 1), "2026"),
        (date(2026, 2, 1), date(2026, 5, 1), "1 Feb 2026 – 30 Apr 2026"),
        (date(2026, 1, 15), date(2026, 2, 15), "15 Jan 2026 – 14 Feb 2026"),
        (date(2026, 1, 1), date(2028, 1, 1), "1 Jan 2026 – 31 Dec 2027"),
    ],
)
def test_spans_are_named_by_their_dates(start: date, end: date, label: str) -> None:
    assert span_label(DateRange(start, end)) == label


def test_figures_are_shown_as_people_write_them() -> None:
    assert percent_text(D("10.000000000000")) == "10%"
    assert percent_text(D("12.500000000000")) == "12.5%"
    assert percent_text(D("-100")) == "-100%"
    assert money_text(D("250.000000000000"), "GBP") == "250.00 GBP"
    assert money_text(D("1500"), "JPY") == "1500 JPY"
    assert money_text(Fraction(1, 3), "KWD") == "0.333 KWD"
    assert quantity_text(D("60.985000000000")) == "60.985"
    assert quantity_text(D("1E+3")) == "1000"


def test_pools_are_named_by_what_they_are() -> None:
    annual = prepaid("5", "12000", months(12), frequency=Frequency.ANNUAL, name="Annual prepaid")
    quarter = Pool("prepaid:5:0", PoolKind.PREPAID, DateRange(date(2026, 1, 1), date(2026, 4, 1)), D(0),
                   commitment_key="5")
    assert pool_label(quarter, annual) == 'Q1 2026 credit of "Annual prepaid"'
    rolled = Pool("rollover:5:1", PoolKind.ROLLOVER, DateRange(date(2026, 2, 1), date(2026, 3, 1)), D(0),
                  commitment_key="5")
    assert pool_label(rolled, annual) == 'credit rolled into February 2026 from "Annual prepaid"'
    balance = Pool("balance:3", PoolKind.BALANCE, DateRange(date(2026, 1, 1), date(2027, 1, 1)), D(0),
                   name="Welcome credit")
    assert pool_label(balance) == 'balance "Welcome credit"'
    assert pool_label(quarter, None) == "Q1 2026 credit of commitment 5"


def descriptions(result) -> dict[LineType, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[LineType, list[str]] = {}
    for line in result.lines:
        out.setdefault(line.type, []).append(line.description)
    return out


def test_prepaid_lines_name_the_commitment_its_credit_and_round_the_surcharge() -> None:
    annual = prepaid("5", "1000", months(12), frequency=Frequency.ANNUAL, name="Annual prepaid",
                     overage_surcharge_percent=D("10.000000000000"))
    run = simulate(contract(annual), [{"api-calls": "1250"}])
    lines = descriptions(run.results[0])
    assert lines[LineType.DRAWDOWN] == ['usage: api-calls paid from 2025 credit of "Annual prepaid"']
    assert lines[LineType.OVERAGE_SURCHARGE] == ["overage surcharge 10% on 250.00 USD of overage: api-calls"]
    assert lines[LineType.COMMITMENT_FEE] == ['commitment fee of "Annual prepaid": instalment 1 of 12']
    assert all("000000" not in text and "prepaid:" not in text for texts in lines.values() for text in texts)


def test_postpaid_and_penalty_lines_name_the_window_by_its_dates() -> None:
    minimum = postpaid("7", "1000", months(3), frequency=Frequency.QUARTERLY, name="Quarterly minimum",
                       overage_surcharge_percent=D("12.5"))
    run = simulate(contract(minimum, term=months(3)), [{"api-calls": "400"}, {"api-calls": "0"}, {"api-calls": "0"}])
    assert descriptions(run.results[2])[LineType.TRUE_UP] == ['true-up of "Quarterly minimum" for Q1 2025']
    over = simulate(contract(minimum, term=months(3)), [{"api-calls": "1100"}])
    assert descriptions(over.results[0])[LineType.OVERAGE_SURCHARGE] == [
        'overage surcharge 12.5% on 100.00 USD above the Q1 2025 minimum of "Quarterly minimum"'
    ]
    usage = Commitment("9", CommitmentType.USAGE, months(1), Frequency.MONTHLY, (RampStep(1, D(1000)),),
                       usage_class="gb", penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),),
                       name="Data floor")
    missed = simulate(contract(usage, term=months(1), prices=(price("gb"),)), [{"gb": "499.5"}])
    assert descriptions(missed.results[0])[LineType.PENALTY] == [
        'count penalty of "Data floor" for January 2025: 500.5 short'
    ]


def test_a_balance_line_names_the_balance() -> None:
    pool, issued = new_balance("balance:1", D(50), months(12), START, "USD", seq=1)
    named = (Pool(**{**pool.__dict__, "name": "Goodwill"}), issued)
    run = simulate(contract(), [{"api-calls": "20"}], balances=[named])
    assert descriptions(run.results[0])[LineType.DRAWDOWN] == ['usage: api-calls paid from balance "Goodwill"']
