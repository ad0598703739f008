"""Live window measures of active contracts: one usage aggregate per contract, nothing else grows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.billing.terms import Frequency, PricingModel, ProductKind
from app.services import accounts, activation, products
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import ContractSpec, PriceSpec
from tests.api.helpers import count_queries, gql, unpage
from tests.services.test_closing import use
from tests.services.test_credit_back import MONTHLY_PREPAID

QUERY = """{ contracts(first: 100, status: ACTIVE) { nodes {
  commitments { nodes { windows { nodes { number measured shortfall consumed remaining } } } }
} } }"""


async def statements_for(contracts: int) -> int:
    """SQL statements of QUERY in an organization with ``contracts`` active contracts."""
    org, _ = await create_organization(f"Org {contracts}", "USD")
    product = await products.create_product(org.id, products.ProductSpec("api", "API", ProductKind.USAGE_CLASS, "call"))
    account = await accounts.create_account(org.id, accounts.AccountSpec(name="Acme"))
    for _ in range(contracts):
        contract = await create_contract(org.id, ContractSpec(
            account_id=account.id, name="C", currency="USD", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
            billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(product.id, PricingModel.PER_UNIT, D(1)),),
            commitments=(MONTHLY_PREPAID,)))
        await activation.activate_contract(org.id, contract.id)
        await use(org.id, contract.id, product.id, date(2026, 1, 5), "40")
    with count_queries() as statements:
        data = unpage(await gql(org.id, QUERY))
    nodes = data["contracts"]
    assert len(nodes) == contracts
    assert all(len(n["commitments"][0]["windows"]) == 12 for n in nodes)
    assert nodes[0]["commitments"][0]["windows"][0]["measured"] == "40.00"
    return len(statements)


async def test_windows_of_many_active_contracts_cost_one_aggregate_each(db: str) -> None:
    one, five = await statements_for(1), await statements_for(5)
    assert five - one == 4  # one usage aggregate per extra contract; every other table is read once
