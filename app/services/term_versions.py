"""Which terms bill a period: the contract's versions (SPEC §13).

A contract never amended bills every period from its term rows (``contract_terms``). An amended
one has a ``ContractVersion`` row per version, each holding the whole ``ContractTerms`` of the
version: the terms of a period are those of the latest version effective on or before its start.
The term rows of an amended contract show its latest version (what GraphQL lists as its prices,
lines and commitments); the closes never read them for it.

The account's drawdown order is not a term of the contract: it is taken as it is now, whatever the
version. A contract's termination (SPEC §14) is applied to whichever version a period bills.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.billing.terms import ContractTerms
from app.db.models import Contract, ContractVersion
from app.services.contract_terms import as_terminated, load_agreed_terms_many
from app.services.terms_snapshot import load_terms_json


@dataclass(frozen=True)
class Version:
    """One version of a contract's terms, effective from ``effective`` on."""

    number: int
    effective: date
    terms: ContractTerms


@dataclass(frozen=True)
class TermsHistory:
    """A contract's versions in order (at least one: version 1 from its start)."""

    versions: tuple[Version, ...]

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def at(self, day: date) -> Version:
        """The version billing a period starting on ``day``."""
        found = self.versions[0]
        for version in self.versions:
            if version.effective <= day:
                found = version
        return found


async def load_histories(org_id: int, contracts: Sequence[Contract]) -> dict[int, TermsHistory]:
    """Contract id → its terms history: one statement more than ``load_terms_many`` when one of
    the contracts was amended (``Contract.version`` > 1), none otherwise, whatever their number."""
    if not contracts:
        return {}
    amended = [c.id for c in contracts if c.version > 1]  # no statement when none was amended
    rows = await ContractVersion.filter(organization_id=org_id, contract_id__in=amended) \
        .order_by("contract_id", "number") if amended else []
    stored: dict[int, list[ContractVersion]] = defaultdict(list)
    for row in rows:
        stored[row.contract_id].append(row)
    current = await load_agreed_terms_many(org_id, list(contracts))
    out = {}
    for contract in contracts:
        terms = current[contract.id]
        versions = stored.get(contract.id)
        if not versions:
            out[contract.id] = TermsHistory((Version(1, terms.term.start, as_terminated(contract, terms)),))
            continue
        out[contract.id] = TermsHistory(tuple(
            Version(v.number, v.effective_date, as_terminated(contract, dataclasses.replace(
                load_terms_json(v.terms), drawdown_order=terms.drawdown_order)))
            for v in versions))
    return out


async def load_history(org_id: int, contract: Contract) -> TermsHistory:
    return (await load_histories(org_id, [contract]))[contract.id]
