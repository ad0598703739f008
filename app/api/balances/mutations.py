"""Mutations on balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.balances.types import Balance
from app.api.context import org_of
from app.api.enums import ChargeType
from app.api.errors import UserErrorType
from app.api.input_limits import limited, require_valid
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import Refusable
from app.billing import terms
from app.services import balances
from app.services.checks import MAX_CHARGE_TYPES, MAX_CURRENCY, MAX_NAME, MAX_PRODUCT_IDS


@strawberry.input(description="A new balance (top-up credit) on an account.")
class CreateBalanceInput:
    account_id: strawberry.ID = strawberry.field(description="The account credited.")
    name: str = strawberry.field(**limited("Display name, e.g. 'Sign-up credit'.", max_length=MAX_NAME))
    currency: str = strawberry.field(**limited("ISO 4217 code.", max_length=MAX_CURRENCY))
    amount: Decimal = strawberry.field(description="Amount credited (> 0, exact in the currency).")
    start_date: date = strawberry.field(description="First day it may pay charges.")
    end_date: date = strawberry.field(description="Day after the last; the remainder expires then.")
    priority: int = strawberry.field(default=0, description="Drawdown priority, lower first.")
    eligible_charge_types: list[ChargeType] | None = strawberry.field(default=None, **limited(
        "Default: all drawable types.", max_items=MAX_CHARGE_TYPES))
    eligible_product_ids: list[strawberry.ID] = strawberry.field(default_factory=list, **limited(
        "Default: every product.", max_items=MAX_PRODUCT_IDS))

    def to_spec(self) -> balances.BalanceSpec:
        require_valid(self)
        return balances.BalanceSpec(
            account_id=ids.decode(self.account_id, "Account", "input.accountId"), name=self.name,
            currency=self.currency, amount=self.amount, start_date=self.start_date, end_date=self.end_date,
            priority=self.priority,
            eligible_charge_types=tuple(terms.ChargeType) if self.eligible_charge_types is None
            else tuple(self.eligible_charge_types),
            eligible_product_ids=tuple(ids.decode(p, "Product", f"input.eligibleProductIds.{i}")
                                       for i, p in enumerate(self.eligible_product_ids)),
        )


@strawberry.type(description="Result of createBalance.")
class CreateBalancePayload(Refusable):
    balance: Balance | None = strawberry.field(description="The balance, if created.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was created.")


@strawberry.type
class BalanceMutations:
    @strawberry.mutation(description="Credit an account with a balance.")
    async def create_balance(self, info: Info, input: Annotated[CreateBalanceInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateBalancePayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreateBalancePayload.refused,
            lambda: balances.create_balance(org_id, input.to_spec()),
            lambda row: CreateBalancePayload(balance=Balance.from_row(row), user_errors=[]),
            key=idempotency_key,
        )
