"""Every GraphQL operation counted and timed (README "Metrics"), without an extension hook.

``MeasuredSchema.execute`` wraps Strawberry's: it times the call and records the operation's name
(capped, app.observability.metrics), type and outcome from the result it returns. The name and type
come from the execution context, which ``_create_execution_context`` (Strawberry's one place that
makes it, pinned < 0.400 like ``LimitedSchema``) leaves in a context variable of the request. A
schema extension would cost every request a context manager per hook; this costs one call.

Outcomes: ``ok``; ``user_error`` (a mutation answered userErrors, or a resolver raised an error
with a code, e.g. UNAUTHENTICATED); ``refused`` (nothing ran: a document that does not parse or
validate, variables that do not fit, a query over the cost limit, an operation type not allowed);
``timeout`` (stopped at the request timeout); ``error`` (an unexpected error, masked, or an outage);
``cancelled`` (the client left: the request's task was cancelled).
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from app.api.error_log import LoggedSchema, is_expected
from app.api.timeout import CODE as TIMEOUT_CODE
from app.observability.metrics import end_operation, record_operation, start_operation

# Raised by Strawberry's execute for a request it will not run (the view answers 400 or 405).
_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)

_execution: ContextVar[ExecutionContext | None] = ContextVar("graphql_execution", default=None)


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def outcome(result: Any, user_errors: bool) -> str:
    """The outcome label of an operation's result (module docstring)."""
    errors: list[GraphQLError] = list(getattr(result, "errors", None) or ())
    if not errors:
        return "user_error" if user_errors else "ok"
    if not all(is_expected(e) for e in errors):
        return "error"
    if any(_code(e) == TIMEOUT_CODE for e in errors):
        return "timeout"
    if all(e.path is None for e in errors):
        return "refused"
    return "user_error"


def _name_and_type(context: ExecutionContext | None) -> tuple[str | None, str]:
    if context is None:
        return None, "unknown"
    try:
        return context.operation_name, context.operation_type.value
    except Exception:  # noqa: BLE001 - no document, or an operation name it does not hold
        return context.operation_name, "unknown"


class MeasuredSchema(LoggedSchema):
    """A schema whose ``execute`` records each operation's count, outcome and duration."""

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        context = super()._create_execution_context(*args, **kwargs)
        _execution.set(context)
        return context

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        token = _execution.set(None)
        marks, marks_token = start_operation()
        started = time.perf_counter()
        label = "error"
        try:
            result = await super().execute(*args, **kwargs)
            label = outcome(result, marks.user_errors)
            return result
        except _REFUSALS:
            label = "refused"
            raise
        except asyncio.CancelledError:
            label = "cancelled"
            raise
        finally:
            name, kind = _name_and_type(_execution.get())
            record_operation(name, kind, label, time.perf_counter() - started)
            _execution.reset(token)
            end_operation(marks_token)
