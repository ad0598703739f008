"""Idempotency keys (Stripe's model): a mutation runs once per key and organization; a retry with
the same key and the same arguments gets the first answer back and writes nothing.

The record of a key is written in the same transaction as the mutation's effects: it is inserted
(``IN_PROGRESS``) before the mutation runs and completed (``COMPLETED``, with the answer) just
before the commit. So a committed key always has its effects and its answer, and a call that fails
or is killed part-way leaves neither: a retry runs it again. Only answers that wrote something are
stored; an answer with user errors wrote nothing and is not kept under the key.

Two calls with one key at the same time: the second one's insert of the key waits on the first
one's uncommitted row (PostgreSQL's unique index; SQLite runs one transaction at a time), then
replays the first answer. If the first is still running after ``WAIT_SECONDS`` the second gets
``IDEMPOTENCY_KEY_IN_USE`` and may retry later.

Records are kept ``RETENTION`` (7 days); an expired key may be used again. Expired records of an
organization are purged lazily, by its next call with a key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.clock import utc_now
from app.db.models import IdempotencyRecord
from app.services.errors import ErrorCode, InvalidInput, fail

T = TypeVar("T")

RETENTION = timedelta(days=7)
WAIT_SECONDS = 5
MAX_KEY_LENGTH = 200
IN_PROGRESS, COMPLETED = "IN_PROGRESS", "COMPLETED"
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


@dataclass(frozen=True)
class KeyedCall:
    """A mutation sent with an idempotency key: who, which key, which mutation, which arguments."""

    org_id: int
    key: str
    mutation: str
    fingerprint: str


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a guarded action answered: keep (commit) it or roll it back; the JSON to store if kept."""

    value: T
    keep: bool
    stored: Any = None


@dataclass(frozen=True)
class Replayed:
    """The stored answer of an earlier call with the same key and arguments."""

    answer: Any


class _Discard(Exception):
    """Raised inside the transaction to roll back an answer that must not be kept."""

    def __init__(self, outcome: Outcome[Any]) -> None:
        super().__init__("discarded")
        self.outcome = outcome


class _KeyTaken(Exception):
    """The key already has a row (committed, or committed while we waited for it)."""


def fingerprint(mutation: str, arguments: Any) -> str:
    """SHA-256 of the mutation name and its arguments as canonical JSON (sorted keys, ASCII)."""
    text = json.dumps({"mutation": mutation, "arguments": arguments}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def check_key(key: str) -> None:
    """A key is 1 to ``MAX_KEY_LENGTH`` printable characters (no control characters, no surrogates)."""
    problem = None
    if not key.strip():
        problem = "must not be empty"
    elif len(key) > MAX_KEY_LENGTH:
        problem = f"at most {MAX_KEY_LENGTH} characters, got {len(key)}"
    elif any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in key):
        problem = "must not contain control characters or lone surrogates"
    if problem:
        raise fail(ErrorCode.INVALID_INPUT, f"idempotencyKey {problem}", "idempotencyKey")


async def run_once(call: KeyedCall | None, action: Callable[[], Awaitable[Outcome[T]]],
                   atomic: bool = True) -> T | Replayed:
    """Run ``action`` (in one transaction unless ``atomic`` is False and there is no key).

    With a key: replay the stored answer of the same call, refuse the key reused with other
    arguments (``IDEMPOTENCY_KEY_REUSED``), else run the action once and store its answer if kept.
    An answer not kept is rolled back. Exceptions of the action propagate after the rollback.
    """
    if call is None:
        return await _run(action) if atomic else (await action()).value
    check_key(call.key)
    await purge_expired(call.org_id)
    for _ in range(3):
        try:
            return await _reserve_and_run(call, action)
        except _KeyTaken:
            pass
        found = await IdempotencyRecord.filter(organization_id=call.org_id, key=call.key).first()
        if found is None:  # the first call rolled back, or the record expired and was purged
            continue
        if found.expires_at <= utc_now():
            await IdempotencyRecord.filter(id=found.id, expires_at__lte=utc_now()).delete()
            continue
        return _replay(call, found)
    raise _in_use()


async def _run(action: Callable[[], Awaitable[Outcome[T]]]) -> T:
    try:
        async with in_transaction():
            outcome = await action()
            if not outcome.keep:
                raise _Discard(outcome)
            return outcome.value
    except _Discard as discarded:
        return discarded.outcome.value  # type: ignore[no-any-return]


async def _reserve_and_run(call: KeyedCall, action: Callable[[], Awaitable[Outcome[T]]]) -> T:
    try:
        async with in_transaction() as conn:
            record = await _reserve(conn, call)
            outcome = await action()
            if not outcome.keep:
                raise _Discard(outcome)
            record.status = COMPLETED
            record.payload = json.dumps(outcome.stored, sort_keys=True, separators=(",", ":"))
            await record.save(update_fields=["status", "payload"])
            return outcome.value
    except _Discard as discarded:
        return discarded.outcome.value  # type: ignore[no-any-return]


async def _reserve(conn: Any, call: KeyedCall) -> IdempotencyRecord:
    """Insert the key's row; wait (bounded on PostgreSQL) for a concurrent call holding it."""
    postgres = conn.capabilities.dialect == "postgres"
    if postgres:
        await conn.execute_script(f"SET LOCAL lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
    now = utc_now()
    try:
        record = await IdempotencyRecord.create(
            organization_id=call.org_id, key=call.key, mutation=call.mutation, fingerprint=call.fingerprint,
            status=IN_PROGRESS, payload=None, created_at=now, expires_at=now + RETENTION, using_db=conn,
        )
    except IntegrityError as exc:
        raise _KeyTaken from exc
    except Exception as exc:
        if _sqlstate(exc) == _LOCK_NOT_AVAILABLE:
            raise _in_use() from exc
        raise
    if postgres:
        await conn.execute_script("SET LOCAL lock_timeout = DEFAULT")
    return record


def _replay(call: KeyedCall, found: IdempotencyRecord) -> Replayed:
    if found.mutation != call.mutation or found.fingerprint != call.fingerprint:
        raise fail(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                   f"this idempotencyKey was used in the last {RETENTION.days} days for a different request "
                   f"({found.mutation}, other arguments); use a new key", "idempotencyKey")
    if found.status != COMPLETED or found.payload is None:
        raise _in_use()
    return Replayed(json.loads(found.payload))


def _in_use() -> InvalidInput:
    return fail(ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                "a request with this idempotencyKey is still running; retry it later", "idempotencyKey")


def _sqlstate(exc: BaseException | None) -> str | None:
    while exc is not None:
        state = getattr(exc, "sqlstate", None)
        if state:
            return str(state)
        exc = exc.__cause__
    return None


async def purge_expired(org_id: int | None = None) -> int:
    """Delete expired records (of one organization, or all); returns how many."""
    query = IdempotencyRecord.filter(expires_at__lte=utc_now())
    if org_id is not None:
        query = query.filter(organization_id=org_id)
    return int(await query.delete())
