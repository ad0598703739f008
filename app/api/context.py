"""The per-request context: the caller's organization (from the API key) and its loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from strawberry.types import Info

from app.api.loaders import Loaders
from app.db.outage import DatabaseUnavailable, is_database_unavailable
from app.services.organizations import authenticate


@dataclass
class Context:
    """What every resolver may use. ``org_id`` is None when the request carries no valid key.

    ``outage`` is set (by app.api.error_log, which sees errors before they are masked) to the first
    error of the operation caused by a database outage: the HTTP view then answers 503 instead of
    the masked result (app/main.py)."""

    org_id: int | None
    loaders: Loaders
    request: HTTPConnection | None = None
    extra: dict[str, object] = field(default_factory=dict)
    outage: BaseException | None = None


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def build_context(conn: HTTPConnection | None, token: str | None) -> Context:
    """Raises DatabaseUnavailable when the key cannot be checked (the HTTP layer answers 503)."""
    try:
        org_id = await authenticate(token) if token else None
    except Exception as exc:
        if is_database_unavailable(exc):
            raise DatabaseUnavailable("cannot check the API key: database unavailable") from exc
        raise
    return Context(org_id=org_id, loaders=Loaders(org_id or 0), request=conn)


def org_of(info: Info) -> int:
    """The caller's organization id, or an UNAUTHENTICATED error for the whole field."""
    org_id: int | None = info.context.org_id
    if org_id is None:
        raise GraphQLError(
            "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
            extensions={"code": "UNAUTHENTICATED"},
        )
    return org_id
