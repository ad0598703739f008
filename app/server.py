"""uvicorn, as ``commitments serve`` runs it: the server-side limits (README "Server limits").

uvicorn's own settings cover idle keep-alive connections (``timeout_keep_alive``), open
connections and in-flight requests (``limit_concurrency``: over it uvicorn answers 503 itself),
the listen ``backlog``, shutdown (``timeout_graceful_shutdown``), WebSocket messages
(``ws_max_size``) and, with h11 only, the size of the request head
(``h11_max_incomplete_event_size``). It has no deadline for the request head: its keep-alive timer
is armed only after a response and cancelled by any byte received, so a client that connects and
sends nothing, or a header a byte at a time, keeps its connection forever (both the h11 and the
httptools protocols). ``HeaderDeadline`` adds that deadline, and caps the head's size with
httptools too; the body has its own deadline in app/http_limits.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.logging_config import log_config
from app.settings import Settings, load_settings

log = logging.getLogger("app.server")


@functools.cache
def _limits() -> tuple[float, int]:
    settings = load_settings()  # read once per process (uvicorn's workers are new processes)
    return settings.header_timeout, settings.max_header_bytes


def _raw_error(status: str, code: str, message: str) -> bytes:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    head = (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class HeaderDeadline:
    """Mixin for uvicorn's HTTP/1.1 protocols: the request head must arrive within the header
    timeout, counted from the connection's start or the end of the previous response, and be at
    most max_header_bytes; otherwise the connection is closed."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_cycle = self.cycle  # a new cycle means the next request's head was read
        self._head_bytes = 0
        timeout, _ = _limits()
        self._head_timer = self.loop.call_later(timeout, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _upgraded(self) -> bool:
        return self.transport.get_protocol() is not self  # now a WebSocket

    def data_received(self, data: bytes) -> None:
        waiting = self._head_timer is not None
        super().data_received(data)  # type: ignore[misc]
        if not waiting:
            return
        if self.cycle is not self._head_cycle or self._upgraded():
            self._disarm()
            return
        self._head_bytes += len(data)
        if self._head_bytes > _limits()[1] and not self.transport.is_closing():
            self._disarm()
            log.info("closed a connection: request head over %d bytes", _limits()[1])
            self.transport.write(_raw_error("431 Request Header Fields Too Large",
                                            "HEADERS_TOO_LARGE", "The request head is too large."))
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # waiting for the next request on this keep-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _head_timeout(self) -> None:
        self._head_timer = None
        busy = self.cycle is not self._head_cycle and not self.cycle.response_complete
        if self._upgraded() or busy or self.transport.is_closing():
            return
        log.info("closed a connection: no complete request head within %g s", _limits()[0])
        self.transport.close()


class GuardedH11Protocol(HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the request-head deadline."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    GuardedHTTPProtocol: type[asyncio.Protocol] = GuardedH11Protocol
else:
    class GuardedHttpToolsProtocol(HeaderDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol (its default) with the request-head deadline."""

    GuardedHTTPProtocol = GuardedHttpToolsProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` for these settings (besides the app)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": GuardedHTTPProtocol,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.limit_concurrency,
        "backlog": settings.backlog,
        "timeout_graceful_shutdown": settings.graceful_shutdown,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "ws_max_size": settings.max_body_bytes,
        "workers": settings.workers,
        "log_config": log_config(settings.log_level, log_format=settings.log_format),
        "log_level": settings.log_level.lower(),
    }
