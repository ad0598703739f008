"""The ASGI app: GraphQL over HTTP and WebSocket, GraphiQL with its own assets, health, lifespan."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException as ViewHTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from tortoise import connections

from app.api.context import Context, bearer_token, build_context
from app.api.graphiql import GRAPHIQL_ASSETS_PATH, OfflineGraphQL, graphiql_assets_app
from app.api.schema import build_schema, schema
from app.api.usage.bulk import BULK_USAGE_PATH, ingest_usage
from app.db.config import close_db, init_db
from app.db.migrate import pending_migrations
from app.db.outage import DatabaseUnavailable, is_database_unavailable
from app.http_limits import TransportGuard, json_error
from app.jobs.lifecycle import start_jobs
from app.observability.tracing import tracer_provider, tracing_configured
from app.observability.wiring import metrics_routes, observability_middleware
from app.settings import Settings, load_settings

log = logging.getLogger("app.main")

# extensions.code of the HTTP errors Strawberry's view raises (bodies it cannot use, and the like).
HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                    413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


class OperationOutage(DatabaseUnavailable):
    """An operation's errors came from a database outage: TransportGuard answers 503 and logs it."""


class CommitmentsGraphQL(OfflineGraphQL):
    """Strawberry's ASGI view with our context (API key → organization, per-request loaders)."""

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        conn: HTTPConnection = request
        return await build_context(conn, bearer_token(conn))

    async def execute_operation(self, request: Any, request_adapter: Any, request_data: Any,  # type: ignore[override]
                                context: Context, root_value: Any, sub_response: Any) -> Any:
        """Strawberry's execution; an operation with an error caused by a database outage (recorded
        on the context before masking) is answered 503 as a whole, like a failed API-key lookup."""
        result = await super().execute_operation(request=request, request_adapter=request_adapter,
                                                 request_data=request_data, context=context,
                                                 root_value=root_value, sub_response=sub_response)
        if context.outage is not None:
            raise OperationOutage("an operation failed: database unavailable") from context.outage
        if context.org_id is None and _unauthenticated(result):
            sub_response.status_code = 401  # as GitHub's and Shopify's GraphQL APIs answer; the body says why
            sub_response.headers["WWW-Authenticate"] = "Bearer"
        return result

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's view, with its HTTP errors as JSON GraphQL errors instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope, receive))
        except ViewHTTPException as exc:
            code = HTTP_ERROR_CODES.get(exc.status_code, "BAD_REQUEST")
            response = json_error(exc.status_code, code, exc.reason)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: several times faster than ``json`` on a 1,000-event ``recordUsage`` body."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> str | bytes:
        try:
            return orjson.dumps(data)
        except TypeError:  # e.g. an integer over 64 bits: the standard library writes anything JSON can
            return json.dumps(data, separators=(",", ":"))

    def parse_json(self, data: str | bytes) -> Any:
        """A JSON object (the body, or GET's variables), or a 400 that says what is wrong."""
        try:
            value = self.decode_json(data)
        except ValueError as exc:  # orjson.JSONDecodeError says which
            reason = str(exc)
            if "UTF-8" in reason:
                raise ViewHTTPException(400, "The request body is not valid UTF-8.") from exc
            if "depth" in reason or "recursion" in reason:
                raise ViewHTTPException(400, "The JSON is nested too deeply.") from exc
            raise ViewHTTPException(400, "Unable to parse request body as JSON.") from exc
        if not isinstance(value, dict):
            raise ViewHTTPException(400, "Expected a JSON object such as {\"query\": \"{ ... }\", "
                                         "\"variables\": {}} (batches are not supported).")
        return value


def _unauthenticated(result: Any) -> bool:
    """Whether an operation asked for data without a valid key (``{ __typename }`` alone does not)."""
    errors = getattr(result, "errors", None) or []
    return any((getattr(e, "extensions", None) or {}).get("code") == "UNAUTHENTICATED" for e in errors)


async def http_error(_: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (an unknown path, a wrong method on /health) as JSON too."""
    assert isinstance(exc, HTTPException)
    return json_error(exc.status_code, HTTP_ERROR_CODES.get(exc.status_code, "BAD_REQUEST"),
                      exc.detail, dict(exc.headers or {}))


async def health(_: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def ready(_: Request) -> JSONResponse:
    """200 when the database answers and every committed migration is applied (for an orchestrator's
    readiness probe: run ``commitments migrate`` first); 503 with what is missing otherwise."""
    try:
        pending = await pending_migrations()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "error", "database": exc.__class__.__name__}, status_code=503)
    if pending:
        return JSONResponse({"status": "error", "database": "ok", "pendingMigrations": pending}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "pendingMigrations": []})


async def _open_pool() -> None:
    """Open the connection pool now, outside any request: its background tasks would otherwise
    inherit (and log with) the id of the first request. A database that is down at start is only
    logged: requests answer 503 until it is back."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        log.warning("database unavailable at start (%s): answering 503 until it is back",
                    type(exc).__name__)


async def root(_: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(settings: Settings | None = None, *, graphiql_api_key: str | None = None,
               manage_db: bool = True) -> Starlette:
    """Build the app. ``manage_db`` opens and closes the database in the lifespan."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        jobs = None
        if manage_db:
            await init_db(settings.database_url)
            await _open_pool()
            jobs = await start_jobs(settings)  # README "Workers": in-process jobs and schedule
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            if manage_db:
                await close_db()

    # README "Tracing": off unless configured; then the schema has the tracing extension too
    provider = tracer_provider() if tracing_configured(settings.tracing) else None
    graphql = CommitmentsGraphQL(schema if provider is None else build_schema(provider),
                                 graphiql_api_key=graphiql_api_key)
    guard = Middleware(TransportGuard, max_body_bytes=settings.max_body_bytes,
                       body_timeout=settings.body_timeout, debug=settings.debug,
                       streamed={BULK_USAGE_PATH: settings.max_ingest_bytes})
    # CORS outermost: a browser's preflight OPTIONS is answered before the transport guard (which
    # allows only GET and POST). Starlette's own middleware: the allowed origins come from settings.
    cors = Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                      allow_headers=["Authorization", "Content-Type", "Content-Encoding"], max_age=600)
    routes = [
        Route("/", root),
        Route("/health", health),
        Route("/ready", ready),
        Route("/graphql", graphql),
        Route(BULK_USAGE_PATH, ingest_usage, methods=["POST"]),
        Mount(GRAPHIQL_ASSETS_PATH, graphiql_assets_app()),
        *metrics_routes(settings.metrics),  # README "Metrics": GET /metrics
    ]
    # Outermost, so that they see every request: the trace's HTTP span, the HTTP metrics
    observability = observability_middleware(routes, metrics=settings.metrics, tracer_provider=provider)
    return Starlette(
        debug=settings.debug,
        middleware=[*observability, cors, guard] if settings.cors_origins else [*observability, guard],
        exception_handlers={HTTPException: http_error},
        routes=routes,
        lifespan=lifespan,
    )


app = create_app()
