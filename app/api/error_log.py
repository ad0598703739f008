"""How GraphQL errors are logged: expected ones at INFO in one short line, unexpected ones at ERROR.

Strawberry logs every error of a result at ERROR with its traceback (``Schema.process_errors``), so
any client could fill the logs with its own typos. Here an *expected* error (a syntax, validation
or variable error, or one we raise with an ``extensions.code``) is one INFO line with its code and
path, and never its message: messages quote the values sent (``got invalid value '…'``). An
*unexpected* error is logged once at ERROR with its traceback and the request id the client can
quote; a database outage once at WARNING, without a traceback.

Over HTTP an outage is not logged here but recorded on the request's context (``Context.outage``):
the error is a symptom of the service, not of the request, so the HTTP view hands the whole
operation to the transport guard, which answers 503 with ``Retry-After`` and logs it once (as when
the API-key lookup itself fails), rather than a 200 with a masked "Unexpected error." that a
client would not retry. Over WebSocket the error stays in the result and is logged here.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request

from app.api.context import Context
from app.db.outage import outage_cause
from app.request_context import current_request_id

log = logging.getLogger("app.graphql")


def is_expected(error: GraphQLError) -> bool:
    """GraphQL's own errors about the request and the ones raised with a code: the errors that
    are not masked (schema.py's rule). Any other exception, or a code-less resolver error, is not."""
    original = error.original_error
    if original is None:
        return True
    if not isinstance(original, GraphQLError):
        return False
    return error.path is None or bool((original.extensions or {}).get("code"))


def _path(error: GraphQLError) -> str:
    return ".".join(str(part) for part in error.path) if error.path else "-"


def log_errors(errors: list[GraphQLError], *, log_outages: bool = True) -> BaseException | None:
    """Logs each error (outages only if ``log_outages``); returns the original exception of the
    first one caused by a database outage."""
    outage: BaseException | None = None
    for error in errors:
        original = error.original_error
        if is_expected(error):
            code = (error.extensions or {}).get("code") or "GRAPHQL_ERROR"
            log.info("graphql error %s at %s", code, _path(error))
        elif original is not None and (cause := outage_cause(original)) is not None:
            if log_outages:
                log.warning("database unavailable at %s (%s), request %s", _path(error), cause,
                            current_request_id())
            outage = outage or original
        else:
            log.error("unexpected error at %s, request %s", _path(error), current_request_id(),
                      exc_info=original)
    return outage


class LoggedSchema(strawberry.Schema):
    """strawberry.Schema whose errors are logged by :func:`log_errors`."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        context = getattr(execution_context, "context", None)
        over_http = isinstance(context, Context) and isinstance(context.request, Request)
        outage = log_errors(errors, log_outages=not over_http)
        if over_http and outage is not None and context.outage is None:
            context.outage = outage
