"""What validating a batch of usage events needs from the database, loaded once per batch, and the
resolution of each event to its usage class and contract (SPEC §10).

The reads are a fixed number per batch whatever its size (products, accounts, contracts, their
prices and usage commitments); ``resolve`` then works in memory. They run on the connection of the
caller's transaction (``usage.record_batch`` opens one), so a batch borrows one pool connection.

An event naming a contract must be for a usage class the contract prices or commits on (USAGE or
AVERAGE_USAGE), like one naming an account; otherwise NO_MATCHING_CONTRACT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from app.billing.terms import CommitmentType, ProductKind
from app.db.models import Account, Commitment, Contract, Price, Product
from app.services.errors import ErrorCode
from app.services.usage_rules import ACTIVE, ENDED, Rejected, ShapedEvent, UsageEventSpec

_USAGE_COMMITMENTS = (CommitmentType.USAGE.value, CommitmentType.AVERAGE_USAGE.value)
_USAGE_CLASS = ProductKind.USAGE_CLASS.value


@dataclass(slots=True)
class Lookups:
    products_by_id: dict[int, dict[str, Any]]
    products_by_code: dict[str, dict[str, Any]]
    accounts: set[int]
    contracts: dict[int, dict[str, Any]]
    active_by_account: dict[int, list[int]]
    classes: dict[int, set[int]]  # contract id → usage classes it prices or commits on


async def load(org_id: int, specs: Sequence[UsageEventSpec], events: Sequence[ShapedEvent]) -> Lookups:
    """Everything ``resolve`` needs for ``events`` (the shaped ones of ``specs``), in ≤ 5 reads."""
    wanted = [specs[e.index] for e in events]
    product_ids = {s.usage_class_id for s in wanted if s.usage_class_id is not None}
    codes = {s.usage_class_code for s in wanted if s.usage_class_code is not None}
    contract_ids = {s.contract_id for s in wanted if s.contract_id is not None}
    account_ids = {s.account_id for s in wanted if s.account_id is not None}
    products: list[dict[str, Any]] = []
    if product_ids or codes:
        products = await Product.filter(organization_id=org_id).filter(
            Q(id__in=list(product_ids)) | Q(code__in=list(codes))).values("id", "code", "kind")
    accounts: set[int] = set()
    if account_ids:
        accounts = set(await Account.filter(organization_id=org_id, id__in=list(account_ids))
                       .values_list("id", flat=True))
    rows: list[dict[str, Any]] = []
    if contract_ids or accounts:
        rows = await Contract.filter(organization_id=org_id).filter(
            Q(id__in=list(contract_ids)) | Q(account_id__in=list(accounts), status=ACTIVE)
        ).values("id", "account_id", "status", "start_date", "end_date")
    contracts = {r["id"]: r for r in rows}
    active_by_account: dict[int, list[int]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["status"] == ACTIVE and r["account_id"] in accounts:
            active_by_account[r["account_id"]].append(r["id"])
    classes: dict[int, set[int]] = defaultdict(set)
    if contracts:
        ids = list(contracts)
        for cid, uid in await Price.filter(organization_id=org_id, contract_id__in=ids).values_list(
                "contract_id", "usage_class_id"):
            classes[cid].add(uid)
        for cid, uid in await Commitment.filter(
                organization_id=org_id, contract_id__in=ids, type__in=_USAGE_COMMITMENTS,
                usage_class_id__isnull=False).values_list("contract_id", "usage_class_id"):
            classes[cid].add(uid)
    return Lookups(
        products_by_id={p["id"]: p for p in products},
        products_by_code={p["code"]: p for p in products},
        accounts=accounts, contracts=contracts, active_by_account=active_by_account, classes=classes,
    )


def resolve(event: ShapedEvent, spec: UsageEventSpec, found: Lookups) -> None:
    """Set the event's usage class and contract, or raise ``Rejected``."""
    if spec.usage_class_id is not None:
        product, field = found.products_by_id.get(spec.usage_class_id), "usageClassId"
    else:
        product, field = found.products_by_code.get(spec.usage_class_code or ""), "usageClass"
    if product is None:
        raise Rejected(ErrorCode.NOT_FOUND, "no usage class with this id or code", field)
    if product["kind"] != _USAGE_CLASS:
        raise Rejected(ErrorCode.WRONG_PRODUCT_KIND, f"{product['code']} is a {product['kind']}, not a USAGE_CLASS",
                       field)
    event.usage_class_id = product["id"]
    if spec.contract_id is not None:
        contract = found.contracts.get(spec.contract_id)
        if contract is None:
            raise Rejected(ErrorCode.NOT_FOUND, "no Contract with this id", "contractId")
        if contract["status"] not in (ACTIVE, ENDED):  # an ENDED contract takes late data (SPEC §17):
            raise Rejected(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract['status']}", "contractId")
        # whether its period is closed and the organization's rule takes it is decided under the lock
        if not contract["start_date"] <= event.day < contract["end_date"]:
            raise Rejected(ErrorCode.DATE_OUTSIDE_TERM,
                           f"{event.day} is outside the contract's term [{contract['start_date']}, "
                           f"{contract['end_date']})", "timestamp")
        if product["id"] not in found.classes.get(contract["id"], ()):
            raise Rejected(ErrorCode.NO_MATCHING_CONTRACT,
                           f"the contract neither prices nor commits on {product['code']}", field)
        event.contract_id = contract["id"]
        return
    if spec.account_id not in found.accounts:
        raise Rejected(ErrorCode.NOT_FOUND, "no Account with this id", "accountId")
    matches = [
        cid for cid in found.active_by_account.get(spec.account_id, [])
        if found.contracts[cid]["start_date"] <= event.day < found.contracts[cid]["end_date"]
        and product["id"] in found.classes.get(cid, ())
    ]
    if not matches:
        raise Rejected(ErrorCode.NO_MATCHING_CONTRACT,
                       f"no active contract of the account holds {event.day} and prices or commits on "
                       f"{product['code']}", "accountId")
    if len(matches) > 1:
        raise Rejected(ErrorCode.AMBIGUOUS_CONTRACT,
                       f"{len(matches)} active contracts of the account match: name the contract", "accountId")
    event.contract_id = matches[0]
