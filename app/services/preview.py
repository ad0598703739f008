"""Preview of the open period: what the next close of each ACTIVE contract will bill, from what is
recorded so far.

A preview runs the pure close (``app.billing.close.close_period``) on the input the close itself
would gather now (``close_input.gather_many``): same terms, same usage totals, same one-time and
prior charges, same pools. It previews the contract's oldest open billing period, ended or not (the
close timing rule plays no part), writes nothing and takes no lock. What it draws from each pool is
the *projected* part of the live figures (a pool's ``available``, a window's ``consumed`` and
``remaining``); what the ledger holds is the *settled* part.

Balances shared by several contracts: the account's ACTIVE contracts in one currency are previewed
one after the other in creation order (the order ``closeDuePeriods`` closes them in), each seeing
the balances as the previews before it left them. So the projected draws on a balance never add up
to more than it holds, and each preview is exactly what its close will bill when the contracts'
open periods close in that order (and no later period of one of them closes before). Closed by hand in another order, a shared balance may be split
differently between the contracts (never more in total), and the previews move accordingly.

Cost: a fixed number of statements for any number of contracts (the contracts and their account's
other active contracts, their open periods, then ``gather_many``'s batch). On PostgreSQL they read
one snapshot (``read_snapshot``: repeatable read, read only, no lock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from tortoise.expressions import Subquery

from app.billing.close import CloseResult, close_period as core_close
from app.billing.errors import BillingError
from app.billing.ledger import EntryKind, Pool
from app.db.models import BillingPeriod, Contract
from app.db.snapshot import read_snapshot
from app.services.close_input import Gathered, gather_many
from app.services.errors import UserError, from_billing

ZERO = Decimal(0)


@dataclass(frozen=True)
class Preview:
    """The projected close of one contract's oldest open period.

    ``result`` is what the close would return now; ``error`` why it would fail (then ``result`` is
    None and nothing is projected). ``pool_ids`` maps the input's pool keys to their row ids.
    """

    contract_id: int
    period: BillingPeriod
    result: CloseResult | None
    error: UserError | None
    pool_ids: dict[str, int]

    @property
    def drawn(self) -> dict[int, Decimal]:
        """Pool row id → what this preview takes from it as CONSUME entries (draws, or tracked spend)."""
        out: dict[int, Decimal] = defaultdict(Decimal)
        if self.result is not None:
            for item in self.result.entries:
                if item.kind is EntryKind.CONSUME and item.pool_key in self.pool_ids:
                    out[self.pool_ids[item.pool_key]] -= item.amount
        return dict(out)


def projected_draw(previews: Iterable[Preview | None], pool_id: int) -> Decimal:
    """What the previews take from pool ``pool_id``: to subtract from its settled balance."""
    return sum((p.drawn.get(pool_id, ZERO) for p in previews if p is not None), ZERO)


async def preview_many(org_id: int, contract_ids: Sequence[int]) -> dict[int, Preview]:
    """Contract id → the preview of its oldest open period, for the ACTIVE ones among
    ``contract_ids`` (others, and other organizations' ids, are absent)."""
    asked = list(dict.fromkeys(contract_ids))
    if not asked:
        return {}
    async with read_snapshot():  # one consistent view, no lock: a close committing meanwhile is all or nothing
        return await _preview_many(org_id, asked)


async def _preview_many(org_id: int, asked: list[int]) -> dict[int, Preview]:
    accounts = Contract.filter(organization_id=org_id, id__in=asked, status="ACTIVE").values("account_id")
    # Every active contract of those accounts: they may share balances with the ones asked about.
    contracts = await Contract.filter(
        organization_id=org_id, status="ACTIVE", account_id__in=Subquery(accounts)).order_by("id")
    opened = await BillingPeriod.filter(
        organization_id=org_id, contract_id__in=[c.id for c in contracts], status="OPEN").order_by("number")
    oldest: dict[int, BillingPeriod] = {}
    for row in opened:
        oldest.setdefault(row.contract_id, row)
    targets = [(c, oldest[c.id]) for c in contracts if c.id in oldest]
    gathered = await gather_many(org_id, targets)
    out: dict[int, Preview] = {}
    balances: dict[tuple[int, str], dict[str, Pool]] = defaultdict(dict)  # as the previews so far left them
    for contract, row in targets:  # in creation order
        shared = balances[(contract.account_id, contract.currency)]
        out[contract.id] = _preview(contract, row, gathered[contract.id], shared)
    return {cid: out[cid] for cid in asked if cid in out}


def _preview(contract: Contract, row: BillingPeriod, gathered: Gathered, shared: dict[str, Pool]) -> Preview:
    """One contract's preview, drawing on ``shared`` balances (updated with what it leaves in them)."""
    balance_keys = {key for key, r in gathered.pool_rows.items() if r.contract_id is None}
    pools = tuple(shared.get(p.key, p) for p in gathered.input.pools)
    pool_ids = {key: r.id for key, r in gathered.pool_rows.items()}
    try:
        result = core_close(replace(gathered.input, pools=pools))
    except BillingError as exc:
        return Preview(contract.id, row, None, from_billing(exc, "contract"), pool_ids)
    shared.update({p.key: p for p in result.pools if p.key in balance_keys})
    return Preview(contract.id, row, result, None, pool_ids)
