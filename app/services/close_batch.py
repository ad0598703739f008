"""Due closes in chunks of contracts: the unit of work a job closes (README "Workers").

``plan_chunks`` cuts the due list into chunks of at most ``CHUNK_SIZE`` contracts, a contract's
periods always in one chunk and in order; ``close_chunk`` closes one chunk and reports like
``close_due_periods``. A chunk closed twice closes nothing twice: a closed period is found closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app.services.closing import DueCloseReport, close_targets

CHUNK_SIZE = 500


def plan_chunks(todo: Sequence[tuple[int, date]], size: int = CHUNK_SIZE) -> list[list[tuple[int, date]]]:
    """``todo`` (contract id, period start), in closing order, cut into chunks of ≤ ``size`` contracts."""
    chunks: list[list[tuple[int, date]]] = []
    contracts: set[int] = set()
    for contract_id, start in todo:  # a contract's periods are next to each other in closing order
        if contract_id not in contracts:
            if not chunks or len(contracts) >= size:
                chunks.append([])
                contracts = set()
            contracts.add(contract_id)
        chunks[-1].append((contract_id, start))
    return chunks


async def close_chunk(org_id: int, targets: Sequence[tuple[int, date]], as_of: date) -> DueCloseReport:
    """Close the periods of one chunk, in order; one contract's failure skips its later periods only."""
    return await close_targets(org_id, targets, as_of)
