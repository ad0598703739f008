"""Contracts: create with all their parts, edit and delete while DRAFT, cancel a draft.

Every edit runs inside one transaction with the contract row locked, then re-checks the whole
draft with the billing core; if any rule fails, the transaction rolls back and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

from tortoise.transactions import in_transaction

from app.billing.errors import BillingError
from app.billing.money import is_known_currency
from app.billing.validation import contract_errors
from app.db.models import Account, Commitment, Contract, Price, ServiceLine
from app.services.checks import name_problem, require
from app.services.contract_parts import (
    Problems,
    check_commitment,
    check_price,
    check_service_line,
    write_commitment,
    write_price,
    write_service_line,
)
from app.services.contract_terms import load_terms
from app.services.errors import ErrorCode, InvalidInput, UserError, fail, from_billing
from app.services.specs import (
    CommitmentSpec,
    ContractPatch,
    ContractSpec,
    PriceSpec,
    ServiceLineSpec,
)

T = TypeVar("T")

# The billing core names a few fields by what they are; the API's inputs name them by how they are
# sent. Only the last segment of a path is translated.
_INPUT_NAMES = {
    "usageClass": "usageClassId",
    "service": "serviceId",
    "package": "packageId",
    "eligibleProducts": "eligibleProductIds",
    "fees": "amountFirstBill",
    "product": "productId",
}


def _input_field(path: str) -> str:
    head, _, last = path.rpartition(".")
    last = _INPUT_NAMES.get(last, last)
    return f"{head}.{last}" if head else last
DRAFT, ACTIVE, CANCELLED = "DRAFT", "ACTIVE", "CANCELLED"


def _check_scalars(patch: ContractPatch | ContractSpec, problems: Problems) -> None:
    problems.add(name_problem(patch.name, "input.name"))
    if patch.currency is not None and not is_known_currency(patch.currency):
        problems.add(UserError(ErrorCode.UNKNOWN_CURRENCY, f"{patch.currency!r} is not an ISO 4217 currency",
                               "input.currency"))
    problems.amount(patch.standing_charge, "input.standingCharge")
    problems.amount(patch.minimum_spend, "input.minimumSpend")
    problems.amount(patch.early_termination_fee, "input.earlyTerminationFee")


async def _validate_draft(org_id: int, contract: Contract, focus: str | None = None) -> None:
    """Run every pre-activation rule of the billing core over the whole stored draft.

    Field paths are the core's (``commitments.0.rampSteps``) under ``input.``; the part being
    edited (``focus``, e.g. ``commitments.0.``) is reported as ``input.`` itself.
    """
    terms = await load_terms(org_id, contract)
    errors = []
    for error in contract_errors(terms):
        field = _input_field(error.field or "")
        if focus and field.startswith(focus):
            errors.append(from_billing(BillingError(error.code, error.message, field[len(focus):] or None), "input"))
        else:
            errors.append(from_billing(BillingError(error.code, error.message, field or None), "input"))
    if errors:
        raise InvalidInput(errors)


_COLLECTIONS = {Price: "prices", ServiceLine: "serviceLines", Commitment: "commitments"}


async def _focus(contract: Contract, part: object) -> str | None:
    """The core's path prefix (``commitments.2.``) of the part just written, if it is one."""
    model = type(part)
    if model not in _COLLECTIONS:
        return None
    ids = await model.filter(contract_id=contract.id).order_by("id").values_list("id", flat=True)
    return f"{_COLLECTIONS[model]}.{list(ids).index(part.pk)}."  # type: ignore[attr-defined]


async def edit_draft(org_id: int, contract_id: int, change: Callable[[Contract], Awaitable[T]],
                     field: str = "contractId") -> T:
    """Apply ``change`` to a locked DRAFT contract and keep it only if the draft stays valid."""
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, field, for_update=True)
        if contract.status != DRAFT:
            raise fail(ErrorCode.CONTRACT_NOT_DRAFT,
                       f"the contract is {contract.status}; only DRAFT contracts can be edited", field)
        result = await change(contract)
        await _validate_draft(org_id, contract, await _focus(contract, result))
        return result


async def create_contract(org_id: int, spec: ContractSpec) -> Contract:
    problems = Problems()
    _check_scalars(spec, problems)
    try:
        await require(Account, org_id, spec.account_id, "input.accountId")
    except InvalidInput as exc:
        problems.errors.extend(exc.errors)
    for i, price in enumerate(spec.prices):
        await check_price(org_id, price, f"input.prices.{i}", problems)
    for i, line in enumerate(spec.service_lines):
        await check_service_line(org_id, line, f"input.serviceLines.{i}", problems)
    for i, com in enumerate(spec.commitments):
        await check_commitment(org_id, com, f"input.commitments.{i}", problems)
    problems.raise_if_any()
    async with in_transaction():
        contract = await Contract.create(
            organization_id=org_id, account_id=spec.account_id, name=spec.name, currency=spec.currency,
            start_date=spec.start_date, end_date=spec.end_date,
            billing_frequency=spec.billing_frequency.value, standing_charge=spec.standing_charge,
            minimum_spend=spec.minimum_spend, early_termination_fee=spec.early_termination_fee, status=DRAFT,
        )
        for price in spec.prices:
            await write_price(org_id, contract, price)
        for line in spec.service_lines:
            await write_service_line(org_id, contract, line)
        for com in spec.commitments:
            await write_commitment(org_id, contract, com)
        await _validate_draft(org_id, contract)
    return contract


async def update_contract(org_id: int, contract_id: int, patch: ContractPatch) -> Contract:
    problems = Problems()
    _check_scalars(patch, problems)
    problems.raise_if_any()

    async def change(contract: Contract) -> Contract:
        for attr in ("name", "currency", "start_date", "end_date", "standing_charge", "minimum_spend",
                     "early_termination_fee"):
            if getattr(patch, attr) is not None:
                setattr(contract, attr, getattr(patch, attr))
        if patch.billing_frequency is not None:
            contract.billing_frequency = patch.billing_frequency.value
        await contract.save()
        return contract

    return await edit_draft(org_id, contract_id, change, field="id")


async def delete_contract(org_id: int, contract_id: int) -> None:
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "id", for_update=True)
        if contract.status not in (DRAFT, CANCELLED):
            raise fail(ErrorCode.CONTRACT_NOT_DRAFT, f"the contract is {contract.status}; it cannot be deleted", "id")
        await contract.delete()


async def cancel_contract(org_id: int, contract_id: int) -> Contract:
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "id", for_update=True)
        if contract.status != DRAFT:
            raise fail(ErrorCode.CONTRACT_NOT_DRAFT, f"the contract is {contract.status}; only a DRAFT can be cancelled", "id")
        contract.status = CANCELLED
        await contract.save()
    return contract


# --- parts of a draft -------------------------------------------------------------------------

class _Part(NamedTuple):
    """How one kind of draft part is checked and written."""

    model: type[Price] | type[ServiceLine] | type[Commitment]
    check: Callable[[int, Any, str, Problems], Awaitable[None]]
    write: Callable[..., Awaitable[Any]]


_PARTS = {
    PriceSpec: _Part(Price, check_price, write_price),
    ServiceLineSpec: _Part(ServiceLine, check_service_line, write_service_line),
    CommitmentSpec: _Part(Commitment, check_commitment, write_commitment),
}


async def _checked(org_id: int, spec: PriceSpec | ServiceLineSpec | CommitmentSpec) -> _Part:
    part = _PARTS[type(spec)]
    problems = Problems()
    await part.check(org_id, spec, "input", problems)
    problems.raise_if_any()
    return part


async def create_part(org_id: int, contract_id: int, spec: PriceSpec | ServiceLineSpec | CommitmentSpec) -> Any:
    """Add a price, service line or commitment (by the type of ``spec``) to a draft contract."""
    part = await _checked(org_id, spec)
    return await edit_draft(org_id, contract_id, lambda c: part.write(org_id, c, spec))


async def update_part(org_id: int, pk: int, spec: PriceSpec | ServiceLineSpec | CommitmentSpec) -> Any:
    """Replace the price, service line or commitment ``pk`` of a draft contract with ``spec``."""
    row = await require(_PARTS[type(spec)].model, org_id, pk, "id")
    part = await _checked(org_id, spec)
    return await edit_draft(org_id, row.contract_id, lambda c: part.write(org_id, c, spec, row), "id")


async def delete_part(org_id: int, model: type[Price | ServiceLine | Commitment], pk: int) -> None:
    """Delete a price, service line or commitment of a draft contract."""
    row = await require(model, org_id, pk, "id")

    async def change(_: Contract) -> None:
        await row.delete()

    await edit_draft(org_id, row.contract_id, change, "id")
