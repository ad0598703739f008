"""Balances: top-up credit on an account, separate from commitments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.transactions import in_transaction

from app.billing.money import is_known_currency
from app.billing.terms import ChargeType, ProductKind
from app.db.models import Account, Balance, BalanceProduct
from app.services.checks import require
from app.services.contract_parts import Problems
from app.services.errors import ErrorCode, InvalidInput, UserError


@dataclass(frozen=True)
class BalanceSpec:
    account_id: int
    name: str
    currency: str
    amount: Decimal
    start_date: date
    end_date: date
    priority: int = 0
    eligible_charge_types: tuple[ChargeType, ...] = tuple(ChargeType)
    eligible_product_ids: tuple[int, ...] = ()


async def create_balance(org_id: int, spec: BalanceSpec) -> Balance:
    problems = Problems()
    try:
        await require(Account, org_id, spec.account_id, "input.accountId")
    except InvalidInput as exc:
        problems.errors.extend(exc.errors)
    if not spec.name.strip():
        problems.add(UserError(ErrorCode.INVALID_INPUT, "must not be blank", "input.name"))
    if not is_known_currency(spec.currency):
        problems.add(UserError(ErrorCode.UNKNOWN_CURRENCY, f"{spec.currency!r} is not an ISO 4217 currency", "input.currency"))
    problems.amount(spec.amount, "input.amount")
    if spec.end_date <= spec.start_date:
        problems.add(UserError(ErrorCode.INVALID_INTERVAL, "endDate must be after startDate", "input.endDate"))
    if spec.priority < 0:
        problems.add(UserError(ErrorCode.INVALID_INPUT, "priority must be >= 0", "input.priority"))
    if not spec.eligible_charge_types:
        problems.add(UserError(ErrorCode.INVALID_INPUT, "at least one charge type", "input.eligibleChargeTypes"))
    for i, pid in enumerate(spec.eligible_product_ids):
        await problems.product(org_id, pid, set(ProductKind), f"input.eligibleProductIds.{i}")
    problems.raise_if_any()
    async with in_transaction():
        balance = await Balance.create(
            organization_id=org_id, account_id=spec.account_id, name=spec.name, currency=spec.currency,
            amount=spec.amount, start_date=spec.start_date, end_date=spec.end_date, priority=spec.priority,
            eligible_charge_types=[t.value for t in dict.fromkeys(spec.eligible_charge_types)],
        )
        await BalanceProduct.bulk_create([
            BalanceProduct(organization_id=org_id, balance_id=balance.id, product_id=pid)
            for pid in dict.fromkeys(spec.eligible_product_ids)
        ])
    return balance
