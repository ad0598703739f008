"""Resolve global ids to objects of the caller's organization (another tenant's id gives null)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import relay
from strawberry.types import Info

from app.api import ids
from app.api.adjustments.types import Adjustment
from app.api.balances.types import Balance
from app.api.catalog.types import Product
from app.api.commitments.types import Commitment
from app.api.contracts.types import Contract, Price, ServiceLine
from app.api.invoices.types import Invoice
from app.api.lifecycle.close_runs import CloseRun
from app.api.ledger.types import CreditPool, LedgerEntry
from app.api.tenancy.types import Account, Organization
from app.api.usage.queries import UsageEvent
from app.db import models


def _plain(view: Any) -> Callable[[Info, Any], Awaitable[Any]]:
    async def make(info: Info, row: Any) -> Any:
        return view.from_row(row)

    return make


def _priced(view: Any) -> Callable[[Info, Any], Awaitable[Any]]:
    async def make(info: Info, row: Any) -> Any:
        contract = await info.context.loaders.by_id(models.Contract).load(row.contract_id)
        return view.from_row(row, contract.currency)

    return make


async def _entry(info: Info, row: Any) -> Any:
    pool = await info.context.loaders.by_id(models.CreditPool).load(row.pool_id)
    return LedgerEntry.from_row(row, pool.currency)


NODE_TYPES: dict[str, tuple[type[Any], Callable[[Info, Any], Awaitable[Any]]]] = {
    "Organization": (models.Organization, _plain(Organization)),
    "Account": (models.Account, _plain(Account)),
    "Product": (models.Product, _plain(Product)),
    "Contract": (models.Contract, _plain(Contract)),
    "Price": (models.Price, _priced(Price)),
    "ServiceLine": (models.ServiceLine, _priced(ServiceLine)),
    "Commitment": (models.Commitment, _priced(Commitment)),
    "Balance": (models.Balance, _plain(Balance)),
    "Invoice": (models.Invoice, _plain(Invoice)),
    "Adjustment": (models.Adjustment, _plain(Adjustment)),
    "CreditPool": (models.CreditPool, _plain(CreditPool)),
    "LedgerEntry": (models.LedgerEntry, _entry),
    "CloseRun": (models.CloseRun, _plain(CloseRun)),
    "UsageEvent": (models.UsageEvent, _plain(UsageEvent)),
}


async def resolve_node(info: Info, global_id: str) -> relay.Node | None:
    parsed = ids.parse(global_id)
    if parsed is None or parsed[0] not in NODE_TYPES:
        return None
    model, make = NODE_TYPES[parsed[0]]
    row = await info.context.loaders.by_id(model).load(parsed[1])
    return None if row is None else await make(info, row)


async def resolve_nodes(info: Info, global_ids: list[str]) -> list[relay.Node | None]:
    return list(await asyncio.gather(*(resolve_node(info, g) for g in global_ids)))
