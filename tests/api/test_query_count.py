"""The nested contracts queries cost the same number of SQL statements for 5 contracts as for 50:
DRAFT contracts with their terms, and ACTIVE ones with invoices, lines and live windows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.billing.terms import (
    CommitmentType,
    Frequency,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    PriceTier,
    PricingModel,
    ProductKind,
    RampStep,
    TierBasis,
    TierMode,
)
from app.services import accounts, activation, balances, closing, contracts, products
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
from tests.api.helpers import count_queries, gql, new_org, unpage
from tests.services.test_closing import use
from tests.services.test_credit_back import MONTHLY_PREPAID

D = Decimal
START, END = date(2026, 1, 1), date(2027, 1, 1)

QUERY = """{ contracts(first: 50) { nodes {
  commitments(first: 2) { nodes { rampSteps { fromWindow } penalties { tiers { upTo } } windows { nodes { number } } } }
  prices(first: 2) { nodes { tiers { upTo } } }
  serviceLines(first: 2) { nodes { product { code } } }
  account { balances(first: 1) { nodes { amount } } }
} } }"""


def tiers() -> tuple[PriceTier, ...]:
    return (PriceTier(D(100), D(2), D(0)), PriceTier(None, D(1), D(5)))


def penalty() -> Penalty:
    return Penalty(kind=PenaltyKind.TIERED, basis=TierBasis.UNITS, mode=TierMode.GRADUATED,
                   tiers=(PenaltyTier(D(10), D(1), D(0)), PenaltyTier(None, D(2), D(0))))


async def build(org: int, n: int) -> None:
    ids = {}
    for code, kind, unit in (("sms-mo-mb", ProductKind.USAGE_CLASS, "MB"), ("data-gb", ProductKind.USAGE_CLASS, "GB"),
                             ("sim-a", ProductKind.SERVICE, "SIM"), ("sim-b", ProductKind.SERVICE, "SIM")):
        ids[code] = (await products.create_product(org, products.ProductSpec(code, code, kind, unit))).id
    for i in range(n):
        acc = await accounts.create_account(org, accounts.AccountSpec(name=f"Account {i}"))
        await balances.create_balance(org, balances.BalanceSpec(acc.id, "Credit", "GBP", D(100), START, END))
        await contracts.create_contract(org, ContractSpec(
            account_id=acc.id, name=f"Contract {i}", currency="GBP", start_date=START, end_date=END,
            billing_frequency=Frequency.MONTHLY,
            prices=(PriceSpec(ids["sms-mo-mb"], PricingModel.GRADUATED, tiers=tiers()),
                    PriceSpec(ids["data-gb"], PricingModel.VOLUME, tiers=tiers())),
            service_lines=(ServiceLineSpec(ids["sim-a"], D(10), D(1)), ServiceLineSpec(ids["sim-b"], D(3), D(2))),
            commitments=(
                CommitmentSpec("Spend", CommitmentType.SPEND, Frequency.MONTHLY,
                               (RampStep(1, D(100)), RampStep(5, D(200))), payment=PaymentTiming.POSTPAID,
                               penalties=(penalty(),)),
                CommitmentSpec("Data", CommitmentType.USAGE, Frequency.QUARTERLY,
                               (RampStep(1, D(10)), RampStep(3, D(20))), usage_class_id=ids["data-gb"],
                               penalties=(penalty(), penalty())),
            ),
        ))


async def run_counted(n: int) -> tuple[int, list[str]]:
    org = await new_org(f"N{n}")
    await build(org, n)
    with count_queries() as statements:
        data = unpage(await gql(org, QUERY))
    nodes = data["contracts"]
    assert len(nodes) == n
    for node in nodes:
        assert [len(c["rampSteps"]) for c in node["commitments"]] == [2, 2]
        assert [[len(p["tiers"]) for p in c["penalties"]] for c in node["commitments"]] == [[2], [2, 2]]
        assert [len(c["windows"]) for c in node["commitments"]] == [12, 4]
        assert [len(p["tiers"]) for p in node["prices"]] == [2, 2]
        assert [s["product"]["code"] for s in node["serviceLines"]] == ["sim-a", "sim-b"]
        assert node["account"]["balances"] == [{"amount": "100.00"}]
    return len(statements), statements


async def test_nested_query_count_does_not_grow_with_contracts(db: str) -> None:
    small, small_sql = await run_counted(5)
    large, large_sql = await run_counted(50)
    assert small == large, (small_sql, large_sql)
    assert 0 < small <= 20, small_sql


ACTIVE_QUERY = """{ contracts(first: 50, status: ACTIVE) { nodes {
  invoices(first: 1) { pageInfo { hasNextPage } nodes { number total lines(first: 20) { nodes { type amount } } } }
  commitments { nodes { windows(first: 4) { nodes { number measured shortfall consumed remaining settled } } } }
} } }"""


async def build_active(org: int, n: int) -> None:
    """``n`` ACTIVE contracts, each with usage in January and February, both periods closed (two
    invoices with lines), a monthly prepaid and a quarterly usage commitment (windows live)."""
    mb = (await products.create_product(org, products.ProductSpec("mb", "MB", ProductKind.USAGE_CLASS, "MB"))).id
    account = await accounts.create_account(org, accounts.AccountSpec(name="Active"))
    for i in range(n):
        contract = await contracts.create_contract(org, ContractSpec(
            account_id=account.id, name=f"Active {i}", currency="GBP", start_date=START, end_date=END,
            billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(mb, PricingModel.PER_UNIT, D(1)),),
            commitments=(MONTHLY_PREPAID,
                         CommitmentSpec("Quarterly MB", CommitmentType.USAGE, Frequency.QUARTERLY,
                                        (RampStep(1, D(500)),), usage_class_id=mb)),
        ))
        await activation.activate_contract(org, contract.id)
        for day, quantity in ((date(2026, 1, 5), "150"), (date(2026, 2, 5), "40"), (date(2026, 3, 5), "7")):
            await use(org, contract.id, mb, day, quantity)
        await closing.close_period(org, contract.id)
        await closing.close_period(org, contract.id)


async def run_active(n: int) -> tuple[int, list[str]]:
    org = await new_org(f"A{n}")
    await build_active(org, n)
    with count_queries() as statements:
        nodes = unpage(await gql(org, ACTIVE_QUERY))["contracts"]
    assert len(nodes) == n
    for node in nodes:
        assert node["invoices"]["pageInfo"] == {"hasNextPage": True}
        [invoice] = node["invoices"]["nodes"]
        assert invoice["lines"] and invoice["total"] == str(sum(D(l["amount"]) for l in invoice["lines"]))
        monthly, quarterly = node["commitments"]
        assert [w["settled"] for w in monthly["windows"]] == [True, True, False, False]
        assert monthly["windows"][2]["measured"] == "7.00"  # March, live
        assert quarterly["windows"][0]["measured"] == "197"  # Q1: two closed periods and March, live
        assert quarterly["windows"][0]["settled"] is False
    return len(statements), statements


async def test_nested_read_of_active_contracts_costs_the_same_for_5_and_50(db: str) -> None:
    """Invoices paged for all parents in one statement, their lines in one, and one usage aggregate
    for the live windows of every contract of the request."""
    small, small_sql = await run_active(5)
    large, large_sql = await run_active(50)
    assert small == large, (small_sql, large_sql)
    # Two usage aggregates, each for every contract: the live windows' measures (all open periods of
    # the open windows) and the preview of the oldest open period that consumed/remaining project.
    assert sum("usage_event" in s for s in large_sql) == 2, large_sql
