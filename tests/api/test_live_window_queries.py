"""Live window measures of active contracts: one usage aggregate for all of them, nothing grows."""

from __future__ import annotations

from datetime import date
from typing import Any
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


async def test_windows_of_many_active_contracts_cost_the_same_statements_as_one(db: str) -> None:
    one, five = await statements_for(1), await statements_for(5)
    assert five == one  # every table is read once, the usage aggregate included, for all contracts


async def test_what_closes_kept_is_read_only_for_periods_inside_an_open_window(
        db: str, monkeypatch: Any) -> None:
    """A settled window shows its stored figures: the usage totals and rated charges its periods'
    closes kept are not read again (a long-running contract's past would be read on every request)."""
    from app.services import closing, windows

    org, _ = await create_organization("Settled", "USD")
    product = await products.create_product(org.id, products.ProductSpec("api", "API", ProductKind.USAGE_CLASS, "call"))
    account = await accounts.create_account(org.id, accounts.AccountSpec(name="Acme"))
    contract = await create_contract(org.id, ContractSpec(
        account_id=account.id, name="C", currency="USD", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(product.id, PricingModel.PER_UNIT, D(1)),),
        commitments=(MONTHLY_PREPAID,)))
    await activation.activate_contract(org.id, contract.id)
    for day in (date(2026, 1, 5), date(2026, 2, 5), date(2026, 3, 5)):
        await use(org.id, contract.id, product.id, day, "40")
    await closing.close_period(org.id, contract.id)
    await closing.close_period(org.id, contract.id)  # January and February: windows 1 and 2 settled

    asked: list[list[int]] = []
    for name in ("PeriodUsage", "RatedCharge"):
        monkeypatch.setattr(windows, name, _Recording(getattr(windows, name), asked))
    data = unpage(await gql(org.id, QUERY))
    [window_1, window_2, window_3, *_] = data["contracts"][0]["commitments"][0]["windows"]
    assert [window_1["measured"], window_2["measured"], window_3["measured"]] == ["40.00", "40.00", "40.00"]
    assert asked == [[], []]  # no closed period lies inside an open window


class _Recording:
    """Stands for a model in app.services.windows: records the periods each ``filter`` asks for."""

    def __init__(self, model: Any, asked: list[list[int]]) -> None:
        self.model, self.asked = model, asked

    def filter(self, **kwargs: Any) -> Any:
        self.asked.append(list(kwargs["billing_period_id__in"]))
        return self.model.filter(**kwargs)
