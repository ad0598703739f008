"""Relay connections over any tenant table, keyset-paginated by id (at most 100 a page)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from tortoise.models import Model

from app.db import repo

N = TypeVar("N")
MAX_PAGE = 100
DEFAULT_PAGE = 20


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True if more rows follow this page.")
    has_previous_page: bool = strawberry.field(description="True if rows precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; pass as `after`.")


@strawberry.type(description="One node of a connection with its cursor.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Opaque cursor of this edge.")
    node: N = strawberry.field(description="The object.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The page's edges, in id order.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    total_count: int = strawberry.field(description="Number of rows matching the filters, all pages.")

    @strawberry.field(description="The page's nodes (shortcut for edges { node }).")
    def nodes(self) -> list[N]:
        return [e.node for e in self.edges]


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{pk}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, pk = text.partition(":")
        if prefix != "cursor":
            raise ValueError(text)
        return int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphQLError("`after` is not a cursor of this API", extensions={"code": "INVALID_INPUT"}) from exc


async def paginate(model: type[Model], org_id: int, first: int | None, after: str | None,
                   filters: dict[str, Any], to_node: Callable[[Any], N]) -> Connection[N]:
    """One page of ``model`` rows of the tenant matching ``filters``, mapped by ``to_node``."""
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise GraphQLError(f"`first` must be between 0 and {MAX_PAGE}", extensions={"code": "INVALID_INPUT"})
    after_id = decode_cursor(after) if after else None
    rows = await repo.page(model, org_id, after_id=after_id, limit=size + 1, filters=filters)
    total = await repo.count(model, org_id, filters)
    page = rows[:size]
    edges = [Edge(cursor=encode_cursor(r.pk), node=to_node(r)) for r in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=after_id is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
