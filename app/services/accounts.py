"""Accounts: the organization's end customers."""

from __future__ import annotations

from dataclasses import dataclass

from app.billing.terms import DrawdownOrder
from app.db.models import Account, Balance, Contract
from app.services.checks import name_problem, require
from app.services.errors import ErrorCode, InvalidInput, fail


@dataclass(frozen=True)
class AccountSpec:
    """Fields of an account; on update, None keeps the stored value (``clear_drawdown_order``)."""

    name: str | None = None
    external_id: str | None = None
    drawdown_order: DrawdownOrder | None = None
    clear_drawdown_order: bool = False


async def _check(org_id: int, spec: AccountSpec, account_id: int | None) -> None:
    errors = [e for e in [name_problem(spec.name, "input.name")] if e]
    if spec.external_id is not None:
        clash = Account.filter(organization_id=org_id, external_id=spec.external_id)
        if account_id is not None:
            clash = clash.exclude(id=account_id)
        if await clash.exists():
            errors.append(fail(ErrorCode.DUPLICATE, "another account has this external id",
                               "input.externalId").errors[0])
    if errors:
        raise InvalidInput(errors)


async def create_account(org_id: int, spec: AccountSpec) -> Account:
    if spec.name is None:
        raise fail(ErrorCode.INVALID_INPUT, "name is required", "input.name")
    await _check(org_id, spec, None)
    return await Account.create(
        organization_id=org_id,
        name=spec.name,
        external_id=spec.external_id,
        drawdown_order=spec.drawdown_order.value if spec.drawdown_order else None,
    )


async def update_account(org_id: int, account_id: int, spec: AccountSpec) -> Account:
    account = await require(Account, org_id, account_id, "id")
    await _check(org_id, spec, account_id)
    if spec.name is not None:
        account.name = spec.name
    if spec.external_id is not None:
        account.external_id = spec.external_id
    if spec.drawdown_order is not None:
        account.drawdown_order = spec.drawdown_order.value
    if spec.clear_drawdown_order:
        account.drawdown_order = None
    await account.save()
    return account


async def delete_account(org_id: int, account_id: int) -> None:
    account = await require(Account, org_id, account_id, "id")
    if await Contract.filter(account_id=account.id).exists() or await Balance.filter(
        account_id=account.id
    ).exists():
        raise fail(ErrorCode.IN_USE, "the account has contracts or balances", "id")
    await account.delete()
