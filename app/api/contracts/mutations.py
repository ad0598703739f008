"""Mutations on contracts and the prices and service lines of a draft."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import ContractId, NodeId
from app.api.context import org_of
from app.api.contracts.inputs import (
    CreateContractInput,
    PriceInput,
    ServiceLineInput,
    UpdateContractInput,
)
from app.api.contracts.types import Contract, Price, ServiceLine
from app.api.errors import UserErrorType
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.tenancy.mutations import DeletePayload, deleted
from app.db import models
from app.services import contracts


@strawberry.type(description="Result of a contract mutation.")
class ContractPayload:
    contract: Contract | None = strawberry.field(description="The contract, if written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of createPrice / updatePrice.")
class PricePayload:
    price: Price | None = strawberry.field(description="The price, if written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of createServiceLine / updateServiceLine.")
class ServiceLinePayload:
    service_line: ServiceLine | None = strawberry.field(description="The service line, if written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written.")


def _contract_errors(errors: list[UserErrorType]) -> ContractPayload:
    return ContractPayload(contract=None, user_errors=errors)


def _contract_ok(row: models.Contract) -> ContractPayload:
    return ContractPayload(contract=Contract.from_row(row), user_errors=[])


async def _currency(info: Info, contract_id: int) -> str:
    contract = await info.context.loaders.by_id(models.Contract).load(contract_id)
    return str(contract.currency)


async def _price_ok(info: Info, row: models.Price) -> PricePayload:
    return PricePayload(price=Price.from_row(row, await _currency(info, row.contract_id)), user_errors=[])


async def _line_ok(info: Info, row: models.ServiceLine) -> ServiceLinePayload:
    line = ServiceLine.from_row(row, await _currency(info, row.contract_id))
    return ServiceLinePayload(service_line=line, user_errors=[])


async def _delete(info: Info, model: type, global_id: str, type_name: str, key: str | None) -> DeletePayload:
    org_id = org_of(info)
    return await guard(
        info,
        lambda errors: DeletePayload(deleted_id=None, user_errors=errors),
        lambda: contracts.delete_part(org_id, model, ids.decode(global_id, type_name, "id")),
        lambda _: deleted(global_id),
        key=key,
    )


@strawberry.type
class ContractMutations:
    @strawberry.mutation(description="Create a DRAFT contract with its prices, service lines and commitments.")
    async def create_contract(self, info: Info, input: Annotated[CreateContractInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> ContractPayload:
        org_id = org_of(info)
        return await guard(info, _contract_errors, lambda: contracts.create_contract(org_id, input.to_spec()),
                           _contract_ok, key=idempotency_key)

    @strawberry.mutation(description="Change a DRAFT contract's scalar fields.")
    async def update_contract(self, info: Info, id: NodeId, input: Annotated[UpdateContractInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> ContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            _contract_errors,
            lambda: contracts.update_contract(org_id, ids.decode(id, "Contract", "id"), input.to_patch()),
            _contract_ok,
            key=idempotency_key,
        )

    @strawberry.mutation(description="Cancel a DRAFT contract (it is kept, with status CANCELLED).")
    async def cancel_contract(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> ContractPayload:
        org_id = org_of(info)
        return await guard(info, _contract_errors,
                           lambda: contracts.cancel_contract(org_id, ids.decode(id, "Contract", "id")),
                           _contract_ok, key=idempotency_key)

    @strawberry.mutation(description="Delete a DRAFT or CANCELLED contract with all its parts.")
    async def delete_contract(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeletePayload:
        org_id = org_of(info)
        return await guard(
            info,
            lambda errors: DeletePayload(deleted_id=None, user_errors=errors),
            lambda: contracts.delete_contract(org_id, ids.decode(id, "Contract", "id")),
            lambda _: deleted(id),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Add a usage-class price to a draft contract.")
    async def create_price(self, info: Info, contract_id: ContractId, input: Annotated[PriceInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> PricePayload:
        org_id = org_of(info)

        return await guard(
            info,
            lambda errors: PricePayload(price=None, user_errors=errors),
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _price_ok(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a price of a draft contract.")
    async def update_price(self, info: Info, id: NodeId, input: Annotated[PriceInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> PricePayload:
        org_id = org_of(info)

        return await guard(
            info,
            lambda errors: PricePayload(price=None, user_errors=errors),
            lambda: contracts.update_part(org_id, ids.decode(id, "Price", "id"), input.to_spec()),
            lambda row: _price_ok(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a price from a draft contract.")
    async def delete_price(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeletePayload:
        return await _delete(info, models.Price, id, "Price", idempotency_key)

    @strawberry.mutation(description="Add a service line to a draft contract.")
    async def create_service_line(self, info: Info, contract_id: ContractId, input: Annotated[ServiceLineInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> ServiceLinePayload:
        org_id = org_of(info)

        return await guard(
            info,
            lambda errors: ServiceLinePayload(service_line=None, user_errors=errors),
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _line_ok(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a service line of a draft contract.")
    async def update_service_line(self, info: Info, id: NodeId, input: Annotated[ServiceLineInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> ServiceLinePayload:
        org_id = org_of(info)

        return await guard(
            info,
            lambda errors: ServiceLinePayload(service_line=None, user_errors=errors),
            lambda: contracts.update_part(org_id, ids.decode(id, "ServiceLine", "id"), input.to_spec()),
            lambda row: _line_ok(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a service line from a draft contract.")
    async def delete_service_line(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeletePayload:
        return await _delete(info, models.ServiceLine, id, "ServiceLine", idempotency_key)
