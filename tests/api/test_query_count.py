"""The nested contracts query costs the same number of SQL statements for 5 contracts as for 50."""

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
from app.services import accounts, balances, contracts, products
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
from tests.api.helpers import count_queries, gql, new_org, unpage

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
