"""The per-event rules of usage ingestion (SPEC §10), shared by ``recordUsage`` and ``POST /v1/usage``.

What an event is (``UsageEventSpec``), what became of it (``EventResult``), and the checks that need
no database: the idempotency key, the exactly-one-of pairs, the quantity, the timestamp and the
lengths of the free-text fields. The checks that need the database (lookups, the contract lock,
closed periods) are in ``usage_lookups`` and ``usage_store``; ``usage.record_batch`` runs them all,
in one order, for both entry points.

Decisions where SPEC is silent:
- Quantity and timestamp arrive as the raw strings sent. A quantity is a plain decimal (exponent
  allowed), ≥ 0, finite, at most 12 decimal places and 20 integer digits, else INVALID_AMOUNT.
- A timestamp is ISO 8601 (``datetime.fromisoformat``: ``Z`` and offsets accepted, a bare date is
  midnight); one without an offset is UTC. The event's day is the UTC day of the timestamp.

Per-event objects are ``__slots__`` dataclasses: a bulk request makes 100,000 of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from app.db.models.base import DECIMAL_DIGITS, DECIMAL_PLACES
from app.services.checks import MAX_CODE, MAX_KEY, decimal_problem, text_problem
from app.services.errors import ErrorCode

MAX_KEY_LENGTH = MAX_KEY
MAX_QUANTITY_TEXT = 100  # longer quantity or timestamp strings are INVALID_AMOUNT / INVALID_TIMESTAMP
MAX_TIMESTAMP_TEXT = 64
ACTIVE = "ACTIVE"
ENDED = "ENDED"
CLOSED = "CLOSED"
PLACES = Decimal(1).scaleb(-DECIMAL_PLACES)
MAX_INTEGER_DIGITS = DECIMAL_DIGITS - DECIMAL_PLACES
_QUANTITY = re.compile(r"[+-]?(?:(?P<whole>\d+)(?:\.(?P<fraction>\d*))?|\.\d+)(?P<exponent>[eE][+-]?\d+)?")


class EventStatus(str, Enum):
    ACCEPTED = "ACCEPTED"
    ACCEPTED_LATE = "ACCEPTED_LATE"  # stored for a closed period: a correction bills it (SPEC §17)
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class UsageEventSpec:
    """One event as sent. Exactly one of contract_id / account_id, and of usage_class_id /
    usage_class_code. quantity and timestamp are the raw strings, checked here."""

    quantity: str
    timestamp: str
    idempotency_key: str
    contract_id: int | None = None
    account_id: int | None = None
    usage_class_id: int | None = None
    usage_class_code: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of the event at ``index``; ``field`` names its input field at fault."""

    index: int
    status: EventStatus
    code: ErrorCode | None = None
    message: str | None = None
    field: str | None = None


@dataclass(slots=True)
class ShapedEvent:
    """An event that passed the checks without the database; contract and class set on resolving."""

    index: int
    key: str
    quantity: Decimal
    occurred_at: datetime
    day: date
    connection_id: str | None
    contract_id: int | None = None
    usage_class_id: int | None = None


class Rejected(Exception):
    """Why one event is refused: a code, a message and its input field (camelCase, as sent)."""

    def __init__(self, code: ErrorCode, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def parse_quantity(raw: str) -> Decimal:
    """The quantity of a raw string, or ``Rejected`` with INVALID_AMOUNT."""
    text = raw.strip() if isinstance(raw, str) else ""
    match = _QUANTITY.fullmatch(text) if len(text) <= MAX_QUANTITY_TEXT else None
    if match is None:
        raise Rejected(ErrorCode.INVALID_AMOUNT, "not a decimal number", "quantity")
    whole, fraction, exponent = match.group("whole", "fraction", "exponent")
    if (exponent is None and whole is not None and text[0] != "-" and len(fraction or "") <= DECIMAL_PLACES
            and len(whole.lstrip("0")) <= MAX_INTEGER_DIGITS):
        return Decimal(text).quantize(PLACES)  # the common case, plainly within the column
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise Rejected(ErrorCode.INVALID_AMOUNT, "not a decimal number", "quantity") from None
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise Rejected(ErrorCode.INVALID_AMOUNT, f"at most {MAX_INTEGER_DIGITS} integer digits", "quantity")
    problem = decimal_problem(value, "quantity")
    if problem is not None:
        raise Rejected(problem.code, problem.message, "quantity")
    return (value + 0).quantize(PLACES)  # -0 → 0; fixed point as the column stores it


def parse_timestamp(raw: str) -> datetime:
    """An aware UTC datetime from ISO 8601 (no offset: UTC), or ``Rejected`` INVALID_TIMESTAMP."""
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        if not text or len(text) > MAX_TIMESTAMP_TEXT:
            raise ValueError(text)
        value = datetime.fromisoformat(text)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Rejected(ErrorCode.INVALID_TIMESTAMP,
                       "not an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z", "timestamp") from None
    return value


def field_text_problem(value: str | None, field: str, *, required: bool,
                       max_length: int = MAX_KEY_LENGTH) -> str | None:
    """The message for a text field that is missing, blank (when required) or too long, else None."""
    if value is None:
        return "required" if required else None
    problem = text_problem(value, field, max_length, blank=not required)
    return problem.message if problem else None


def check_key(spec: UsageEventSpec) -> str:
    problem = field_text_problem(spec.idempotency_key, "idempotencyKey", required=True)
    if problem:
        raise Rejected(ErrorCode.INVALID_INPUT, problem, "idempotencyKey")
    return spec.idempotency_key


def check_shape(index: int, spec: UsageEventSpec, key: str) -> ShapedEvent:
    """Every check of one event that needs no database, in the order their codes take precedence."""
    if (spec.contract_id is None) == (spec.account_id is None):
        raise Rejected(ErrorCode.INVALID_INPUT, "give exactly one of contractId and accountId", "contractId")
    if (spec.usage_class_id is None) == (spec.usage_class_code is None):
        raise Rejected(ErrorCode.INVALID_INPUT, "give exactly one of usageClassId and usageClass", "usageClassId")
    quantity = parse_quantity(spec.quantity)
    occurred_at = parse_timestamp(spec.timestamp)
    problem = field_text_problem(spec.connection_id, "connectionId", required=False)
    if problem:
        raise Rejected(ErrorCode.INVALID_INPUT, problem, "connectionId")
    problem = field_text_problem(spec.usage_class_code, "usageClass", required=False, max_length=MAX_CODE)
    if problem:  # a code no column can hold is never looked up
        raise Rejected(ErrorCode.INVALID_INPUT, problem, "usageClass")
    return ShapedEvent(index, key, quantity, occurred_at, occurred_at.date(), spec.connection_id)
