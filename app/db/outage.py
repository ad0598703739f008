"""Telling a database outage from every other failure.

An outage (the server is down, refuses or drops connections, the database is gone or locked, the
SQLite file cannot be opened) is not the request's fault and will pass: the HTTP layer answers it
with 503 ``SERVICE_UNAVAILABLE`` and ``Retry-After`` instead of a masked internal error.
"""

from __future__ import annotations

import socket
import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError

# PostgreSQL: connection exceptions (class 08), operator intervention on connections (57P01-57P03),
# too many connections, and a database that no longer exists.
_PG_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,
)
_NETWORK: tuple[type[BaseException], ...] = (ConnectionError, socket.gaierror, DBConnectionError)
# asyncpg's state errors on a pooled connection the server has just terminated (its FATAL message
# arrived, the socket's end not yet): "another operation (2) is in progress" (2: consuming an error),
# the "failed" state, "not connected".
_PG_BROKEN_CONNECTION = ("operation (2) is in progress", '"failed" state', "not connected")
_SQLITE_UNAVAILABLE = ("unable to open database", "disk i/o error", "database is locked",
                       "database or disk is full")
_MAX_CHAIN = 10


class DatabaseUnavailable(Exception):
    """The database cannot be reached; raised where the request needs it (e.g. API-key lookup)."""


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, (DatabaseUnavailable, *_NETWORK, *_PG_UNAVAILABLE)):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc) or "closing" in str(exc)
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        return any(marker in str(exc) for marker in _PG_BROKEN_CONNECTION)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return any(marker in text for marker in _SQLITE_UNAVAILABLE)
    return False


def outage_cause(exc: BaseException) -> str | None:
    """The name of the deepest exception of ``exc``'s chain that says the database is unreachable
    (e.g. ``InvalidCatalogNameError`` under Tortoise's and our wrappers), or None."""
    cause: str | None = None
    seen: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if seen is None:
            break
        if _is_outage(seen):
            cause = type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return cause


def is_database_unavailable(exc: BaseException) -> bool:
    """True if ``exc``, or an exception it was raised from, says the database is unreachable."""
    return outage_cause(exc) is not None
