"""``POST /v1/usage``: bulk usage ingest (NDJSON or CSV, gzip allowed), same API key as /graphql.

Every event goes through ``usage.record_batch``, the pipeline of GraphQL ``recordUsage``: the same
rules, codes and idempotency (SPEC §10). The body is read as it arrives (bulk_parse) and recorded in
batches of ``BULK_BATCH`` events, one transaction each, so memory stays bounded whatever the body.

Limits and what happens past them (README "Bulk ingest"):
- at most ``MAX_EVENTS`` events per request; at the first event past it reading stops and the answer
  is 413 PAYLOAD_TOO_LARGE with the counts of the events before it, which ARE stored (their batches
  are committed): send the rest in another request (or resend the file: stored keys are DUPLICATE);
- the body is at most COMMITMENTS_MAX_INGEST_BYTES (64 MiB, as sent: compressed if gzip) and must
  arrive within COMMITMENTS_BODY_TIMEOUT (app/http_limits.py, streamed path): past either, 413 or
  408 with the counts so far, the same way; a corrupt gzip body is 400 BAD_REQUEST the same way.
- refused before reading (nothing stored): no or a bad key 401 UNAUTHENTICATED (like /graphql's
  code), a Content-Type other than NDJSON or CSV or a Content-Encoding other than gzip 415
  UNSUPPORTED_MEDIA_TYPE, a CSV header naming unknown columns 400 BAD_REQUEST.

The answer: ``{"accepted", "duplicate", "rejected", "events": [{"index", "status", "code", "field",
"message"}]}`` listing only the events not accepted, by 0-based line number (CSV: the header is not
counted); a request stopped midway adds ``"errors"`` in the shape of every transport error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from app.api.context import bearer_token, build_context
from app.api.usage.bulk_parse import TOO_LONG, BadBody, EventReader, inflated, lines
from app.http_limits import BodyRefused, json_error
from app.request_context import current_request_id
from app.services.errors import ErrorCode
from app.services.usage import BULK_BATCH, BULK_PATH, Shaped, shape_batch, store_batch
from app.services.usage_rules import EventResult, EventStatus, Rejected, UsageEventSpec

log = logging.getLogger(__name__)

BULK_USAGE_PATH = "/v1/usage"
MAX_EVENTS = 100_000
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv",)


class _Tally:
    """The counts and the events not accepted, as the batches come back."""

    def __init__(self) -> None:
        self.accepted = self.accepted_late = self.duplicate = self.rejected = 0
        self.events: list[dict[str, Any]] = []

    def add(self, index: int, status: EventStatus, code: ErrorCode | None, message: str | None,
            field: str | None) -> None:
        if status is EventStatus.DUPLICATE:
            self.duplicate += 1
        else:
            self.rejected += 1
        self.events.append({"index": index, "status": status.value, "code": code.value if code else None,
                            "field": field or None, "message": message})

    def results(self, positions: list[int], results: list[EventResult]) -> None:
        for r in results:
            if r.status is EventStatus.ACCEPTED:
                self.accepted += 1
            elif r.status is EventStatus.ACCEPTED_LATE:  # stored, and listed: a correction will bill it
                self.accepted += 1
                self.accepted_late += 1
                self.events.append({"index": positions[r.index], "status": r.status.value, "code": None,
                                    "field": None, "message": "stored late: its billing period is closed"})
            else:
                self.add(positions[r.index], r.status, r.code, r.message, r.field)

    def response(self, status: int = 200, code: str | None = None, message: str | None = None) -> Response:
        self.events.sort(key=lambda e: e["index"])
        body: dict[str, Any] = {"accepted": self.accepted, "acceptedLate": self.accepted_late,
                                "duplicate": self.duplicate, "rejected": self.rejected, "events": self.events}
        headers = {}
        if code is not None:
            body["errors"] = [{"message": message, "extensions": {"code": code, "requestId": current_request_id()}}]
            headers["Connection"] = "close"
        return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _media(request: Request) -> tuple[str, bool] | Response:
    """(content type, gzip) or the 415 refusal."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if content_type not in NDJSON_TYPES + CSV_TYPES or encoding not in ("identity", "gzip"):
        return json_error(415, "UNSUPPORTED_MEDIA_TYPE",
                          "Send Content-Type: application/x-ndjson (one JSON object per line) or text/csv "
                          "(a header row, then one event per line), optionally with Content-Encoding: gzip.",
                          {"Connection": "close"})
    return content_type, encoding == "gzip"


async def ingest_usage(request: Request) -> Response:
    context = await build_context(request, bearer_token(request))
    if context.org_id is None:
        return json_error(401, "UNAUTHENTICATED", "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
                          {"WWW-Authenticate": "Bearer", "Connection": "close"})
    media = _media(request)
    if isinstance(media, Response):
        return media
    content_type, gzip = media
    tally = _Tally()
    try:
        stopped_at = await _ingest(context.org_id, request, EventReader(content_type in CSV_TYPES), gzip, tally)
    except BadBody as exc:
        if not (tally.accepted or tally.duplicate or tally.rejected):
            return json_error(exc.status, exc.code, exc.message, {"Connection": "close"})
        return tally.response(exc.status, exc.code, f"{exc.message} The events before it were processed.")
    except ClientDisconnect:  # nobody reads an answer; what was read before is stored (README)
        log.info("bulk ingest: the client disconnected after %d events", tally.accepted + tally.duplicate
                 + tally.rejected)
        return Response(status_code=400)
    except BodyRefused as exc:
        [error] = orjson.loads(exc.response.body)["errors"]
        return tally.response(exc.response.status_code, error["extensions"]["code"],
                              f"{error['message']} The events before it were processed.")
    if stopped_at is not None:
        return tally.response(413, "PAYLOAD_TOO_LARGE",
                              f"At most {MAX_EVENTS} events per request: reading stopped at index {stopped_at}; "
                              "the events before it were processed (see the counts), send the rest again.")
    return tally.response()


class _Pipeline:
    """Batches recorded one after another, in order, while the next one is read and checked: the
    database stores batch n while this process parses and checks batch n + 1 (on two cores the
    parsing and PostgreSQL's insert run at the same time). At most one batch is in flight."""

    def __init__(self, org_id: int, tally: _Tally) -> None:
        self.org_id, self.tally = org_id, tally
        self.in_flight: asyncio.Task[None] | None = None

    async def _record(self, positions: list[int], batch: Shaped) -> None:
        self.tally.results(positions, await store_batch(self.org_id, batch, BULK_PATH))

    async def send(self, positions: list[int], specs: list[UsageEventSpec]) -> None:
        batch = shape_batch(specs)  # CPU, while the previous batch is in the database
        await self.drain()
        self.in_flight = asyncio.create_task(self._record(positions, batch))

    async def drain(self) -> None:
        if self.in_flight is not None:
            task, self.in_flight = self.in_flight, None
            await task

    def cancel(self) -> None:
        if self.in_flight is not None:
            self.in_flight.cancel()


async def _ingest(org_id: int, request: Request, reader: EventReader, gzip: bool, tally: _Tally) -> int | None:
    """Read, check and record the body's events; the index where the event cap stopped it, or None."""
    pipeline = _Pipeline(org_id, tally)
    try:
        return await _read(pipeline, request, reader, gzip)
    finally:
        pipeline.cancel()  # only if an error left a batch in flight


async def _read(pipeline: _Pipeline, request: Request, reader: EventReader, gzip: bool) -> int | None:
    specs: list[UsageEventSpec] = []
    positions: list[int] = []
    index, count, tally = -1, 0, pipeline.tally
    try:
        async for block in lines(inflated(request.stream(), gzip)):
            for line in block:
                if reader.needs_header:
                    reader.header(line)
                    continue
                index += 1
                if line is not TOO_LONG and not line.strip():
                    continue
                count += 1
                if count > MAX_EVENTS:
                    if specs:
                        await pipeline.send(positions, specs)
                    await pipeline.drain()
                    return index
                try:
                    if line is TOO_LONG:
                        raise Rejected(ErrorCode.INVALID_INPUT, "the line is over 64 KiB", "")
                    specs.append(reader.parse(line))
                    positions.append(index)
                except Rejected as error:
                    tally.add(index, EventStatus.REJECTED, error.code, error.message, error.field)
                if len(specs) >= BULK_BATCH:
                    await pipeline.send(positions, specs)
                    specs, positions = [], []
    except (BadBody, BodyRefused, ClientDisconnect):  # cut midway: record the whole lines read before it
        if specs:
            await pipeline.send(positions, specs)
        await pipeline.drain()
        raise
    if specs:
        await pipeline.send(positions, specs)
    await pipeline.drain()
    return None
