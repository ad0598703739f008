"""Balances: top-up credit on an account, separate from commitments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.transactions import in_transaction

from app.billing.credit import new_balance, top_up
from app.billing.errors import BillingError
from app.billing.money import is_known_currency
from app.billing.terms import ChargeType, DateRange, ProductKind
from app.clock import utc_now
from app.db.models import Account, Balance, BalanceProduct, CreditPool, Product
from app.services.activation import next_seq
from app.services.checks import (
    MAX_CHARGE_TYPES,
    MAX_PRODUCT_IDS,
    count_problem,
    name_problem,
    require,
)
from app.services.contract_parts import Problems
from app.services.errors import ErrorCode, InvalidInput, UserError, fail, from_billing
from app.services.pools import append_entries, core_pool, create_pools, is_settled


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
    problems.add(name_problem(spec.name, "input.name"))
    if not is_known_currency(spec.currency):
        problems.add(UserError(ErrorCode.UNKNOWN_CURRENCY, f"{spec.currency!r} is not an ISO 4217 currency", "input.currency"))
    problems.amount(spec.amount, "input.amount")
    if spec.end_date <= spec.start_date:
        problems.add(UserError(ErrorCode.INVALID_INTERVAL, "endDate must be after startDate", "input.endDate"))
    if spec.priority < 0:
        problems.add(UserError(ErrorCode.INVALID_INPUT, "priority must be >= 0", "input.priority"))
    if not spec.eligible_charge_types:
        problems.add(UserError(ErrorCode.INVALID_INPUT, "at least one charge type", "input.eligibleChargeTypes"))
    problems.add(count_problem(spec.eligible_charge_types, "input.eligibleChargeTypes", MAX_CHARGE_TYPES))
    too_many = count_problem(spec.eligible_product_ids, "input.eligibleProductIds", MAX_PRODUCT_IDS)
    problems.add(too_many)
    if not too_many:  # one query for the whole list
        await problems.products(org_id, [(pid, set(ProductKind), f"input.eligibleProductIds.{i}")
                                         for i, pid in enumerate(spec.eligible_product_ids)])
    problems.raise_if_any()
    async with in_transaction():
        account = await require(Account, org_id, spec.account_id, "input.accountId", for_update=True)
        balance = await Balance.create(
            organization_id=org_id, account_id=spec.account_id, name=spec.name, currency=spec.currency,
            amount=spec.amount, start_date=spec.start_date, end_date=spec.end_date, priority=spec.priority,
            eligible_charge_types=[t.value for t in dict.fromkeys(spec.eligible_charge_types)],
        )
        await BalanceProduct.bulk_create([
            BalanceProduct(organization_id=org_id, balance_id=balance.id, product_id=pid)
            for pid in dict.fromkeys(spec.eligible_product_ids)
        ])
        codes = await Product.filter(organization_id=org_id, id__in=list(spec.eligible_product_ids)).values_list(
            "code", flat=True)
        try:
            pool, first = new_balance(
                f"balance:{balance.id}", spec.amount, DateRange(spec.start_date, spec.end_date), spec.start_date,
                spec.currency, seq=await next_seq(org_id, account.id), priority=spec.priority,
                eligible_charge_types=frozenset(spec.eligible_charge_types), eligible_products=frozenset(codes),
            )
        except BillingError as exc:
            raise InvalidInput([from_billing(exc, "input.amount")]) from exc
        rows = await create_pools(org_id, account.id, None, spec.currency, [pool], balance_source_id=balance.id)
        await append_entries(org_id, rows, [first])
    return balance


async def top_up_balance(org_id: int, balance_id: int, amount: Decimal, on: date | None = None) -> Balance:
    """Add ``amount`` to a balance with a new ISSUE entry (dated ``on``, default today)."""
    problems = Problems()
    problems.amount(amount, "amount")
    problems.raise_if_any()
    async with in_transaction():
        balance = await require(Balance, org_id, balance_id, "balanceId")
        row = await CreditPool.filter(organization_id=org_id, balance_source_id=balance.id).select_for_update().get()
        day = on or utc_now().date()
        if not balance.start_date <= day < balance.end_date:
            raise fail(ErrorCode.DATE_OUTSIDE_TERM, "a balance can be topped up only while it is valid", "on")
        if await is_settled(row):
            raise fail(ErrorCode.POOL_CLOSED, "the balance has expired: a close has settled it", "balanceId")
        try:
            _, item = top_up(core_pool(row), amount, day, balance.currency)
        except BillingError as exc:
            raise InvalidInput([from_billing(exc, "amount")]) from exc
        await append_entries(org_id, {row.key: row}, [item])
    return balance
