"""The HTTP transport's guard rails, in one pure ASGI middleware (``TransportGuard``).

For every HTTP request, before any route runs:

- **Request id.** A sane incoming ``X-Request-ID`` (1-128 of ``A-Z a-z 0-9 . _ : + / = -``) is
  kept, anything else is replaced by a new one; it is bound with app.request_context for the
  request (log lines and errors read it) and returned in the ``X-Request-ID`` response header.
- **Request line.** On ``/graphql``: a method other than GET or POST is 405 (with ``Allow``), a POST
  that is not ``application/json`` is 415.
- **Body.** A declared ``Content-Length`` over the limit is 413 at once (nothing is read); a body
  without one is read chunk by chunk and refused with 413 as soon as it passes the limit; a body not
  received within the body timeout is 408. Both close the connection. The body (at most the
  limit) is then handed to the app as one message.
- **Streamed paths** (``streamed``: path → byte limit; ``POST /v1/usage``): the body is not read
  here but handed to the app as it arrives, through a receive that raises ``BodyRefused`` (413 past
  the path's own limit, 408 when the whole body has not arrived within the body timeout, which thus
  includes the time the app spends between reads). The app may answer it with what it has done so
  far; if it does not, the guard sends the refusal.
- **Failures.** A database outage that escapes (e.g. the API-key lookup) is 503 with
  ``Retry-After``; any other exception is a 500 logged once at ERROR with the request id.

Every refusal is a GraphQL-shaped JSON error: ``{"errors": [{"message", "extensions": {"code",
"requestId"}}]}``. The GraphQL view turns its own parse errors into the same shape (app/main.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from app.db.outage import outage_cause
from app.request_context import (
    bind_request_id,
    current_request_id,
    new_request_id,
    reset_request_id,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("app.http")

GRAPHQL_PATH = "/graphql"
GRAPHQL_METHODS = ("GET", "POST")
RETRY_AFTER_SECONDS = 5
REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:+/=\-]{1,128}")


def json_error(status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """A GraphQL-shaped JSON error response."""
    body = {"errors": [{"message": message,
                        "extensions": {"code": code, "requestId": current_request_id()}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def service_unavailable() -> JSONResponse:
    return json_error(503, "SERVICE_UNAVAILABLE", "The database is unavailable; retry later.",
                      {"Retry-After": str(RETRY_AFTER_SECONDS)})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-ID if it is sane, else None."""
    value = _header(scope, REQUEST_ID_HEADER)
    if value is None or not _SANE_REQUEST_ID.fullmatch(value):
        return None
    return value.decode("ascii")


class BodyRefused(Exception):
    """Raised by a streamed path's receive: the body is over its limit or late. ``response`` is the
    refusal (413 or 408); the connection is closed after it."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _late(timeout: float) -> JSONResponse:
    return json_error(408, "REQUEST_TIMEOUT", f"The request body was not received within {timeout:g} s.")


def streamed_receive(receive: Receive, max_body_bytes: int, timeout: float) -> Receive:
    """A receive for a streamed body: counts its bytes and keeps its deadline (``BodyRefused``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    size, done = 0, False

    async def limited() -> Message:
        nonlocal size, done
        if done:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise BodyRefused(_late(timeout)) from None
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > max_body_bytes:
                raise BodyRefused(_too_large(max_body_bytes))
            done = not message.get("more_body", False)
        return message

    return limited


def _refusal(scope: Scope, max_body_bytes: int) -> JSONResponse | None:
    """The answer to a request refused on its request line and headers alone, else None."""
    method = scope.get("method", "GET")
    if scope.get("path") == GRAPHQL_PATH:
        if method not in GRAPHQL_METHODS:
            return json_error(405, "METHOD_NOT_ALLOWED",
                              f"{method} is not supported on {GRAPHQL_PATH}: use GET or POST.",
                              {"Allow": ", ".join(GRAPHQL_METHODS)})
        content_type = (_header(scope, b"content-type") or b"").decode("latin-1").lower()
        if method == "POST" and "application/json" not in content_type.split(";")[0]:
            return json_error(415, "UNSUPPORTED_MEDIA_TYPE",
                              "Send the GraphQL request as a JSON object with "
                              "Content-Type: application/json.")
    declared = _header(scope, b"content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            return json_error(400, "BAD_REQUEST", "Content-Length is not a number.")
        if int(declared) > max_body_bytes:
            return _too_large(max_body_bytes)
    return None


def _too_large(max_body_bytes: int) -> JSONResponse:
    return json_error(413, "PAYLOAD_TOO_LARGE",
                      f"The request body is over the limit of {max_body_bytes} bytes.")


async def read_body(receive: Receive, max_body_bytes: int,
                    timeout: float) -> bytes | JSONResponse | None:
    """The whole body, or the refusal to send (413, 408), or None if the client went away."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_body_bytes:
                    return _too_large(max_body_bytes)
                if chunk:
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        return _late(timeout)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's later messages."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class TransportGuard:
    """Pure ASGI middleware: request id, request-line checks, body limits, outages and crashes."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout: float,
                 debug: bool = False, streamed: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.streamed = dict(streamed or {})
        self.body_timeout = body_timeout
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
        token = bind_request_id(request_id)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, self._with_request_id(send, request_id))
            else:
                await self._websocket(scope, receive, send)
        finally:
            reset_request_id(token)

    @staticmethod
    def _with_request_id(send: Send, request_id: str) -> Send:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        return send_with_id

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        streamed_limit = self.streamed.get(scope.get("path", ""))
        refusal = _refusal(scope, streamed_limit or self.max_body_bytes)
        if refusal is None and streamed_limit is not None:
            await self._run(scope, streamed_receive(receive, streamed_limit, self.body_timeout), send)
            return
        if refusal is None:
            body = await read_body(receive, self.max_body_bytes, self.body_timeout)
            if body is None:
                return
            if isinstance(body, bytes):
                await self._run(scope, _replay(body, receive), send)
                return
            refusal = body
        log.info("refused %s %s: %s", scope.get("method"), scope.get("path"), refusal.status_code)
        refusal.headers["Connection"] = "close"  # the unread rest of the body is not waited for
        await refusal(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            cause = outage_cause(exc)
            if isinstance(exc, BodyRefused):
                log.info("refused %s %s: %s", scope.get("method"), scope.get("path"), exc.response.status_code)
                response = exc.response
                response.headers["Connection"] = "close"
            elif cause is not None:
                log.warning("database unavailable (%s): answered 503", cause)
                response = service_unavailable()
            elif self.debug and not started:
                raise
            else:
                log.error("unexpected error, request %s", current_request_id(), exc_info=exc)
                response = json_error(500, "INTERNAL_ERROR", "Unexpected error.")
            if not started:
                await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            # 1013 "try again later" for an outage, 1011 "internal error" otherwise.
            cause = outage_cause(exc)
            outage = cause is not None
            if outage:
                log.warning("database unavailable (%s): websocket closed", cause)
            else:
                log.error("unexpected error, request %s", current_request_id(), exc_info=exc)
            try:
                await send({"type": "websocket.close", "code": 1013 if outage else 1011})
            except Exception:  # noqa: BLE001 - the socket is already gone
                pass
