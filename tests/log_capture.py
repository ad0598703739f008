"""The service's logging configuration written into a buffer for a test, and restored afterwards."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.config
from collections.abc import Iterator

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "tortoise", "aiosqlite", "asyncpg", "app")


@contextlib.contextmanager
def captured_logs(log_format: str = "text") -> Iterator[io.StringIO]:
    """``app.logging_config.log_config`` at DEBUG in ``log_format``, into a buffer; every logger it
    touches gets its level, handlers, propagation and filters back at the end."""
    from app.logging_config import log_config

    saved = {name: (lg.level, lg.handlers[:], lg.propagate, lg.filters[:])
             for name in LOGGERS for lg in [logging.getLogger(name)]}
    buffer = io.StringIO()
    logging.config.dictConfig(log_config("DEBUG", stream=buffer, log_format=log_format))
    try:
        yield buffer
    finally:
        for name, (level, handlers, propagate, filters) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate = propagate
            lg.filters[:] = filters
