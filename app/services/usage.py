"""Recording usage events (SPEC §10: usage and late data): ``record_batch`` is the one pipeline of
both entry points, GraphQL ``recordUsage`` (``record_usage``, at most ``MAX_BATCH`` events) and the
bulk ``POST /v1/usage`` (app/api/usage/bulk.py, batches of ``BULK_BATCH``).

Each event is ACCEPTED (stored now), DUPLICATE (its idempotency key is already stored, or came
earlier in this batch: not counted again) or REJECTED (with a code; nothing stored for it). Valid
events of a batch are kept even when others are rejected.

Cost per batch, whatever its size: the checks without the database (usage_rules), then ONE
transaction on one pool connection: the stored keys, the lookups (usage_lookups), the lock on the
involved contracts (``FOR SHARE`` on PostgreSQL: a concurrent close, which takes ``FOR UPDATE``,
either waits for this batch or has finished before it), their status and closed periods re-read
under the lock, and one insert of every valid event ignoring conflicts (usage_store: one fixed
statement text on PostgreSQL). A key the insert did not return was stored concurrently and is a
DUPLICATE. Rows are inserted in key order so that concurrent batches with overlapping keys cannot
deadlock.

Decisions where SPEC is silent:
- A stored key answers DUPLICATE before any other check of the event, so retrying an accepted event
  always answers DUPLICATE, even after its period closed. Within a batch only valid events take a
  key: a key whose first occurrence was rejected may be accepted later in the same batch.
- More than ``MAX_BATCH`` events to ``record_usage``: the whole request is refused with one
  INVALID_INPUT user error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app.clock import utc_now
from app.observability.metrics import record_usage_events
from app.services import usage_store
from app.services.errors import ErrorCode, fail
from app.services.usage_lookups import load, resolve
from app.db.models import LateData
from app.services.late_rules import LateRule, late_rule, record_late
from app.services.usage_rules import (
    ACTIVE,
    ENDED,
    EventResult,
    EventStatus,
    Rejected,
    ShapedEvent,
    UsageEventSpec,
    check_key,
    check_shape,
)

MAX_BATCH = 1000  # events per recordUsage request
GRAPHQL_PATH, BULK_PATH = "graphql", "bulk"  # the entry points, as the metrics name them
BULK_BATCH = 5000  # events per transaction of the bulk path

_ACCEPTED = EventStatus.ACCEPTED
_STORED = "already recorded with this idempotency key"


def _rejected(index: int, error: Rejected) -> EventResult:
    return EventResult(index, EventStatus.REJECTED, error.code, error.message, error.field)


def _duplicate(index: int, message: str) -> EventResult:
    return EventResult(index, EventStatus.DUPLICATE, ErrorCode.DUPLICATE, message, "idempotencyKey")


async def record_usage(org_id: int, events: Sequence[UsageEventSpec]) -> list[EventResult]:
    """Record a batch of at most ``MAX_BATCH`` events: one result per event, in order."""
    if len(events) > MAX_BATCH:
        raise fail(ErrorCode.INVALID_INPUT, f"at most {MAX_BATCH} events per batch, got {len(events)}", "events")
    return await record_batch(org_id, events, GRAPHQL_PATH)


@dataclass(slots=True)
class Shaped:
    """A batch after the checks that need no database (``shape_batch``), ready for ``store_batch``."""

    specs: Sequence[UsageEventSpec]
    results: list[EventResult | None]
    keyed: list[tuple[int, str]]  # events with a well-formed key, which may be stored
    shaped: list[ShapedEvent]


def shape_batch(events: Sequence[UsageEventSpec]) -> Shaped:
    """Every check of the batch's events that needs no database (pure CPU: the bulk path runs it for
    the next batch while the database stores the previous one)."""
    results: list[EventResult | None] = [None] * len(events)
    shaped: list[ShapedEvent] = []
    keyed: list[tuple[int, str]] = []
    for i, spec in enumerate(events):
        try:
            key = check_key(spec)
            keyed.append((i, key))
            shaped.append(check_shape(i, spec, key))
        except Rejected as error:
            results[i] = _rejected(i, error)
    return Shaped(events, results, keyed, shaped)


async def record_batch(org_id: int, events: Sequence[UsageEventSpec], path: str = GRAPHQL_PATH) -> list[EventResult]:
    """Record ``events`` (no size limit here: callers bound it): one result per event, in order."""
    return await store_batch(org_id, shape_batch(events), path)


async def store_batch(org_id: int, batch: Shaped, path: str = GRAPHQL_PATH) -> list[EventResult]:
    """The checks that need the database and the insert, in ONE transaction: one result per event.
    The batch's counts go to the metrics once (README "Metrics"; ``path``: graphql or bulk)."""
    events, results, keyed, shaped = batch.specs, batch.results, batch.keyed, batch.shaped
    accepted = duplicates = 0
    if keyed:
        async with in_transaction() as conn:
            stored = await usage_store.stored_keys(conn, org_id, sorted({k for _, k in keyed}))
            if stored:
                for i, key in keyed:  # a stored key is a DUPLICATE before any other check
                    if key in stored:
                        results[i] = _duplicate(i, _STORED)
                        duplicates += 1
                shaped = [e for e in shaped if e.key not in stored]
            found = await load(org_id, events, shaped)
            valid: list[ShapedEvent] = []
            taken: set[str] = set()
            for event in shaped:
                try:
                    resolve(event, events[event.index], found)
                except Rejected as error:
                    results[event.index] = _rejected(event.index, error)
                    continue
                if event.key in taken:
                    results[event.index] = _duplicate(event.index, "the same idempotency key came earlier in this batch")
                    duplicates += 1
                    continue
                taken.add(event.key)
                valid.append(event)
            if valid:
                accepted, concurrent = await _store(conn, org_id, valid, results)
                duplicates += concurrent
    record_usage_events(path, accepted, duplicates, len(events) - accepted - duplicates)
    return results  # type: ignore[return-value] - every index is set by now


async def _store(conn: BaseDBAsyncClient, org_id: int, valid: list[ShapedEvent],
                 results: list[EventResult | None]) -> tuple[int, int]:
    """Lock the contracts, re-check their status and closed periods, insert the rest in one statement;
    (accepted, duplicates: stored concurrently). An event of a closed period is stored late if the
    organization's rule takes it (SPEC §17; an ENDED contract's periods are all closed)."""
    statuses = await usage_store.lock_contracts(conn, org_id, [e.contract_id for e in valid if e.contract_id])
    closed = await usage_store.closed_periods(conn, org_id, list(statuses))
    rows: list[usage_store.EventRow] = []
    pending: list[ShapedEvent] = []
    late: set[str] = set()
    rule: LateRule | None = None
    today = utc_now().date()
    for event in sorted(valid, key=lambda e: e.key):  # one key order for all writers: no deadlock
        assert event.contract_id is not None and event.usage_class_id is not None
        status = statuses.get(event.contract_id)
        span = usage_store.closed_span(closed, event.contract_id, event.day) if closed else None
        if status != ACTIVE and not (status == ENDED and span):
            results[event.index] = _rejected(event.index, Rejected(
                ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {status}", "contractId"))
            continue
        if span:
            rule = rule or await late_rule(org_id, conn)
            if not rule.accepts(span[1], today):
                results[event.index] = _rejected(event.index, rule.refusal(event.day, span[1], "timestamp"))
                continue
            late.add(event.key)
        pending.append(event)
        rows.append((event.contract_id, event.usage_class_id, event.quantity, event.occurred_at, event.day,
                     event.key, event.connection_id))
    inserted = await usage_store.insert_events(conn, org_id, rows, utc_now())
    for event in pending:
        if event.key in inserted:
            results[event.index] = EventResult(event.index, EventStatus.ACCEPTED_LATE if event.key in late
                                               else _ACCEPTED)
        else:
            results[event.index] = _duplicate(event.index, f"{_STORED} (concurrently)")
    await record_late(conn, org_id, [
        LateData(contract_id=e.contract_id, kind="USAGE", day=e.day, ref=e.key, usage_class_id=e.usage_class_id,
                 quantity=e.quantity) for e in pending if e.key in late and e.key in inserted])
    return len(inserted), len(pending) - len(inserted)
