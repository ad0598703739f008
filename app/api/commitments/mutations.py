"""Mutations on the commitments of a draft contract."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import ContractId, NodeId
from app.api.commitments.inputs import CommitmentInput
from app.api.commitments.types import Commitment
from app.api.context import org_of
from app.api.errors import UserErrorType
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.tenancy.mutations import DeletePayload, deleted
from app.db import models
from app.services import contracts


@strawberry.type(description="Result of createCommitment / updateCommitment.")
class CommitmentPayload:
    commitment: Commitment | None = strawberry.field(description="The commitment, if written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written.")


def _errors(errors: list[UserErrorType]) -> CommitmentPayload:
    return CommitmentPayload(commitment=None, user_errors=errors)


async def _present(info: Info, row: models.Commitment) -> CommitmentPayload:
    contract = await info.context.loaders.by_id(models.Contract).load(row.contract_id)
    return CommitmentPayload(commitment=Commitment.from_row(row, contract.currency), user_errors=[])


@strawberry.type
class CommitmentMutations:
    @strawberry.mutation(description="Add a commitment to a draft contract.")
    async def create_commitment(self, info: Info, contract_id: ContractId, input: Annotated[CommitmentInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CommitmentPayload:
        org_id = org_of(info)
        return await guard(
            info,
            _errors,
            lambda: contracts.create_part(org_id, ids.decode(contract_id, "Contract", "contractId"), input.to_spec()),
            lambda row: _present(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Replace a draft contract's commitment with a new definition.")
    async def update_commitment(self, info: Info, id: NodeId, input: Annotated[CommitmentInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CommitmentPayload:
        org_id = org_of(info)
        return await guard(
            info,
            _errors,
            lambda: contracts.update_part(org_id, ids.decode(id, "Commitment", "id"), input.to_spec()),
            lambda row: _present(info, row),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Remove a commitment from a draft contract.")
    async def delete_commitment(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeletePayload:
        org_id = org_of(info)
        return await guard(
            info,
            lambda errors: DeletePayload(deleted_id=None, user_errors=errors),
            lambda: contracts.delete_part(org_id, models.Commitment, ids.decode(id, "Commitment", "id")),
            lambda _: deleted(id),
            key=idempotency_key,
        )
