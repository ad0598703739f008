"""Usage ingestion and one-time charges (SPEC §10: usage and late data).

``record_usage`` takes a batch of at most ``MAX_BATCH`` events and answers one result per event:
ACCEPTED (stored now), DUPLICATE (its idempotency key is already stored, or came earlier in this
batch: not counted again) or REJECTED (with a code; nothing stored for it). Valid events of a batch
are kept even when others are rejected.

Cost per batch, whatever its size: a fixed number of reads (stored keys, products, accounts,
contracts, their prices and usage commitments), then one transaction that locks the involved
contracts (``FOR SHARE`` on PostgreSQL, so a concurrent close, which takes ``FOR UPDATE`` on the
contract, either waits for this batch or has finished before it), re-reads their status and closed
periods, and inserts every valid event with ONE multi-row ``INSERT ... ON CONFLICT DO NOTHING
RETURNING``: a key the insert did not return was stored concurrently and is a DUPLICATE. Rows are
inserted in key order so that concurrent batches with overlapping keys cannot deadlock.

Decisions where SPEC is silent:
- Quantity and timestamp arrive as the raw strings sent. A quantity is a plain decimal (exponent
  allowed), ≥ 0, finite, at most 12 decimal places and 20 integer digits, else INVALID_AMOUNT.
- A timestamp is ISO 8601 (``datetime.fromisoformat``: ``Z`` and offsets accepted, a bare date is
  midnight); one without an offset is UTC. The event's day is the UTC day of the timestamp.
- A stored key answers DUPLICATE before any other check of the event, so retrying an accepted event
  always answers DUPLICATE, even after its period closed. Within a batch only valid events take a
  key: a key whose first occurrence was rejected may be accepted later in the same batch.
- An event naming a contract must be for a usage class the contract prices or commits on (USAGE or
  AVERAGE_USAGE), like one naming an account; otherwise NO_MATCHING_CONTRACT.
- More than ``MAX_BATCH`` events: the whole request is refused with one INVALID_INPUT user error.
- One-time charges refuse negative amounts (credits are a separate feature). A repeated key returns
  the stored charge (created false) if the request is the same, DUPLICATE if it differs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from app.billing.terms import CommitmentType, ProductKind
from app.clock import utc_now
from app.db.models import (
    Account,
    BillingPeriod,
    Commitment,
    Contract,
    OneTimeCharge,
    Price,
    Product,
    UsageEvent,
)
from app.db.models.base import DECIMAL_DIGITS, DECIMAL_PLACES
from app.services.checks import MAX_CODE, MAX_KEY, decimal_problem, require, text_problem
from app.services.contract_parts import Problems
from app.services.errors import ErrorCode, UserError, fail

MAX_BATCH = 1000
MAX_KEY_LENGTH = MAX_KEY
MAX_QUANTITY_TEXT = 100  # longer quantity or timestamp strings are INVALID_AMOUNT / INVALID_TIMESTAMP
MAX_TIMESTAMP_TEXT = 64
ACTIVE = "ACTIVE"
CLOSED = "CLOSED"
_PLACES = Decimal(1).scaleb(-DECIMAL_PLACES)
_QUANTITY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_USAGE_COMMITMENTS = (CommitmentType.USAGE.value, CommitmentType.AVERAGE_USAGE.value)


class EventStatus(str, Enum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class EventResult:
    """What became of the event at ``index``; ``field`` names its input field at fault."""

    index: int
    status: EventStatus
    code: ErrorCode | None = None
    message: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class OneTimeChargeSpec:
    contract_id: int
    product_id: int
    amount: Decimal
    service_date: date
    idempotency_key: str
    description: str = ""


@dataclass
class _Event:
    """An event that passed the shape checks, then resolved to a contract."""

    index: int
    key: str
    quantity: Decimal
    occurred_at: datetime
    day: date
    connection_id: str | None
    contract_id: int | None = None
    usage_class_id: int | None = None


class _Rejected(Exception):
    def __init__(self, code: ErrorCode, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


# --- parsing -------------------------------------------------------------------------------------

def parse_quantity(raw: str) -> Decimal:
    """The quantity of a raw string, or ``_Rejected`` with INVALID_AMOUNT."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) > MAX_QUANTITY_TEXT or not _QUANTITY.fullmatch(text):
        raise _Rejected(ErrorCode.INVALID_AMOUNT, "not a decimal number", "quantity")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _Rejected(ErrorCode.INVALID_AMOUNT, "not a decimal number", "quantity") from None
    if value.adjusted() >= DECIMAL_DIGITS - DECIMAL_PLACES:
        raise _Rejected(ErrorCode.INVALID_AMOUNT, f"at most {DECIMAL_DIGITS - DECIMAL_PLACES} integer digits",
                        "quantity")
    problem = decimal_problem(value, "quantity")
    if problem is not None:
        raise _Rejected(problem.code, problem.message, "quantity")
    return (value + 0).quantize(_PLACES)  # -0 → 0; fixed point as the column stores it


def parse_timestamp(raw: str) -> datetime:
    """An aware UTC datetime from ISO 8601 (no offset: UTC), or ``_Rejected`` INVALID_TIMESTAMP."""
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        if not text or len(text) > MAX_TIMESTAMP_TEXT:
            raise ValueError(text)
        value = datetime.fromisoformat(text)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Rejected(ErrorCode.INVALID_TIMESTAMP,
                        "not an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z", "timestamp") from None
    return value


def _text_problem(value: str | None, field: str, *, required: bool, max_length: int = MAX_KEY_LENGTH) -> str | None:
    if value is None:
        return "required" if required else None
    problem = text_problem(value, field, max_length, blank=not required)
    return problem.message if problem else None


def _check_key(spec: UsageEventSpec) -> str:
    problem = _text_problem(spec.idempotency_key, "idempotencyKey", required=True)
    if problem:
        raise _Rejected(ErrorCode.INVALID_INPUT, problem, "idempotencyKey")
    return spec.idempotency_key


def _check_shape(index: int, spec: UsageEventSpec, key: str) -> _Event:
    if (spec.contract_id is None) == (spec.account_id is None):
        raise _Rejected(ErrorCode.INVALID_INPUT, "give exactly one of contractId and accountId", "contractId")
    if (spec.usage_class_id is None) == (spec.usage_class_code is None):
        raise _Rejected(ErrorCode.INVALID_INPUT, "give exactly one of usageClassId and usageClass",
                        "usageClassId")
    quantity = parse_quantity(spec.quantity)
    occurred_at = parse_timestamp(spec.timestamp)
    problem = _text_problem(spec.connection_id, "connectionId", required=False)
    if problem:
        raise _Rejected(ErrorCode.INVALID_INPUT, problem, "connectionId")
    problem = _text_problem(spec.usage_class_code, "usageClass", required=False, max_length=MAX_CODE)
    if problem:  # a code no column can hold is never looked up
        raise _Rejected(ErrorCode.INVALID_INPUT, problem, "usageClass")
    return _Event(index=index, key=key, quantity=quantity, occurred_at=occurred_at, day=occurred_at.date(),
                  connection_id=spec.connection_id)


# --- what validation needs, loaded per batch ----------------------------------------------------

@dataclass
class _Lookups:
    products_by_id: dict[int, dict[str, Any]]
    products_by_code: dict[str, dict[str, Any]]
    accounts: set[int]
    contracts: dict[int, dict[str, Any]]
    active_by_account: dict[int, list[int]]
    classes: dict[int, set[int]]  # contract id → usage classes it prices or commits on


async def _load(org_id: int, specs: Sequence[UsageEventSpec], events: list[_Event]) -> _Lookups:
    wanted = [specs[e.index] for e in events]
    product_ids = {s.usage_class_id for s in wanted if s.usage_class_id is not None}
    codes = {s.usage_class_code for s in wanted if s.usage_class_code is not None}
    contract_ids = {s.contract_id for s in wanted if s.contract_id is not None}
    account_ids = {s.account_id for s in wanted if s.account_id is not None}
    products: list[dict[str, Any]] = []
    if product_ids or codes:
        products = await Product.filter(organization_id=org_id).filter(
            Q(id__in=list(product_ids)) | Q(code__in=list(codes))).values("id", "code", "kind")
    accounts: set[int] = set()
    if account_ids:
        accounts = set(await Account.filter(organization_id=org_id, id__in=list(account_ids))
                       .values_list("id", flat=True))
    rows: list[dict[str, Any]] = []
    if contract_ids or accounts:
        rows = await Contract.filter(organization_id=org_id).filter(
            Q(id__in=list(contract_ids)) | Q(account_id__in=list(accounts), status=ACTIVE)
        ).values("id", "account_id", "status", "start_date", "end_date")
    contracts = {r["id"]: r for r in rows}
    active_by_account: dict[int, list[int]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["status"] == ACTIVE and r["account_id"] in accounts:
            active_by_account[r["account_id"]].append(r["id"])
    classes: dict[int, set[int]] = defaultdict(set)
    if contracts:
        ids = list(contracts)
        for cid, uid in await Price.filter(organization_id=org_id, contract_id__in=ids).values_list(
                "contract_id", "usage_class_id"):
            classes[cid].add(uid)
        for cid, uid in await Commitment.filter(
                organization_id=org_id, contract_id__in=ids, type__in=_USAGE_COMMITMENTS,
                usage_class_id__isnull=False).values_list("contract_id", "usage_class_id"):
            classes[cid].add(uid)
    return _Lookups(
        products_by_id={p["id"]: p for p in products},
        products_by_code={p["code"]: p for p in products},
        accounts=accounts, contracts=contracts, active_by_account=active_by_account, classes=classes,
    )


def _resolve(event: _Event, spec: UsageEventSpec, found: _Lookups) -> None:
    """Set the event's usage class and contract, or raise ``_Rejected``."""
    if spec.usage_class_id is not None:
        product, field = found.products_by_id.get(spec.usage_class_id), "usageClassId"
    else:
        product, field = found.products_by_code.get(spec.usage_class_code or ""), "usageClass"
    if product is None:
        raise _Rejected(ErrorCode.NOT_FOUND, "no usage class with this id or code", field)
    if product["kind"] != ProductKind.USAGE_CLASS.value:
        raise _Rejected(ErrorCode.WRONG_PRODUCT_KIND, f"{product['code']} is a {product['kind']}, not a USAGE_CLASS",
                        field)
    event.usage_class_id = product["id"]
    if spec.contract_id is not None:
        contract = found.contracts.get(spec.contract_id)
        if contract is None:
            raise _Rejected(ErrorCode.NOT_FOUND, "no Contract with this id", "contractId")
        if contract["status"] != ACTIVE:
            raise _Rejected(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract['status']}", "contractId")
        if not contract["start_date"] <= event.day < contract["end_date"]:
            raise _Rejected(ErrorCode.DATE_OUTSIDE_TERM,
                            f"{event.day} is outside the contract's term [{contract['start_date']}, "
                            f"{contract['end_date']})", "timestamp")
        if product["id"] not in found.classes.get(contract["id"], set()):
            raise _Rejected(ErrorCode.NO_MATCHING_CONTRACT,
                            f"the contract neither prices nor commits on {product['code']}", field)
        event.contract_id = contract["id"]
        return
    if spec.account_id not in found.accounts:
        raise _Rejected(ErrorCode.NOT_FOUND, "no Account with this id", "accountId")
    matches = [
        cid for cid in found.active_by_account.get(spec.account_id, [])
        if found.contracts[cid]["start_date"] <= event.day < found.contracts[cid]["end_date"]
        and product["id"] in found.classes.get(cid, set())
    ]
    if not matches:
        raise _Rejected(ErrorCode.NO_MATCHING_CONTRACT,
                        f"no active contract of the account holds {event.day} and prices or commits on "
                        f"{product['code']}", "accountId")
    if len(matches) > 1:
        raise _Rejected(ErrorCode.AMBIGUOUS_CONTRACT,
                        f"{len(matches)} active contracts of the account match: name the contract", "accountId")
    event.contract_id = matches[0]


# --- SQL helpers ----------------------------------------------------------------------------------

def _is_postgres(conn: BaseDBAsyncClient) -> bool:
    return str(conn.capabilities.dialect) == "postgres"


def _placeholders(conn: BaseDBAsyncClient, rows: int, width: int, offset: int = 0) -> str:
    if _is_postgres(conn):
        return ", ".join(
            "(" + ", ".join(f"${offset + r * width + c + 1}" for c in range(width)) + ")" for r in range(rows))
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * rows)


async def _insert_ignoring_conflicts(conn: BaseDBAsyncClient, table: str, columns: Sequence[str],
                                     rows: Sequence[Sequence[Any]], returning: str) -> list[Any]:
    """ONE ``INSERT ... VALUES ... ON CONFLICT (organization_id, idempotency_key) DO NOTHING
    RETURNING``; the returned column of the rows actually inserted."""
    if not rows:
        return []
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_placeholders(conn, len(rows), len(columns))}"
           f" ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING {returning}")
    # execute_query_dict fetches rows for every statement (asyncpg's execute_query drops an INSERT's).
    result = await conn.execute_query_dict(sql, [v for row in rows for v in row])
    return [r[returning] for r in result]


async def _lock_contracts(conn: BaseDBAsyncClient, org_id: int, contract_ids: Sequence[int],
                          *, exclusive: bool = False) -> dict[int, str]:
    """Status of each contract, read under ``FOR SHARE`` on PostgreSQL (a close holds ``FOR UPDATE``;
    ``exclusive`` takes ``FOR UPDATE`` too, for writers that number rows per contract).
    SQLite has one writer at a time: a plain read in the transaction is enough there."""
    ids = sorted(set(contract_ids))
    if not ids:
        return {}
    if _is_postgres(conn):
        sql = ("SELECT id, status FROM contract WHERE organization_id = $1 AND id = ANY($2::int[])"
               f" ORDER BY id FOR {'UPDATE' if exclusive else 'SHARE'}")
        values: list[Any] = [org_id, ids]
    else:
        sql = f"SELECT id, status FROM contract WHERE organization_id = ? AND id IN ({', '.join('?' * len(ids))})"
        values = [org_id, *ids]
    _, rows = await conn.execute_query(sql, values)
    return {int(r["id"]): str(r["status"]) for r in rows}


async def _closed_periods(org_id: int, contract_ids: Sequence[int]) -> dict[int, list[tuple[date, date]]]:
    closed: dict[int, list[tuple[date, date]]] = defaultdict(list)
    if contract_ids:
        for cid, start, end in await BillingPeriod.filter(
                organization_id=org_id, contract_id__in=sorted(set(contract_ids)), status=CLOSED
        ).values_list("contract_id", "start_date", "end_date"):
            closed[cid].append((start, end))
    return closed


def _in_closed(closed: dict[int, list[tuple[date, date]]], contract_id: int, day: date) -> bool:
    return any(start <= day < end for start, end in closed.get(contract_id, ()))


# --- usage ---------------------------------------------------------------------------------------

_EVENT_COLUMNS = ("organization_id", "contract_id", "usage_class_id", "quantity", "occurred_at", "day",
                  "idempotency_key", "connection_id", "created_at")


class _Outcomes:
    """The result of every event of a batch, filled in as the checks go."""

    def __init__(self) -> None:
        self.results: dict[int, EventResult] = {}

    def reject(self, index: int, error: _Rejected) -> None:
        self.results[index] = EventResult(index, EventStatus.REJECTED, error.code, error.message, error.field)

    def duplicate(self, index: int, message: str) -> None:
        self.results[index] = EventResult(index, EventStatus.DUPLICATE, ErrorCode.DUPLICATE, message,
                                          "idempotencyKey")

    def accept(self, index: int) -> None:
        self.results[index] = EventResult(index, EventStatus.ACCEPTED)


async def record_usage(org_id: int, events: Sequence[UsageEventSpec]) -> list[EventResult]:
    """Record a batch of usage events: one result per event, in order (see the module's doc)."""
    if len(events) > MAX_BATCH:
        raise fail(ErrorCode.INVALID_INPUT, f"at most {MAX_BATCH} events per batch, got {len(events)}", "events")
    out = _Outcomes()
    keyed: list[tuple[int, str]] = []
    for i, spec in enumerate(events):
        try:
            keyed.append((i, _check_key(spec)))
        except _Rejected as error:
            out.reject(i, error)
    stored: set[str] = set()
    if keyed:
        stored = set(await UsageEvent.filter(
            organization_id=org_id, idempotency_key__in=sorted({k for _, k in keyed})
        ).values_list("idempotency_key", flat=True))
    shaped: list[_Event] = []
    for i, key in keyed:
        if key in stored:
            out.duplicate(i, "already recorded with this idempotency key")
            continue
        try:
            shaped.append(_check_shape(i, events[i], key))
        except _Rejected as error:
            out.reject(i, error)

    found = await _load(org_id, events, shaped)
    valid: list[_Event] = []
    taken: set[str] = set()
    for event in shaped:
        try:
            _resolve(event, events[event.index], found)
        except _Rejected as error:
            out.reject(event.index, error)
            continue
        if event.key in taken:
            out.duplicate(event.index, "the same idempotency key came earlier in this batch")
            continue
        taken.add(event.key)
        valid.append(event)

    if valid:
        await _store(org_id, valid, out)
    return [out.results[i] for i in range(len(events))]


async def _store(org_id: int, valid: list[_Event], out: _Outcomes) -> None:
    """Lock the contracts, re-check their status and closed periods, insert the rest in one statement."""
    async with in_transaction() as conn:
        statuses = await _lock_contracts(conn, org_id, [e.contract_id for e in valid if e.contract_id])
        closed = await _closed_periods(org_id, list(statuses))
        rows: list[tuple[Any, ...]] = []
        pending: list[_Event] = []
        now = utc_now()
        for event in sorted(valid, key=lambda e: e.key):  # one key order for all writers: no deadlock
            assert event.contract_id is not None
            status = statuses.get(event.contract_id)
            if status != ACTIVE:
                out.reject(event.index, _Rejected(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {status}",
                                                  "contractId"))
            elif _in_closed(closed, event.contract_id, event.day):
                out.reject(event.index, _Rejected(ErrorCode.PERIOD_CLOSED,
                                                  f"{event.day} lies in a closed billing period", "timestamp"))
            else:
                pending.append(event)
                rows.append((org_id, event.contract_id, event.usage_class_id, event.quantity, event.occurred_at,
                             event.day, event.key, event.connection_id, now))
        inserted = set(await _insert_ignoring_conflicts(conn, "usage_event", _EVENT_COLUMNS, rows,
                                                        "idempotency_key"))
    for event in pending:
        if event.key in inserted:
            out.accept(event.index)
        else:
            out.duplicate(event.index, "already recorded with this idempotency key (concurrently)")


# --- one-time charges ----------------------------------------------------------------------------

_CHARGE_COLUMNS = ("organization_id", "contract_id", "product_id", "amount", "service_date", "description",
                   "idempotency_key", "created_at", "seq")


async def _next_charge_seq(org_id: int, contract_id: int) -> int:
    """The creation order of the contract's next one-time charge (its row is locked)."""
    top = await OneTimeCharge.filter(organization_id=org_id, contract_id=contract_id).annotate(
        top=Max("seq")).first().values("top")
    return int((top or {}).get("top") or 0) + 1


def _same_charge(row: OneTimeCharge, spec: OneTimeChargeSpec) -> bool:
    return (row.contract_id == spec.contract_id and row.product_id == spec.product_id
            and row.amount == spec.amount and row.service_date == spec.service_date
            and row.description == spec.description)


def _replayed(row: OneTimeCharge, spec: OneTimeChargeSpec) -> tuple[OneTimeCharge, bool]:
    """The stored charge for a repeated key, if the request is the same; else DUPLICATE."""
    if not _same_charge(row, spec):
        raise fail(ErrorCode.DUPLICATE,
                   "this idempotency key was used for a different charge", "input.idempotencyKey")
    return row, False


async def post_charge(org_id: int, spec: OneTimeChargeSpec) -> tuple[OneTimeCharge, bool]:
    """Post a one-time charge on an ACTIVE contract, billed in the period holding service_date.

    Returns (charge, created). A repeated idempotency key returns the stored charge with created
    False when the request is the same, and refuses it with DUPLICATE when it differs.
    """
    problems = Problems()
    key_problem = _text_problem(spec.idempotency_key, "idempotencyKey", required=True)
    if key_problem:
        problems.add(UserError(ErrorCode.INVALID_INPUT, key_problem, "input.idempotencyKey"))
    if spec.amount.is_finite() and spec.amount.adjusted() >= DECIMAL_DIGITS - DECIMAL_PLACES:
        problems.add(UserError(ErrorCode.INVALID_AMOUNT,
                               f"at most {DECIMAL_DIGITS - DECIMAL_PLACES} integer digits", "input.amount"))
    else:
        problems.amount(spec.amount, "input.amount")
    description_problem = _text_problem(spec.description, "description", required=False)
    if description_problem:
        problems.add(UserError(ErrorCode.INVALID_INPUT, description_problem, "input.description"))
    problems.raise_if_any()

    existing = await OneTimeCharge.filter(organization_id=org_id, idempotency_key=spec.idempotency_key).first()
    if existing is not None:
        return _replayed(existing, spec)
    contract = await require(Contract, org_id, spec.contract_id, "input.contractId")
    await require(Product, org_id, spec.product_id, "input.productId")
    if contract.status != ACTIVE:
        raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {contract.status}", "input.contractId")
    if not contract.start_date <= spec.service_date < contract.end_date:
        raise fail(ErrorCode.DATE_OUTSIDE_TERM,
                   f"{spec.service_date} is outside the contract's term [{contract.start_date}, {contract.end_date})",
                   "input.serviceDate")
    async with in_transaction() as conn:
        statuses = await _lock_contracts(conn, org_id, [contract.id], exclusive=True)
        if statuses.get(contract.id) != ACTIVE:
            raise fail(ErrorCode.CONTRACT_NOT_ACTIVE, f"the contract is {statuses.get(contract.id)}",
                       "input.contractId")
        closed = await _closed_periods(org_id, [contract.id])
        if _in_closed(closed, contract.id, spec.service_date):
            raise fail(ErrorCode.PERIOD_CLOSED, f"{spec.service_date} lies in a closed billing period",
                       "input.serviceDate")
        amount = (spec.amount + 0).quantize(_PLACES)
        ids = await _insert_ignoring_conflicts(
            conn, "one_time_charge", _CHARGE_COLUMNS,
            [(org_id, contract.id, spec.product_id, amount, spec.service_date, spec.description,
              spec.idempotency_key, utc_now(), await _next_charge_seq(org_id, contract.id))],
            "id")
    if not ids:  # a concurrent request stored the same key first
        stored = await OneTimeCharge.get(organization_id=org_id, idempotency_key=spec.idempotency_key)
        return _replayed(stored, spec)
    return await OneTimeCharge.get(id=ids[0], organization_id=org_id), True
