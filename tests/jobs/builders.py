"""Many small ACTIVE contracts, quickly, each of its own account: one usage class, monthly, two periods
(January, February 2025)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D

from app.billing.terms import Frequency, PricingModel, ProductKind
from app.services import accounts, activation, products
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import ContractSpec, PriceSpec

START, END = date(2025, 1, 1), date(2025, 3, 1)
PERIODS = 2


async def org_with_contracts(n: int, name: str = "Closer", parallel: int = 8) -> tuple[int, list[int]]:
    """An organization with ``n`` ACTIVE contracts of ``PERIODS`` due periods each."""
    org, _ = await create_organization(name, "USD")
    usage = await products.create_product(org.id, products.ProductSpec("calls", "Calls", ProductKind.USAGE_CLASS, "call"))
    gate = asyncio.Semaphore(parallel)

    async def one() -> int:
        async with gate:  # an account each: chunks keep an account's contracts together
            account = await accounts.create_account(org.id, accounts.AccountSpec(name="Acme"))
            contract = await create_contract(org.id, ContractSpec(
                account_id=account.id, name="C", currency="USD", start_date=START, end_date=END,
                billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(usage.id, PricingModel.PER_UNIT, D("0.5")),)))
            await activation.activate_contract(org.id, contract.id)
            return contract.id

    return org.id, list(await asyncio.gather(*(one() for _ in range(n))))
