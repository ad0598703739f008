"""Per-request access to the previews of open periods (``app.services.preview``).

One DataLoader per request: every contract whose preview a request needs (its upcoming invoice, a
pool's or a balance's ``available``, a window's ``consumed`` / ``remaining``) is previewed in one
batch, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.db import models
from app.services.preview import Preview, preview_many, projected_draw

ZERO = Decimal(0)


def preview_loader(info: Info) -> DataLoader[int, Preview | None]:
    """Contract id → the preview of its oldest open period (None unless the contract is ACTIVE)."""
    loader = info.context.extra.get("previews")
    if loader is None:
        org_id = info.context.loaders.org_id

        async def load(keys: Sequence[int]) -> list[Preview | None]:
            found = await preview_many(org_id, keys)
            return [found.get(k) for k in keys]

        loader = info.context.extra["previews"] = DataLoader(load_fn=load)
    return loader  # type: ignore[no-any-return]


async def projected_draws(info: Info, pool_id: int, contract_id: int | None, account_id: int,
                          currency: str) -> Decimal:
    """What the previews take from a pool: from a contract's pool, its contract's preview; from a
    balance (no contract), the previews of every ACTIVE contract of its account in its currency."""
    if contract_id is not None:
        return await contract_draws(info, contract_id, pool_id)
    contracts = await info.context.loaders.children(models.Contract, "account_id").load(account_id)
    contract_ids = [c.id for c in contracts if c.status == "ACTIVE" and c.currency == currency]
    if not contract_ids:
        return ZERO
    return projected_draw(await preview_loader(info).load_many(contract_ids), pool_id)


async def contract_draws(info: Info, contract_id: int, pool_id: int) -> Decimal:
    """What the preview of contract ``contract_id`` takes from its pool ``pool_id``."""
    return projected_draw([await preview_loader(info).load(contract_id)], pool_id)
