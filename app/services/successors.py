"""What a close needs of a contract's renewal (SPEC §15): its ACTIVE successor's renewing commitments.

``successors_many`` is part of gathering a close's input (``close_input.gather_many``), for the
single ``closePeriod`` and the batched close alike. For each contract closed it finds the ACTIVE
contract renewing it (``Contract.renews``), and in it every commitment that renews one of the
contract's commitments whose first window is not settled yet, with that window: the billing core
rolls a last window's credit into it (``billing/renewal.py``). A successor that is a DRAFT,
CANCELLED or ENDED, or was moved to another currency while a draft, is no successor for the
close: without one, the rollover expires (SPEC §6).

``renewal_as_closed`` is the same for a correction's replay of the contract's closes (SPEC §17):
the successor its last close saw, with the rollover pools that close could fill.

Locks: a close holds the old contract's lock when it gathers; with ``lock`` the successors' rows are
read ``FOR UPDATE`` after it (the old contract, then the successor — the order ``renewContract``
and every close follow). One statement when no contract closed has an active successor, a fixed
number otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.functions import Max

from app.billing.calendar import commitment_windows
from app.billing.credit import pool_key
from app.billing.ledger import PoolKind
from app.billing.renewal import Successor
from app.db.models import Commitment, CommitmentWindow, Contract, CreditPool
from app.services.contract_terms import load_terms_many


@dataclass(frozen=True)
class Renewal:
    """One contract's active successor as its close sees it.

    ``successors`` go into the ``CloseInput``; ``contract_of`` maps a renewing commitment's key to
    the successor contract's id (the rollover pool it receives belongs to that contract);
    ``next_seq`` is one past the highest pool creation order of the successor."""

    successors: tuple[Successor, ...] = ()
    contract_of: dict[str, int] = field(default_factory=dict)
    next_seq: int = 0


async def successors_many(org_id: int, contracts: Sequence[Contract], *, lock: bool) -> dict[int, Renewal]:
    """Old contract id → its ``Renewal``, for the contracts of ``contracts`` with an ACTIVE successor."""
    query = Contract.filter(organization_id=org_id, renews_id__in=[c.id for c in contracts],
                            status="ACTIVE").order_by("id")
    if lock:
        query = query.select_for_update()
    rows = await query
    if not rows:
        return {}
    renewing = await Commitment.filter(organization_id=org_id, contract_id__in=[r.id for r in rows],
                                       renews_id__isnull=False).values_list("id", "renews_id")
    open_first = set(await CommitmentWindow.filter(
        organization_id=org_id, commitment_id__in=[cid for cid, _ in renewing], number=1, settled=False,
    ).values_list("commitment_id", flat=True))
    renews = {str(cid): str(old) for cid, old in renewing if cid in open_first}
    terms = await load_terms_many(org_id, list(rows))
    seqs = dict(await CreditPool.filter(organization_id=org_id, contract_id__in=[r.id for r in rows])
                .group_by("contract_id").annotate(top=Max("seq")).values_list("contract_id", "top"))
    currency = {c.id: c.currency for c in contracts}
    out = {}
    for row in rows:
        if row.currency != currency[row.renews_id]:
            continue  # the draft was moved to another currency: credit cannot cross currencies
        found = tuple(
            Successor(renews[c.key], c, commitment_windows(c)[0])
            for c in terms[row.id].commitments if c.key in renews
        )
        top = seqs.get(row.id)
        out[row.renews_id] = Renewal(found, {s.commitment.key: row.id for s in found},
                                     0 if top is None else int(top) + 1)
    return out


async def renewal_as_closed(org_id: int, contract: Contract, closed_at: datetime | None) -> Renewal:
    """The successor the contract's last close (written at ``closed_at``) rolled credit into: the
    contract renewing it, activated by then (ACTIVE, or ENDED since), in its currency, with every
    renewing commitment and its first window (``Renewal()``: none). Whether that window has been
    settled since does not matter: the replay redoes the close as it was."""
    if closed_at is None:
        return Renewal()
    row = await Contract.filter(organization_id=org_id, renews_id=contract.id, status__in=["ACTIVE", "ENDED"],
                                currency=contract.currency, activated_at__lte=closed_at).first()
    if row is None:
        return Renewal()
    renewing = dict(await Commitment.filter(organization_id=org_id, contract_id=row.id, renews_id__isnull=False)
                    .values_list("id", "renews_id"))
    terms = (await load_terms_many(org_id, [row]))[row.id]
    found = tuple(Successor(str(renewing[int(c.key)]), c, commitment_windows(c)[0])
                  for c in terms.commitments if int(c.key) in renewing)
    return Renewal(found, {s.commitment.key: row.id for s in found}, 0)


def rollover_keys(renewal: Renewal) -> list[str]:
    """The keys of the pools a last close rolls credit into: each renewing commitment's first window."""
    return [pool_key(PoolKind.ROLLOVER, s.commitment.key, 0) for s in renewal.successors]
