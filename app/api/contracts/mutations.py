"""Mutations on contracts and the prices and service lines of a draft."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

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
from app.api.payloads import DeletePayloadFields, Refusable
from app.db import models
from app.services import contracts, renewal, termination


@strawberry.type
class ContractPayloadFields(Refusable):
    """The fields of createContract's, updateContract's and cancelContract's payloads."""

    contract: Contract | None = strawberry.field(description="The contract as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type
class PricePayloadFields(Refusable):
    """The fields of createPrice's and updatePrice's payloads."""

    price: Price | None = strawberry.field(description="The price as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type
class ServiceLinePayloadFields(Refusable):
    """The fields of createServiceLine's and updateServiceLine's payloads."""

    service_line: ServiceLine | None = strawberry.field(
        description="The service line as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of createContract.")
class CreateContractPayload(ContractPayloadFields):
    pass


@strawberry.type(description="Result of updateContract.")
class UpdateContractPayload(ContractPayloadFields):
    pass


@strawberry.type(description="Result of cancelContract.")
class CancelContractPayload(ContractPayloadFields):
    pass


@strawberry.type(description="Result of renewContract.")
class RenewContractPayload(Refusable):
    contract: Contract | None = strawberry.field(
        description="The DRAFT successor, starting on the renewed contract's end date; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of terminateContract.")
class TerminateContractPayload(Refusable):
    contract: Contract | None = strawberry.field(
        description="The terminated contract (endDate is the termination date); null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of deleteContract.")
class DeleteContractPayload(DeletePayloadFields):
    pass


@strawberry.type(description="Result of createPrice.")
class CreatePricePayload(PricePayloadFields):
    pass


@strawberry.type(description="Result of updatePrice.")
class UpdatePricePayload(PricePayloadFields):
    pass


@strawberry.type(description="Result of deletePrice.")
class DeletePricePayload(DeletePayloadFields):
    pass


@strawberry.type(description="Result of createServiceLine.")
class CreateServiceLinePayload(ServiceLinePayloadFields):
    pass


@strawberry.type(description="Result of updateServiceLine.")
class UpdateServiceLinePayload(ServiceLinePayloadFields):
    pass


@strawberry.type(description="Result of deleteServiceLine.")
class DeleteServiceLinePayload(DeletePayloadFields):
    pass


C = TypeVar("C", bound=ContractPayloadFields)
PP = TypeVar("PP", bound=PricePayloadFields)
L = TypeVar("L", bound=ServiceLinePayloadFields)
D = TypeVar("D", bound=DeletePayloadFields)


def _contract(payload: type[C]) -> Callable[[models.Contract], C]:
    return lambda row: payload(contract=Contract.from_row(row), user_errors=[])


async def _currency(info: Info, contract_id: int) -> str:
    contract = await info.context.loaders.by_id(models.Contract).load(contract_id)
    return str(contract.currency)


async def _price(info: Info, payload: type[PP], row: models.Price) -> PP:
    return payload(price=Price.from_row(row, await _currency(info, row.contract_id)), user_errors=[])


async def _line(info: Info, payload: type[L], row: models.ServiceLine) -> L:
    return payload(service_line=ServiceLine.from_row(row, await _currency(info, row.contract_id)), user_errors=[])


async def _delete(info: Info, payload: type[D], model: type, global_id: str, type_name: str, key: str | None) -> D:
    org_id = org_of(info)
    return await guard(
        info,
        payload.refused,
        lambda: contracts.delete_part(org_id, model, ids.decode(global_id, type_name, "id")),
        lambda _: payload.deleted(global_id),
        key=key,
    )


@strawberry.type
class ContractMutations:
    @strawberry.mutation(description="Create a DRAFT contract with its prices, service lines and commitments.")
    async def create_contract(self, info: Info, input: Annotated[CreateContractInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateContractPayload:
        org_id = org_of(info)
        return await guard(info, CreateContractPayload.refused, lambda: contracts.create_contract(org_id, input.to_spec()),
                           _contract(CreateContractPayload), key=idempotency_key)

    @strawberry.mutation(description="Change a DRAFT contract's scalar fields.")
    async def update_contract(self, info: Info, id: NodeId, input: Annotated[UpdateContractInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateContractPayload.refused,
            lambda: contracts.update_contract(org_id, ids.decode(id, "Contract", "id"), input.to_patch()),
            _contract(UpdateContractPayload),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Cancel a DRAFT contract (it is kept, with status CANCELLED).")
    async def cancel_contract(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> CancelContractPayload:
        org_id = org_of(info)
        return await guard(info, CancelContractPayload.refused,
                           lambda: contracts.cancel_contract(org_id, ids.decode(id, "Contract", "id")),
                           _contract(CancelContractPayload), key=idempotency_key)

    @strawberry.mutation(description="Delete a DRAFT or CANCELLED contract with all its parts.")
    async def delete_contract(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeleteContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            DeleteContractPayload.refused,
            lambda: contracts.delete_contract(org_id, ids.decode(id, "Contract", "id")),
            lambda _: DeleteContractPayload.deleted(id),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Renew an ACTIVE contract (SPEC §15): a DRAFT successor from its end date to endDate with its current prices, the service lines active at its end and its commitments restarted at window 1. Edit the draft, then activate it; once it is ACTIVE, the rollover of each renewed commitment's last window goes into its renewal's first window instead of expiring.")
    async def renew_contract(self, info: Info, contract_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the ACTIVE contract to renew.")], end_date: Annotated[date, strawberry.argument(description="End (exclusive) of the successor's term; after the renewed contract's end date.")], idempotency_key: IdempotencyKey = None) -> RenewContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            RenewContractPayload.refused,
            lambda: renewal.renew_contract(org_id, ids.decode(contract_id, "Contract", "contractId"), end_date),
            lambda row: RenewContractPayload(contract=Contract.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="End an ACTIVE contract early on endDate (SPEC §14): the term becomes [start, endDate), later billing periods and commitment windows are removed, the window holding endDate is cut and the unused credit withdrawn (VOID). The close of the period ending at endDate is the final invoice: it settles each cut prepaid commitment's fee in one COMMITMENT_FEE line, with chargeRemaining the removed windows, and the earlyTerminationFee unless waived; after it the contract is ENDED.")
    async def terminate_contract(
        self, info: Info,
        contract_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the ACTIVE contract to terminate.")],
        end_date: Annotated[date, strawberry.argument(description="The new end (exclusive): after the start of the first open billing period, not after the current end.")],
        reason: Annotated[str, strawberry.argument(description="Why the contract ends (kept with it; at most 500 characters).")],
        charge_remaining: Annotated[bool, strawberry.argument(description="True: the customer owes the whole commitment (cut window unprorated, removed windows billed).")] = False,
        waive_termination_fee: Annotated[bool, strawberry.argument(description="True: the earlyTerminationFee is not billed.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> TerminateContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            TerminateContractPayload.refused,
            lambda: termination.terminate_contract(
                org_id, ids.decode(contract_id, "Contract", "contractId"), end_date, reason,
                charge_remaining=charge_remaining, waive_fee=waive_termination_fee),
            lambda row: TerminateContractPayload(contract=Contract.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Add a usage-class price to a draft contract.")
    async def create_price(self, info: Info, contract_id: ContractId, input: Annotated[PriceInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreatePricePayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreatePricePayload.refused,
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _price(info, CreatePricePayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a price of a draft contract.")
    async def update_price(self, info: Info, id: NodeId, input: Annotated[PriceInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdatePricePayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdatePricePayload.refused,
            lambda: contracts.update_part(org_id, ids.decode(id, "Price", "id"), input.to_spec()),
            lambda row: _price(info, UpdatePricePayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a price from a draft contract.")
    async def delete_price(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeletePricePayload:
        return await _delete(info, DeletePricePayload, models.Price, id, "Price", idempotency_key)

    @strawberry.mutation(description="Add a service line to a draft contract.")
    async def create_service_line(self, info: Info, contract_id: ContractId, input: Annotated[ServiceLineInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateServiceLinePayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreateServiceLinePayload.refused,
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _line(info, CreateServiceLinePayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a service line of a draft contract.")
    async def update_service_line(self, info: Info, id: NodeId, input: Annotated[ServiceLineInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateServiceLinePayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateServiceLinePayload.refused,
            lambda: contracts.update_part(org_id, ids.decode(id, "ServiceLine", "id"), input.to_spec()),
            lambda row: _line(info, UpdateServiceLinePayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a service line from a draft contract.")
    async def delete_service_line(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeleteServiceLinePayload:
        return await _delete(info, DeleteServiceLinePayload, models.ServiceLine, id, "ServiceLine", idempotency_key)
