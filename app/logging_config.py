"""Logging for ``commitments serve``, in one place: one line per record, each with its request id.

Two formats (``COMMITMENTS_LOG_FORMAT``): ``text``, a line for people, and ``json``, one JSON object
per line for log shippers (``JsonLineFormatter``: ``timestamp`` in UTC ISO 8601, ``level``,
``logger``, ``message``, ``request_id``, ``exception`` when there is one, and any ``extra`` the
caller gave). Every record carries ``request_id`` (the id of the request being served, ``-`` outside one; see
app.request_context). A record with a traceback stays one line: its newlines are escaped as ``\\n``.
What never reaches a line: API keys and tokens (no logger is handed a header), request bodies
(GraphQL errors are logged by code and path, not by their message, which may quote a variable's
value), and query strings (uvicorn's access line is logged without them: a GET request carries its
query and variables there). The database drivers and Tortoise log SQL with its parameters at DEBUG,
so they are held at WARNING whatever the level.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

from app.request_context import bound_request_id

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
JSON_FIELDS = ("levelname", "name", "message", "request_id")
_JSON_NAMES = {"levelname": "level", "name": "logger", "exc_info": "exception"}
# Not copied into a JSON line: the record's own attributes, and uvicorn's ANSI-coloured copy of its message.
_NOT_EXTRA = (*RESERVED_ATTRS, "color_message")
# Loggers that would print SQL parameters (values from request bodies) below WARNING.
QUIET_LOGGERS = ("tortoise", "aiosqlite", "asyncpg")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id``: the current request's id, or ``-`` outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = bound_request_id() or "-"
        return True


class AccessLineFilter(logging.Filter):
    """uvicorn's access line without its query string (``/graphql?query=…`` → ``/graphql``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


class OneLineFormatter(logging.Formatter):
    """The usual format, with the record's newlines (tracebacks included) escaped as ``\\n``."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = bound_request_id() or "-"
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonLineFormatter(OrjsonFormatter):
    """One JSON object per record (python-json-logger over orjson): ``timestamp`` first (UTC, ISO
    8601), then ``level``, ``logger``, ``message``, ``request_id``, ``exception`` (the traceback
    as one string: JSON escapes its newlines) and the record's extras."""

    def __init__(self) -> None:
        super().__init__(list(JSON_FIELDS), rename_fields=_JSON_NAMES, reserved_attrs=_NOT_EXTRA,
                         timestamp=True)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = bound_request_id() or "-"
        return super().format(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": log_data.pop("timestamp"), **log_data}


def _formatter(log_format: LogFormat) -> dict[str, Any]:
    if log_format == "json":
        return {"()": JsonLineFormatter}
    if log_format == "text":
        return {"()": OneLineFormatter, "format": LINE_FORMAT}
    raise ValueError(f"log format: expected one of {', '.join(LOG_FORMATS)}, got {log_format!r}")


def log_config(level: str = "INFO", stream: Any = "ext://sys.stderr",
               log_format: LogFormat = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict (uvicorn's ``log_config`` takes it as it is)."""
    level = level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "stream": stream,
        "formatter": "line",
        "filters": ["request_id"],
    }
    quiet = {name: {"level": "WARNING"} for name in QUIET_LOGGERS}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "access_line": {"()": AccessLineFilter},
        },
        "formatters": {"line": _formatter(log_format)},
        "handlers": {
            "default": handler,
            "access": {**handler, "filters": ["request_id", "access_line"]},
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            **quiet,
        },
    }


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Apply :func:`log_config` to this process (``serve`` hands it to uvicorn instead)."""
    logging.config.dictConfig(log_config(level, log_format=log_format))
