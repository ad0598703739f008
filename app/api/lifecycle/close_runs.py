"""GraphQL views of due-close runs (README "Workers") and the closeRun query."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info

from app.api import ids
from app.api.args import NodeId
from app.api.context import org_of
from app.api.enums import described_enum
from app.api.timestamps import Timestamped, stamps
from app.db import models


@strawberry.type(description="A contract whose due period could not be closed.")
class CloseFailure:
    contract_id: strawberry.ID = strawberry.field(description="Global id of the contract.")
    period_start: date = strawberry.field(description="Start of the period that failed.")
    code: str = strawberry.field(description="The error code (see ErrorCode).")
    message: str = strawberry.field(description="Why it failed.")

    @classmethod
    def from_parts(cls, contract_id: int, period_start: date, code: str, message: str) -> CloseFailure:
        return cls(contract_id=strawberry.ID(ids.encode("Contract", contract_id)), period_start=period_start,
                   code=code, message=message)


class CloseRunStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"


described_enum(CloseRunStatus, description="Where a due-close run is (README \"Workers\").", values={
    "QUEUED": "Its chunk jobs wait for a worker; nothing is closed yet.",
    "RUNNING": "At least one chunk job has started and not every chunk has reported; its figures are those "
               "reported so far.",
    "DONE": "Every chunk reported: closed, alreadyClosed and failures are final.",
})


@strawberry.type(description="A due close (closeDuePeriods or the schedule) run as jobs, one per chunk of contracts.")
class CloseRun(Timestamped, relay.Node):
    id: relay.NodeID[int]
    status: CloseRunStatus = strawberry.field(description="Where the run is.")
    as_of: date = strawberry.field(description="The day the closes run as of.")
    chunks: int = strawberry.field(description="Chunk jobs of the run.")
    chunks_done: int = strawberry.field(description="Chunk jobs that have reported.")
    closed: int = strawberry.field(description="Periods the run's jobs closed so far.")
    already_closed: int = strawberry.field(description="Due periods its jobs found closed by someone else "
                                           "(or by an earlier attempt of the same job).")
    failures: list[CloseFailure] = strawberry.field(description="Contracts that failed so far.")
    finished_at: datetime | None = strawberry.field(description="When the last chunk reported.")

    @classmethod
    def from_row(cls, row: models.CloseRun) -> CloseRun:
        return cls(**stamps(row), id=row.id, status=CloseRunStatus(row.status), as_of=row.as_of, chunks=row.chunks,
                   chunks_done=row.chunks_done, closed=row.closed, already_closed=row.already_closed,
                   failures=[CloseFailure.from_parts(int(f["contract_id"]), date.fromisoformat(f["period_start"]),
                                                     f["code"], f["message"]) for f in json.loads(row.failures)],
                   finished_at=row.finished_at)


@strawberry.type
class CloseRunQueries:
    @strawberry.field(description="A due-close run of your organization by id (closeDuePeriods answers its id); "
                      "null if there is none. Poll it after closeDuePeriods(wait: false).")
    async def close_run(self, info: Info, id: NodeId) -> CloseRun | None:
        org_id = org_of(info)
        parsed = ids.parse(id)
        if parsed is None or parsed[0] != "CloseRun":
            raise GraphQLError("id is not a CloseRun id", extensions={"code": "INVALID_ID"})
        row = await models.CloseRun.filter(organization_id=org_id, id=parsed[1]).first()
        return CloseRun.from_row(row) if row else None
