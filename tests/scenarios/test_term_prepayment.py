"""A two-year TERM prepayment, end to end through GraphQL (SPEC §2, §6).

$24,000 prepaid for 1 Jan 2026 – 31 Dec 2027 as one pool, $6,000 of it paid outside the service;
the other $18,000 billed by plan (24 monthly parts of $750) or on two fee dates ($9,000 each on
1 Jan 2026 and 1 Jan 2027). $800 of usage a month draws on the one pool through both years; at the
end of the term the $4,800 left expires (rollover is on, but nothing rolls past the term). Runs on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tests.scenarios.story import Story, amounts, total

TWO_YEARS = {"startDate": "2026-01-01", "endDate": "2028-01-01", "billingFrequency": "MONTHLY"}
MONTHS = [(2026 + m // 12, m % 12 + 1) for m in range(24)]
TERM_LABEL = "term 1 Jan 2026 – 31 Dec 2027"

COMMITMENT = """query($id: ID!) { node(id: $id) { ... on Contract { status commitments { nodes {
  frequency windows { nodes { number startDate endDate partial committed consumed remaining settled } }
  pools { nodes { kind validFrom validTo balance entries(first: 100) { nodes { kind amount date } } } }
} } } } }"""

INVOICE_LINES = """query($id: ID!) { node(id: $id) { ... on Contract {
  invoices(first: 100) { nodes { periodStart lines(first: 100) { nodes { type amount description } } } }
} } }"""


def prepayment(fees: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Two-year prepaid", "type": "SPEND", "payment": "PREPAID", "frequency": "TERM",
        "rampSteps": [{"fromWindow": 1, "amount": "24000"}], "amountPrepaid": "6000",
        "rolloverFraction": "0.5", "eligibleChargeTypes": ["USAGE"], **fees,
    }


BY_PLAN: dict[str, Any] = {"feeBilling": "BILLING_PLAN"}
BY_DATES: dict[str, Any] = {
    "feeBilling": "FEE_DATES",
    "feeDates": [{"date": "2026-01-01", "amount": "9000"}, {"date": "2027-01-01", "amount": "9000"}],
}


@pytest.mark.parametrize(
    ("fees", "expected_fees"),
    [(BY_PLAN, [D("750.00")] * 24), (BY_DATES, [D("9000.00")] + [D(0)] * 11 + [D("9000.00")] + [D(0)] * 11)],
    ids=["by-plan", "by-dates"],
)
async def test_a_two_year_term_prepayment_billed_by_plan_and_by_dates(
    db: str, fees: dict[str, Any], expected_fees: list[D]
) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Two-year prepayment", "currency": "USD", **TWO_YEARS,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [prepayment(fees)],
    })
    before = (await story.run(COMMITMENT, id=contract))["node"]["commitments"][0]
    assert before["windows"] == [{
        "number": 1, "startDate": "2026-01-01", "endDate": "2028-01-01", "partial": False,
        "committed": "24000.00", "consumed": "0.00", "remaining": "24000.00", "settled": False,
    }]
    for year, month in MONTHS:
        await story.usage(contract, "api-calls", "800", f"{year}-{month:02d}-10T09:00:00Z", f"u{year}{month}")

    invoices = [await story.close(contract) for _ in MONTHS]

    fee_lines = [sum(amounts(inv, "COMMITMENT_FEE"), D(0)) for inv in invoices]
    assert fee_lines == expected_fees
    assert sum(fee_lines) == D(24000) - D(6000)  # T − amountPrepaid
    for inv, fee in zip(invoices, expected_fees, strict=True):
        assert amounts(inv, "USAGE") == [D("800.00")]
        assert amounts(inv, "DRAWDOWN") == [D("-800.00")]  # both years draw on the one pool
        assert amounts(inv, "OVERAGE_SURCHARGE") == []
        assert total(inv) == fee

    after = (await story.run(COMMITMENT, id=contract))["node"]
    assert after["status"] == "ENDED"
    (commitment,) = after["commitments"]
    assert commitment["frequency"] == "TERM"
    (window,) = commitment["windows"]
    assert (window["consumed"], window["remaining"], window["settled"]) == ("19200.00", "0.00", True)
    (pool,) = commitment["pools"]  # one pool, and no rollover credit: nothing rolls past the term
    assert (pool["kind"], pool["validFrom"], pool["validTo"], pool["balance"]) == (
        "PREPAID", "2026-01-01", "2028-01-01", "0.00")
    entries = pool["entries"]
    assert [(e["kind"], e["amount"]) for e in entries if e["kind"] != "CONSUME"] == [
        ("ISSUE", "24000.00"), ("EXPIRE", "-4800.00")]
    consumed = [D(e["amount"]) for e in entries if e["kind"] == "CONSUME"]
    assert len(consumed) == 24 and sum(consumed) == D("-19200.00")
    assert entries[-1]["date"] == "2028-01-01"

    lines = (await story.run(INVOICE_LINES, id=contract))["node"]["invoices"]
    draws = [line["description"] for inv in lines for line in inv["lines"] if line["type"] == "DRAWDOWN"]
    assert len(draws) == 24 and all(f'{TERM_LABEL} credit of "Two-year prepaid"' in d for d in draws)


async def test_term_is_refused_as_a_billing_frequency_and_with_a_second_ramp_step(db: str) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account()
    create = "mutation($i: CreateContractInput!) { createContract(input: $i) { userErrors { code field } } }"
    billed_by_term = await story.run(create, i={
        "accountId": account, "name": "x", "currency": "USD", **TWO_YEARS, "billingFrequency": "TERM",
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
    })
    assert billed_by_term["createContract"]["userErrors"] == [
        {"code": "INVALID_FREQUENCY", "field": "input.billingFrequency"}]
    ramped = prepayment(BY_PLAN) | {
        "rampSteps": [{"fromWindow": 1, "amount": "10000"}, {"fromWindow": 2, "amount": "14000"}]}
    two_steps = await story.run(create, i={
        "accountId": account, "name": "y", "currency": "USD", **TWO_YEARS, "commitments": [ramped],
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
    })
    assert two_steps["createContract"]["userErrors"] == [
        {"code": "INVALID_RAMP", "field": "input.commitments.0.rampSteps"}]
