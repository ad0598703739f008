"""correctContract and the late data a contract holds (SPEC §17)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.context import org_of
from app.api.contracts.types import Contract
from app.api.enums import described_enum
from app.api.errors import UserErrorType
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import Refusable
from app.db import models
from app.services import corrections


class LateDataKind(Enum):
    USAGE = "USAGE"
    ONE_TIME = "ONE_TIME"


described_enum(LateDataKind, description="What arrived late for a closed billing period (SPEC §17).", values={
    "USAGE": "A usage event (recordUsage or POST /v1/usage answered ACCEPTED_LATE).",
    "ONE_TIME": "A one-time charge (postCharge) dated in a closed billing period.",
})


@strawberry.type(description="A usage event or one-time charge stored for a billing period already closed: "
                             "pending until a correction bills it (SPEC §17).")
class LateData:
    kind: LateDataKind = strawberry.field(description="USAGE or ONE_TIME.")
    day: date = strawberry.field(description="The day it belongs to (an event's UTC day, a charge's service date).")
    ref: str = strawberry.field(description="The event's idempotency key, or the one-time charge's id number.")
    quantity: Decimal | None = strawberry.field(description="A usage event's quantity; null for a charge.")
    amount: Decimal | None = strawberry.field(description="A one-time charge's amount; null for usage.")
    received_at: datetime = strawberry.field(description="When it was stored (UTC).")
    applied_at: datetime | None = strawberry.field(description="When a correction billed it; null while pending.")

    @classmethod
    def from_row(cls, row: models.LateData) -> LateData:
        return cls(kind=LateDataKind(row.kind), day=row.day, ref=row.ref, quantity=row.quantity, amount=row.amount,
                   received_at=row.created_at, applied_at=row.applied_at)


@strawberry.type(description="Result of correctContract.")
class CorrectContractPayload(Refusable):
    contract: Contract | None = strawberry.field(description="The contract corrected; null when refused.")
    applied: int = strawberry.field(description="Late usage events and one-time charges this correction billed "
                                                "(0: nothing was pending, and nothing was written).")
    adjustments_written: int = strawberry.field(
        description="Credit and debit notes it wrote (one per period whose amounts changed): see Invoice.adjustments "
                    "or adjustments(filter: {contractId}).")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")

    @classmethod
    def refused(cls, errors: list[UserErrorType]) -> CorrectContractPayload:
        return cls(contract=None, applied=0, adjustments_written=0, user_errors=errors)


@strawberry.type
class CorrectionMutations:
    @strawberry.mutation(description="Correct a contract now (SPEC §17; the scheduled due-close run also does it): "
                                     "every closed period from the earliest one holding late data is recomputed, in "
                                     "order, with all the data now known, exactly as its close would have billed it "
                                     "had the data come on time. Each period whose amounts differ gets one credit or "
                                     "debit note linked to its invoice, and ADJUST ledger entries bring every pool to "
                                     "its recomputed balance. With nothing pending it writes nothing.")
    async def correct_contract(
        self, info: Info,
        contract_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the contract.")],
        idempotency_key: IdempotencyKey = None,
    ) -> CorrectContractPayload:
        org_id = org_of(info)

        async def run() -> tuple[models.Contract, corrections.CorrectionReport]:
            contract = ids.decode(contract_id, "Contract", "contractId")
            report = await corrections.correct_contract(org_id, contract)
            return await models.Contract.get(id=contract, organization_id=org_id), report

        return await guard(
            info,
            CorrectContractPayload.refused,
            run,
            lambda out: CorrectContractPayload(contract=Contract.from_row(out[0]), applied=out[1].applied,
                                               adjustments_written=len(out[1].adjustments), user_errors=[]),
            key=idempotency_key,
        )
