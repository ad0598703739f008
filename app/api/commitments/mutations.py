"""Mutations on the commitments of a draft contract."""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import ContractId, NodeId
from app.api.commitments.inputs import CommitmentInput
from app.api.commitments.types import Commitment
from app.api.context import org_of
from app.api.errors import UserErrorType
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import DeletePayloadFields, Refusable
from app.db import models
from app.services import contracts


@strawberry.type
class CommitmentPayloadFields(Refusable):
    """The fields of createCommitment's and updateCommitment's payloads."""

    commitment: Commitment | None = strawberry.field(
        description="The commitment as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of createCommitment.")
class CreateCommitmentPayload(CommitmentPayloadFields):
    pass


@strawberry.type(description="Result of updateCommitment.")
class UpdateCommitmentPayload(CommitmentPayloadFields):
    pass


@strawberry.type(description="Result of deleteCommitment.")
class DeleteCommitmentPayload(DeletePayloadFields):
    pass


P = TypeVar("P", bound=CommitmentPayloadFields)


async def _present(info: Info, payload: type[P], row: models.Commitment) -> P:
    contract = await info.context.loaders.by_id(models.Contract).load(row.contract_id)
    return payload(commitment=Commitment.from_row(row, contract.currency), user_errors=[])


@strawberry.type
class CommitmentMutations:
    @strawberry.mutation(description="Add a commitment to a draft contract.")
    async def create_commitment(self, info: Info, contract_id: ContractId, input: Annotated[CommitmentInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateCommitmentPayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreateCommitmentPayload.refused,
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _present(info, CreateCommitmentPayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a draft contract's commitment with a new definition.")
    async def update_commitment(self, info: Info, id: NodeId, input: Annotated[CommitmentInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateCommitmentPayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateCommitmentPayload.refused,
            lambda: contracts.update_part(org_id, ids.decode(id, "Commitment", "id"), input.to_spec()),
            lambda row: _present(info, UpdateCommitmentPayload, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a commitment from a draft contract.")
    async def delete_commitment(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeleteCommitmentPayload:
        org_id = org_of(info)
        return await guard(
            info,
            DeleteCommitmentPayload.refused,
            lambda: contracts.delete_part(org_id, models.Commitment, ids.decode(id, "Commitment", "id")),
            lambda _: DeleteCommitmentPayload.deleted(id),
            key=idempotency_key,
        )
