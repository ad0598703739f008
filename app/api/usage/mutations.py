"""Mutations recordUsage and postCharge."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api.context import org_of
from app.api.errors import UserErrorType
from app.api.input_limits import limited
from app.api.mutation_guard import guard
from app.api.usage.types import (
    OneTimeCharge,
    PostChargeInput,
    PostChargePayload,
    RecordUsagePayload,
    UsageEventInput,
    UsageEventResult,
)
from app.db import models
from app.services import one_time_charges, usage
from app.services.errors import ErrorCode, InvalidInput, UserError
from app.services.usage_rules import EventStatus, UsageEventSpec

Events = Annotated[list[UsageEventInput], strawberry.argument(**limited(
    "The batch. Each event is accepted, a duplicate or rejected on its own.", max_items=usage.MAX_BATCH))]
ChargeArg = Annotated[PostChargeInput, strawberry.argument(description="The charge to post.")]


def _refused(errors: list[UserErrorType]) -> RecordUsagePayload:
    return RecordUsagePayload(results=[], accepted=0, accepted_late=0, duplicates=0, rejected=0, user_errors=errors)


def _payload(results: list[UsageEventResult]) -> RecordUsagePayload:
    def count(status: EventStatus) -> int:
        return sum(1 for r in results if r.status == status)

    late = count(EventStatus.ACCEPTED_LATE)
    return RecordUsagePayload(results=results, accepted=count(EventStatus.ACCEPTED) + late, accepted_late=late,
                              duplicates=count(EventStatus.DUPLICATE), rejected=count(EventStatus.REJECTED),
                              user_errors=[])


async def _record(org_id: int, events: list[UsageEventInput]) -> list[UsageEventResult]:
    """Decode ids per event (a bad id rejects that event alone), then record the rest as one batch."""
    if len(events) > usage.MAX_BATCH:
        raise InvalidInput([UserError(ErrorCode.INVALID_INPUT,
                                      f"at most {usage.MAX_BATCH} events per batch", "events")])
    results: dict[int, UsageEventResult] = {}
    specs: list[UsageEventSpec] = []
    positions: list[int] = []
    for i, event in enumerate(events):
        try:
            specs.append(event.to_spec(f"events.{i}"))
        except InvalidInput as exc:
            results[i] = UsageEventResult.from_error(exc, i)
            continue
        positions.append(i)
    for result in await usage.record_usage(org_id, specs):
        index = positions[result.index]
        results[index] = UsageEventResult.from_result(result, index)
    return [results[i] for i in range(len(events))]


@strawberry.type
class UsageMutations:
    @strawberry.mutation(description=f"Record a batch of up to {usage.MAX_BATCH} usage events. Valid events are "
                                     "stored even when others are rejected; a repeated idempotency key is a "
                                     "DUPLICATE and never counted twice; an event dated in a closed billing "
                                     "period is rejected (PERIOD_CLOSED).")
    async def record_usage(self, info: Info, events: Events) -> RecordUsagePayload:
        org_id = org_of(info)
        return await guard(info, _refused, lambda: _record(org_id, events), _payload)


@strawberry.type
class ChargeMutations:
    @strawberry.mutation(description="Post a one-time charge on an ACTIVE contract, billed in the billing period "
                                     "holding its service date. Idempotent by idempotencyKey.")
    async def post_charge(self, info: Info, input: ChargeArg) -> PostChargePayload:
        org_id = org_of(info)

        async def ok(result: tuple[models.OneTimeCharge, bool]) -> PostChargePayload:
            row, created = result
            contract = await info.context.loaders.by_id(models.Contract).load(row.contract_id)
            return PostChargePayload(charge=OneTimeCharge.from_row(row, contract.currency), created=created,
                                     user_errors=[])

        return await guard(
            info,
            lambda errors: PostChargePayload(charge=None, created=False, user_errors=errors),
            lambda: one_time_charges.post_charge(org_id, input.to_spec()),
            ok,
        )
