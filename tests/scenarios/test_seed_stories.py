"""The seeds' stories, end to end through GraphQL: draft → active → usage → invoices.

Every figure is worked out by hand in the test (see docs/billing-rules.md) and must match the
invoices the service writes. They run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.scenarios.story import Story, amounts, total

YEAR = {"startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}


def at(month: int, day: int = 15) -> str:
    return f"2026-{month:02d}-{day:02d}T12:00:00Z"


async def test_logisense_ramp_10k_20k_30k_over_twelve_months_with_misses_and_a_minimum_charge(db: str) -> None:
    story = await Story.start("GBP")
    gb = await story.product("data-gb", "USAGE_CLASS", "GB")
    account = await story.account()
    contract = await story.contract({
        "accountId": account, "name": "Ramp", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": gb, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Monthly spend ramp", "type": "SPEND", "payment": "POSTPAID", "frequency": "MONTHLY",
            "rampSteps": [{"fromWindow": 1, "amount": "10000"}, {"fromWindow": 5, "amount": "20000"},
                          {"fromWindow": 9, "amount": "30000"}],
            "penalties": [{"kind": "CHARGE", "amount": "5000"}],
        }],
    })
    spend = ["10000", "8500", "3200", "12000", "19000", "23000", "20000", "20000", "30000", "29999.50", "31000", None]
    expected = [  # (true-up, penalty) per month
        (None, None), ("1500.00", None), ("6800.00", "1800.00"), (None, None), ("1000.00", None), (None, None),
        (None, None), (None, None), (None, None), ("0.50", None), (None, None), ("30000.00", "5000.00"),
    ]
    for month, quantity in enumerate(spend, start=1):
        if quantity:
            await story.usage(contract, "data-gb", quantity, at(month), f"m{month}")
    for month, (true_up, penalty) in enumerate(expected, start=1):
        invoice = await story.close(contract)
        assert amounts(invoice, "TRUE_UP") == ([D(true_up)] if true_up else []), month
        assert amounts(invoice, "PENALTY") == ([D(penalty)] if penalty else []), month
        usage = D(spend[month - 1] or 0)
        assert total(invoice) == usage + D(true_up or 0) + D(penalty or 0), month
    status = await story.run("query($id: ID!) { node(id: $id) { ... on Contract { status } } }", id=contract)
    assert status["node"]["status"] == "ENDED"


async def test_one_two_three_terabyte_usage_ramp_with_a_count_penalty(db: str) -> None:
    story = await Story.start("GBP")
    gb = await story.product("data-gb", "USAGE_CLASS", "GB")
    contract = await story.contract({
        "accountId": await story.account(), "name": "TB ramp", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": gb, "model": "PER_UNIT", "unitAmount": "0.02"}],
        "commitments": [{
            "name": "Data ramp", "type": "USAGE", "usageClassId": gb, "frequency": "MONTHLY",
            "rampSteps": [{"fromWindow": 1, "amount": "1000"}, {"fromWindow": 4, "amount": "2000"},
                          {"fromWindow": 7, "amount": "3000"}],
            "penalties": [{"kind": "COUNT", "rate": "0.01"}],
        }],
    })
    usage = {1: "1000", 2: "1200", 3: "999", 4: "2000", 5: "1500", 6: "2600", 7: "2500"}
    for month, quantity in usage.items():
        await story.usage(contract, "data-gb", quantity, at(month), f"u{month}")
    penalties = {1: None, 2: None, 3: "0.01", 4: None, 5: "5.00", 6: None, 7: "5.00"}
    for month, penalty in penalties.items():
        invoice = await story.close(contract)
        assert amounts(invoice, "PENALTY") == ([D(penalty)] if penalty else []), month
        assert amounts(invoice, "USAGE") == [(D(usage[month]) * D("0.02")).quantize(D("0.01"))]


async def test_average_usage_of_ten_megabytes_per_sim(db: str) -> None:
    story = await Story.start("GBP")
    mb = await story.product("sms-mo-mb", "USAGE_CLASS", "MB")
    sim = await story.product("sim-a", "SERVICE", "SIM")
    contract = await story.contract({
        "accountId": await story.account(), "name": "SIMs", "currency": "GBP", **YEAR,
        "prices": [{"usageClassId": mb, "model": "PER_UNIT", "unitAmount": "0.10"}],
        "serviceLines": [{"productId": sim, "quantity": "1", "unitPrice": "5", "externalId": "447700900001"},
                         {"productId": sim, "quantity": "1", "unitPrice": "5", "externalId": "447700900002"}],
        "commitments": [{
            "name": "Average 10 MB", "type": "AVERAGE_USAGE", "usageClassId": mb, "serviceId": sim,
            "frequency": "MONTHLY", "rampSteps": [{"fromWindow": 1, "amount": "10"}],
            "penalties": [{"kind": "COUNT", "rate": "0.50"}],
        }],
    })
    await story.usage(contract, "sms-mo-mb", "6", at(1), "sim1")
    await story.usage(contract, "sms-mo-mb", "10", at(1, 20), "sim2")
    invoice = await story.close(contract)
    assert amounts(invoice, "PENALTY") == [D("2.00")]  # average 8 → 2 MB short × 2 SIMs × 0.50
    assert amounts(invoice, "RECURRING") == [D("5.00"), D("5.00")]
    assert total(invoice) == D("1.60") + D("10.00") + D("2.00")


async def test_nue_quarterly_committed_pool_rolls_the_shortfall_into_a_credit(db: str) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Quarterly pool", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Committed pool", "type": "SPEND", "payment": "POSTPAID", "frequency": "QUARTERLY",
            "rampSteps": [{"fromWindow": 1, "amount": "10000"}], "rolloverFraction": "1",
        }],
    })
    for month, quantity in {1: "2000", 2: "2500", 3: "2500", 4: "4000"}.items():
        await story.usage(contract, "api-calls", quantity, at(month), f"q{month}")
    january, february, march, april = [await story.close(contract) for _ in range(4)]
    assert amounts(january, "TRUE_UP") == amounts(february, "TRUE_UP") == []
    assert amounts(march, "TRUE_UP") == [D("3000.00")]
    assert amounts(april, "DRAWDOWN") == [D("-3000.00")]
    assert total(april) == D("1000.00")


@pytest.mark.parametrize(
    ("order", "draws"),
    [
        ("BALANCE_FIRST", ["-500.00", "-1000.00"]),
        ("COMMITMENT_FIRST", ["-1500.00"]),
        ("BALANCE_ONLY", ["-500.00"]),
        ("COMMITMENT_ONLY", ["-1500.00"]),
    ],
)
async def test_m3ter_annual_prepayment_beside_a_balance_in_each_drawdown_order(db: str, order: str, draws: list[str]) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account(drawdown=order)
    balance = await story.run(
        "mutation($i: CreateBalanceInput!) { createBalance(input: $i) { balance { id } userErrors { code } } }",
        i={"accountId": account, "name": "Sign-up credit", "currency": "USD", "amount": "500",
           "startDate": "2026-01-01", "endDate": "2027-01-01"},
    )
    assert balance["createBalance"]["userErrors"] == []
    contract = await story.contract({
        "accountId": account, "name": "Annual prepaid", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Annual $12,000", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
            "rampSteps": [{"fromWindow": 1, "amount": "12000"}], "overageSurchargePercent": "10",
            "eligibleChargeTypes": ["USAGE"],
        }],
    })
    await story.usage(contract, "api-calls", "1500", at(1), "jan")
    invoice = await story.close(contract)
    assert amounts(invoice, "COMMITMENT_FEE") == [D("1000.00")]
    assert amounts(invoice, "DRAWDOWN") == [D(d) for d in draws]
    assert total(invoice) == D("1500.00") + D("1000.00") + sum(D(d) for d in draws)


async def test_m3ter_annual_prepayment_runs_dry_in_month_eight_and_surcharges_month_nine(db: str) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Annual prepaid", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
        "commitments": [{
            "name": "Annual $12,000", "type": "SPEND", "payment": "PREPAID", "frequency": "ANNUAL",
            "rampSteps": [{"fromWindow": 1, "amount": "12000"}], "overageSurchargePercent": "10",
            "eligibleChargeTypes": ["USAGE"],
        }],
    })
    for month in range(1, 10):
        await story.usage(contract, "api-calls", "1500", at(month), f"m{month}")
    invoices = [await story.close(contract) for _ in range(9)]
    assert sum(-d for inv in invoices[:8] for d in amounts(inv, "DRAWDOWN")) == D("12000.00")
    assert amounts(invoices[8], "DRAWDOWN") == []
    assert amounts(invoices[8], "OVERAGE_SURCHARGE") == [D("150.00")]
    assert total(invoices[8]) == D("1000.00") + D("1500.00") + D("150.00")


async def test_late_usage_for_a_closed_period_is_rejected_and_changes_nothing(db: str) -> None:
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account(), "name": "Late", "currency": "USD", **YEAR,
        "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
    })
    await story.usage(contract, "api-calls", "10", at(1), "on-time")
    january = await story.close(contract)
    late = await story.run(
        "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted rejected results { status code } } }",
        e=[{"contractId": contract, "usageClass": "api-calls", "quantity": "5", "timestamp": at(1, 20),
            "idempotencyKey": "late"}],
    )
    assert late["recordUsage"]["results"] == [{"status": "REJECTED", "code": "PERIOD_CLOSED"}]
    again = await story.run(
        "mutation($c: ID!) { closePeriod(contractId: $c, periodStart: \"2026-01-01\") { invoice { total } } }", c=contract)
    assert again["closePeriod"]["invoice"]["total"] == january["total"] == "10.00"
