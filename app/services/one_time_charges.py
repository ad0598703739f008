"""One-time charges (``postCharge``): a charge on an ACTIVE contract, billed in the billing period
holding its service date.

Decisions where SPEC is silent:
- Negative amounts are refused (credits are a separate feature).
- A repeated key returns the stored charge (created false) if the request is the same, DUPLICATE if
  it differs.
- The contract row is locked ``FOR UPDATE`` (usage_store.lock_contracts, exclusive): the charge takes
  the next creation-order number of the contract, and a close of its period waits or is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from app.clock import utc_now
from app.db.models import Contract, LateData, OneTimeCharge, Product
from app.services.checks import require
from app.services.contract_parts import Problems
from app.services.errors import ErrorCode, UserError, fail
from app.services.late_rules import late_rule, record_late
from app.services.usage_rules import ACTIVE, ENDED, MAX_INTEGER_DIGITS, PLACES, field_text_problem
from app.services.usage_store import closed_periods, closed_span, is_postgres, lock_contracts

_COLUMNS = ("organization_id", "contract_id", "product_id", "amount", "service_date", "description",
            "idempotency_key", "created_at", "updated_at", "seq")


@dataclass(frozen=True)
class OneTimeChargeSpec:
    contract_id: int
    product_id: int
    amount: Decimal
    service_date: date
    idempotency_key: str
    description: str = ""


async def _next_charge_seq(org_id: int, contract_id: int) -> int:
    """The creation order of the contract's next one-time charge (its row is locked)."""
    top = await OneTimeCharge.filter(organization_id=org_id, contract_id=contract_id).annotate(
        top=Max("seq")).first().values("top")
    return int((top or {}).get("top") or 0) + 1


def _same_charge(row: OneTimeCharge, spec: OneTimeChargeSpec) -> bool:
    return (row.contract_id == spec.contract_id and row.product_id == spec.product_id
            and row.amount == spec.amount and row.service_date == spec.service_date
            and row.description == spec.description)


def _replayed(row: OneTimeCharge, spec: OneTimeChargeSpec) -> tuple[OneTimeCharge, bool]:
    """The stored charge for a repeated key, if the request is the same; else DUPLICATE."""
    if not _same_charge(row, spec):
        raise fail(ErrorCode.DUPLICATE,
                   "this idempotency key was used for a different charge", "input.idempotencyKey")
    return row, False


def _check(spec: OneTimeChargeSpec) -> None:
    problems = Problems()
    key_problem = field_text_problem(spec.idempotency_key, "idempotencyKey", required=True)
    if key_problem:
        problems.add(UserError(ErrorCode.INVALID_INPUT, key_problem, "input.idempotencyKey"))
    if spec.amount.is_finite() and spec.amount.adjusted() >= MAX_INTEGER_DIGITS:
        problems.add(UserError(ErrorCode.INVALID_AMOUNT, f"at most {MAX_INTEGER_DIGITS} integer digits",
                               "input.amount"))
    else:
        problems.amount(spec.amount, "input.amount")
    description_problem = field_text_problem(spec.description, "description", required=False)
    if description_problem:
        problems.add(UserError(ErrorCode.INVALID_INPUT, description_problem, "input.description"))
    problems.raise_if_any()


async def post_charge(org_id: int, spec: OneTimeChargeSpec) -> tuple[OneTimeCharge, bool]:
    """Post a one-time charge on an ACTIVE contract, billed in the period holding service_date.

    Returns (charge, created). A repeated idempotency key returns the stored charge with created
    False when the request is the same, and refuses it with DUPLICATE when it differs.
    """
    _check(spec)
    existing = await OneTimeCharge.filter(organization_id=org_id, idempotency_key=spec.idempotency_key).first()
    if existing is not None:
        return _replayed(existing, spec)
    contract = await require(Contract, org_id, spec.contract_id, "input.contractId")
    await require(Product, org_id, spec.product_id, "input.productId")
    if contract.status not in (ACTIVE, ENDED):
        raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract.status}", "input.contractId")
    if not contract.start_date <= spec.service_date < contract.end_date:
        raise fail(ErrorCode.DATE_OUTSIDE_TERM,
                   f"{spec.service_date} is outside the contract's term [{contract.start_date}, {contract.end_date})",
                   "input.serviceDate")
    async with in_transaction() as conn:
        statuses = await lock_contracts(conn, org_id, [contract.id], exclusive=True)
        span = closed_span(await closed_periods(conn, org_id, [contract.id]), contract.id, spec.service_date)
        if statuses.get(contract.id) != ACTIVE and not (statuses.get(contract.id) == ENDED and span):
            raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {statuses.get(contract.id)}",
                       "input.contractId")
        if span:  # late (SPEC §17): taken within the organization's correction window, else PERIOD_CLOSED
            rule = await late_rule(org_id, conn)
            if not rule.accepts(span[1], utc_now().date()):
                refused = rule.refusal(spec.service_date, span[1], "input.serviceDate")
                raise fail(refused.code, refused.message, refused.field)
        now = utc_now()
        values = (org_id, contract.id, spec.product_id, (spec.amount + 0).quantize(PLACES), spec.service_date,
                  spec.description, spec.idempotency_key, now, now, await _next_charge_seq(org_id, contract.id))
        marks = (", ".join(f"${i + 1}" for i in range(len(_COLUMNS))) if is_postgres(conn)
                 else ", ".join("?" * len(_COLUMNS)))
        rows = await conn.execute_query_dict(
            f"INSERT INTO one_time_charge ({', '.join(_COLUMNS)}) VALUES ({marks})"
            " ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING id", list(values))
        if rows and span:
            await record_late(conn, org_id, [LateData(contract_id=contract.id, kind="ONE_TIME", day=spec.service_date,
                                                      ref=str(rows[0]["id"]), amount=values[3])])
    if not rows:  # a concurrent request stored the same key first
        stored = await OneTimeCharge.get(organization_id=org_id, idempotency_key=spec.idempotency_key)
        return _replayed(stored, spec)
    return await OneTimeCharge.get(id=rows[0]["id"], organization_id=org_id), True
