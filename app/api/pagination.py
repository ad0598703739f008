"""Relay connections, keyset-paginated (at most 100 a page): over a tenant table (root lists), over
the children of many parents at once (nested lists, one statement per level), or over a list
computed in memory (billing periods, windows, the lines of an upcoming invoice).

A cursor is ``base64("cursor:<n>")`` where ``n`` is the id of the row (or the number of the computed
item) it follows; a cursor that is not one of ours, or whose ``n`` is negative or beyond 32 bits, is
refused with INVALID_INPUT before any statement runs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.models import Model

from app.db import repo

N = TypeVar("N")
T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_CURSOR_KEY = 2**31 - 1  # ids are 32-bit integers
_MAX_CURSOR_LENGTH = 64
_CURSOR_TEXT = re.compile(r"cursor:(0|[1-9][0-9]{0,9})")


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
    edges: list[Edge[N]] = strawberry.field(description="The page's edges, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items in the list (with its filters), all pages.")
    async def total_count(self) -> int:
        return await self.counter()

    @strawberry.field(description="The page's nodes (shortcut for edges { node }).")
    def nodes(self) -> list[N]:
        return [e.node for e in self.edges]


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode()


def _invalid(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "INVALID_INPUT", "field": "after"})


def decode_cursor(cursor: str) -> int:
    """The key a cursor of this API follows; INVALID_INPUT for anything else."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise _invalid("`after` is not a cursor of this API (too long)")
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid("`after` is not a cursor of this API") from None
    match = _CURSOR_TEXT.fullmatch(text)
    if match is None:
        raise _invalid("`after` is not a cursor of this API")
    key = int(match.group(1))
    if key > MAX_CURSOR_KEY:
        raise _invalid(f"`after` is a cursor beyond the largest id ({MAX_CURSOR_KEY})")
    return key


def page_size(first: int | None) -> int:
    """The page size asked for: ``first``, else the default; INVALID_INPUT outside 0..100."""
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise GraphQLError(f"`first` must be between 0 and {MAX_PAGE}",
                           extensions={"code": "INVALID_INPUT", "field": "first"})
    return size


def _page(items: Sequence[T], size: int, after: int | None, key: Callable[[T], int],
          to_node: Callable[[T], N], counter: Callable[[], Awaitable[int]]) -> Connection[N]:
    """A connection over ``items`` (the page, plus one more row if there is a next page)."""
    edges = [Edge(cursor=encode_cursor(key(item)), node=to_node(item)) for item in items[:size]]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(items) > size,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        counter=counter,
    )


def _pk(row: Any) -> int:
    return int(row.pk)


async def paginate(model: type[Model], org_id: int, first: int | None, after: str | None,
                   filters: dict[str, Any], to_node: Callable[[Any], N]) -> Connection[N]:
    """One page of ``model`` rows of the tenant matching ``filters``, mapped by ``to_node``."""
    size = page_size(first)
    after_id = decode_cursor(after) if after else None  # "" is no cursor, as before
    rows = await repo.page(model, org_id, after_id=after_id, limit=size + 1, filters=filters)
    return _page(rows, size, after_id, _pk, to_node, lambda: repo.count(model, org_id, filters))


async def child_connection(info: Info, model: type[Model], fk: str, parent_id: int, first: int | None,
                           after: str | None, to_node: Callable[[Any], N]) -> Connection[N]:
    """One page of the ``model`` rows whose ``fk`` is ``parent_id`` (id order), loaded with the same
    page of every other parent of the request in one statement; totalCount only when asked for."""
    size = page_size(first)
    after_id = decode_cursor(after) if after else None  # "" is no cursor, as before
    loaders = info.context.loaders
    rows = await loaders.page(model, fk, after_id, size + 1).load(parent_id)
    return _page(rows, size, after_id, _pk, to_node, lambda: loaders.count(model, fk).load(parent_id))


def list_connection(items: Sequence[T], first: int | None, after: str | None, key: Callable[[T], int],
                    to_node: Callable[[T], N]) -> Connection[N]:
    """One page of a list computed in memory, in order of ``key`` (e.g. a period's number)."""
    size = page_size(first)
    after_key = decode_cursor(after) if after else None
    rest = [item for item in items if after_key is None or key(item) > after_key]

    async def total() -> int:
        return len(items)

    return _page(rest[:size + 1], size, after_key, key, to_node, total)
