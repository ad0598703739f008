"""The one path of every mutation resolver: idempotency key, the mutation, no exception escaping.

``guard(info, make, action, present, key=...)`` does, in order:

1. with an ``idempotencyKey``: replay the stored answer of the same call (same mutation, same
   arguments) without running anything, or answer ``IDEMPOTENCY_KEY_REUSED`` for other
   arguments, or run the mutation once and store its answer (``app.services.idempotency``);
2. run the mutation in one transaction (``action`` then ``present``): expected failures
   (``InvalidInput``, billing errors, a unique key) become the payload's ``userErrors``, are rolled
   back and logged at INFO without a traceback; any other exception is rolled back, logged once at
   ERROR with the request id and its traceback (a database outage: WARNING, no traceback), and
   answered as an ``INTERNAL_ERROR`` user error quoting the request id.

So one mutation's failure never nulls its siblings in the same document: no exception leaves a
resolver. Log lines carry the mutation's name, codes and the request id, never arguments or keys.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types import Info
from tortoise.exceptions import IntegrityError

from app.api.errors import UserErrorType
from app.api.payload_codec import canonical, decode, encode
from app.billing.errors import BillingError
from app.db.outage import is_database_unavailable
from app.observability.metrics import record_user_errors
from app.request_context import current_request_id
from app.services import idempotency
from app.services.errors import ErrorCode, InvalidInput, UserError, from_billing

log = logging.getLogger(__name__)
P = TypeVar("P")

KEY_ARGUMENT = "idempotencyKey"

IdempotencyKey = Annotated[str | None, strawberry.argument(
    description="Optional; send the same key when you retry this request. Within "
    f"{idempotency.RETENTION.days} days a retry with the same arguments gets the first answer back and "
    "writes nothing; the key with another mutation or other arguments is IDEMPOTENCY_KEY_REUSED. A key "
    f"is unique per organization, 1 to {idempotency.MAX_KEY_LENGTH} characters. Answers with userErrors "
    "are not stored (nothing was written): a retry runs again.")]


async def guard(info: Info, make: Callable[[list[UserErrorType]], P], action: Callable[[], Awaitable[Any]],
                present: Callable[[Any], P | Awaitable[P]], *, key: str | None = None, atomic: bool = True) -> P:
    """Run a mutation resolver's service call (see the module doc); never raises.

    ``make`` builds the payload for user errors, ``present`` the payload of a result. ``atomic``
    False (only for a mutation that commits per item) runs the action without an outer transaction
    when no key is sent.
    """
    name = info.field_name
    make = _counted(name, make)
    try:
        call = None if key is None else idempotency.KeyedCall(
            info.context.org_id, key, name, idempotency.fingerprint(name, _arguments(info)))
        out = await idempotency.run_once(call, lambda: _attempt(name, make, action, present, call is not None),
                                         atomic)
        if isinstance(out, idempotency.Replayed):  # built as this mutation's payload type (payload_codec)
            return decode(out.answer, root=_payload_type(info))  # type: ignore[no-any-return]
        return out
    except InvalidInput as exc:  # the key: malformed, reused with other arguments, still in use
        _log_refusal(name, exc.errors)
        return make([UserErrorType.from_error(e) for e in exc.errors])
    except Exception as exc:  # noqa: BLE001 - nothing may escape a mutation resolver
        return make([_internal_error(name, exc)])


def _counted(name: str, make: Callable[[list[UserErrorType]], P]) -> Callable[[list[UserErrorType]], P]:
    """``make``, counting the userErrors it answers (README "Metrics": commitments_user_errors_total)."""
    def counted(errors: list[UserErrorType]) -> P:
        record_user_errors(name, [e.code.value for e in errors])
        return make(errors)

    return counted


def _payload_type(info: Info) -> type:
    """The Python class of the mutation's payload (its field's return type, never null)."""
    payload = info.return_type
    if not isinstance(payload, type):
        raise TypeError(f"{info.field_name} does not return a payload type")
    return payload


def _internal_error(name: str, exc: Exception) -> UserErrorType:
    """Log an unexpected failure once (a database outage: WARNING, no traceback) and describe it."""
    request_id = current_request_id()
    if is_database_unavailable(exc):
        log.warning("mutation %s: database unavailable (%s), request %s; rolled back", name,
                    type(exc).__name__, request_id)
        message = (f"The database is unavailable; retry later, with the same idempotencyKey if you sent one. "
                   f"Request id: {request_id}.")
    else:
        log.error("mutation %s failed unexpectedly, request %s; rolled back", name, request_id, exc_info=exc)
        message = f"Unexpected error; nothing was written. Request id: {request_id}."
    return UserErrorType(code=ErrorCode.INTERNAL_ERROR, field=None, message=message)


async def _attempt(name: str, make: Callable[[list[UserErrorType]], P], action: Callable[[], Awaitable[Any]],
                   present: Callable[[Any], P | Awaitable[P]], keyed: bool) -> idempotency.Outcome[P]:
    """One run of the mutation: its payload, kept (committed, stored under a key) only if it succeeded."""
    try:
        result = await action()
    except (InvalidInput, BillingError, IntegrityError) as exc:
        errors = _user_errors(exc)
        _log_refusal(name, errors)
        return idempotency.Outcome(make([UserErrorType.from_error(e) for e in errors]), keep=False)
    out = present(result)
    payload: P = await out if inspect.isawaitable(out) else out  # type: ignore[assignment]
    return idempotency.Outcome(payload, keep=True, stored=encode(payload) if keyed else None)


def _user_errors(exc: Exception) -> list[UserError]:
    """The user errors of an expected failure."""
    if isinstance(exc, InvalidInput):
        return exc.errors
    if isinstance(exc, BillingError):
        return [from_billing(exc, "input")]
    return [UserError(ErrorCode.DUPLICATE, "conflicts with an existing object (unique key)", "input")]


def _log_refusal(name: str, errors: list[UserError]) -> None:
    codes = ", ".join(f"{e.code.value}@{e.field}" for e in errors[:5])
    log.info("mutation %s refused: %s (request %s)", name, codes, current_request_id())


def _arguments(info: Info) -> Any:
    """The field's coerced arguments (variables resolved, defaults applied), without the key."""
    raw = info._raw_info
    definition = raw.parent_type.fields[raw.field_name]
    coerced = getattr(raw.variable_values, "coerced", raw.variable_values)  # Strawberry passes the plain dict
    values = get_argument_values(definition, raw.field_nodes[0], VariableValues(sources={}, coerced=coerced))
    return canonical({k: v for k, v in values.items() if k not in (KEY_ARGUMENT, "idempotency_key")})
