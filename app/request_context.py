"""The request being served: its id, for log lines and for the errors a client can quote.

The HTTP layer sets the id at the start of each request (``bind_request_id``); everything else
reads it with ``current_request_id()``. Outside a request (tests, the CLI) a fresh id is made on
first use, so a reader never gets nothing.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    """A random request id (32 hex characters)."""
    return uuid.uuid4().hex


def bind_request_id(value: str | None = None) -> Token[str | None]:
    """Make ``value`` (or a new id) the current request's id; returns the token to reset it."""
    return _request_id.set(value or new_request_id())


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def bound_request_id() -> str | None:
    """The id bound for the current request, or None outside one (log lines use it: never makes one)."""
    return _request_id.get()


def current_request_id() -> str:
    """The current request's id, made on first use outside a request."""
    value = _request_id.get()
    if value is None:
        value = new_request_id()
        _request_id.set(value)
    return value
