"""The ASGI app: GraphQL over HTTP and WebSocket, GraphiQL with its own assets, health, lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from tortoise import connections

from app.api.context import Context, bearer_token, build_context
from app.api.graphiql import GRAPHIQL_ASSETS_PATH, OfflineGraphQL, graphiql_assets_app
from app.api.schema import schema
from app.db.config import close_db, init_db
from app.settings import Settings, load_settings


class CommitmentsGraphQL(OfflineGraphQL):
    """Strawberry's ASGI view with our context (API key → organization, per-request loaders)."""

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        conn: HTTPConnection = request
        return await build_context(conn, bearer_token(conn))


async def health(_: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def root(_: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(settings: Settings | None = None, *, graphiql_api_key: str | None = None,
               manage_db: bool = True) -> Starlette:
    """Build the app. ``manage_db`` opens and closes the database in the lifespan."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db(settings.database_url)
        try:
            yield
        finally:
            if manage_db:
                await close_db()

    graphql = CommitmentsGraphQL(schema, graphiql_api_key=graphiql_api_key)
    return Starlette(
        debug=settings.debug,
        routes=[
            Route("/", root),
            Route("/health", health),
            Route("/graphql", graphql),
            Mount(GRAPHIQL_ASSETS_PATH, graphiql_assets_app()),
        ],
        lifespan=lifespan,
    )


app = create_app()
