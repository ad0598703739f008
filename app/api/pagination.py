"""Relay connections, keyset-paginated (at most 100 a page): over a tenant table (root lists), over
the children of many parents at once (nested lists, one statement per level), or over a list
computed in memory (billing periods, windows, the lines of an upcoming invoice).

Every connection pages both ways (Relay): ``first`` rows after the cursor ``after``, or the ``last``
rows before the cursor ``before`` (neither: the first 20). ``after`` and ``before`` may be given
together (the rows between them); ``first`` and ``last`` together are refused. hasNextPage is true
when paging forward and more rows follow the page, or when ``before`` was given (its row follows);
hasPreviousPage when paging backward and more rows precede it, or when ``after`` was given.

A cursor is ``base64("cursor:<n>")`` where ``n`` is the id of the row (or the number of the computed
item) it names; a cursor that is not one of ours, or whose ``n`` is negative or beyond 32 bits, is
refused with INVALID_INPUT before any statement runs. ``Paging`` turns the four arguments into
exclusive key bounds and a reading direction, the one mechanism every connection uses.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.models import Model

from app.db import pages, repo

N = TypeVar("N")
T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_CURSOR_KEY = 2**31 - 1  # ids are 32-bit integers
_MAX_CURSOR_LENGTH = 64
_CURSOR_TEXT = re.compile(r"cursor:(0|[1-9][0-9]{0,9})")


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Paging forward (`first`): true if more rows follow this page. Paging backward (`last`): true if `before` was given (its row follows).")
    has_previous_page: bool = strawberry.field(description="Paging backward (`last`): true if more rows precede this page. Paging forward (`first`): true if `after` was given.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge; pass as `before` (with `last`) for the previous page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; pass as `after` for the next page.")


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


def _invalid(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "INVALID_INPUT", "field": field})


def decode_cursor(cursor: str, field: str = "after") -> int:
    """The key a cursor of this API names; INVALID_INPUT (on ``field``) for anything else."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise _invalid(f"`{field}` is not a cursor of this API (too long)", field)
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid(f"`{field}` is not a cursor of this API", field) from None
    match = _CURSOR_TEXT.fullmatch(text)
    if match is None:
        raise _invalid(f"`{field}` is not a cursor of this API", field)
    key = int(match.group(1))
    if key > MAX_CURSOR_KEY:
        raise _invalid(f"`{field}` is a cursor beyond the largest id ({MAX_CURSOR_KEY})", field)
    return key


def _size(value: int, field: str) -> int:
    if value < 0 or value > MAX_PAGE:
        raise _invalid(f"`{field}` must be between 0 and {MAX_PAGE}", field)
    return value


@dataclass(frozen=True)
class Paging:
    """What one page asks for: at most ``size`` items strictly after ``after`` and before ``before``
    (keys, in the list's order), taken from the start of that range, or from its end if ``from_end``
    (``last``)."""

    size: int
    after: int | None
    before: int | None
    from_end: bool

    @classmethod
    def of(cls, first: int | None, after: str | None, last: int | None = None,
           before: str | None = None) -> Paging:
        """The paging of a connection's arguments; INVALID_INPUT for a bad size or cursor, or for
        ``first`` and ``last`` together. An empty string is no cursor (as it always was)."""
        if first is not None and last is not None:
            raise _invalid("give `first` (forward) or `last` (backward), not both", "last")
        if last is not None:
            size, from_end = _size(last, "last"), True
        else:
            size, from_end = _size(DEFAULT_PAGE if first is None else first, "first"), False
        return cls(size=size, after=decode_cursor(after, "after") if after else None,
                   before=decode_cursor(before, "before") if before else None, from_end=from_end)

    def bounds(self, descending: bool = False) -> tuple[int | None, int | None, bool]:
        """(lower, upper, read descending) in ascending key space, for a list in ascending key order
        or, if ``descending``, in descending key order: the rows to read are lower < key < upper,
        read from the low end unless the third item says from the high end."""
        if descending:
            return self.before, self.after, not self.from_end
        return self.after, self.before, self.from_end

    def connection(self, rows: Sequence[T], key: Callable[[T], int], to_node: Callable[[T], N],
                   counter: Callable[[], Awaitable[int]]) -> Connection[N]:
        """The page of ``rows``: up to ``size + 1`` items as read, nearest the page's start first
        (from its end when ``from_end``); one more than ``size`` means the list goes on past it."""
        more = len(rows) > self.size
        taken = list(rows[:self.size])
        if self.from_end:
            taken.reverse()
        edges = [Edge(cursor=encode_cursor(key(item)), node=to_node(item)) for item in taken]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=(more and not self.from_end) or self.before is not None,
                has_previous_page=(more and self.from_end) or self.after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            counter=counter,
        )


def _pk(row: Any) -> int:
    return int(row.pk)


async def paginate(model: type[Model], org_id: int, paging: Paging, filters: dict[str, Any],
                   to_node: Callable[[Any], N], *, descending: bool = False) -> Connection[N]:
    """One page of ``model`` rows of the tenant matching ``filters`` in id order (newest first if
    ``descending``), mapped by ``to_node``."""
    lower, upper, read_descending = paging.bounds(descending)
    rows = await pages.keyset_page(model, org_id, filters, lower=lower, upper=upper,
                                   descending=read_descending, limit=paging.size + 1)
    return paging.connection(rows, _pk, to_node, lambda: repo.count(model, org_id, filters))


async def child_connection(info: Info, model: type[Model], fk: str, parent_id: int, paging: Paging,
                           to_node: Callable[[Any], N]) -> Connection[N]:
    """One page of the ``model`` rows whose ``fk`` is ``parent_id`` (id order), loaded with the same
    page of every other parent of the request in one statement; totalCount only when asked for."""
    lower, upper, read_descending = paging.bounds()
    loaders = info.context.loaders
    rows = await loaders.page(model, fk, lower, upper, read_descending, paging.size + 1).load(parent_id)
    return paging.connection(rows, _pk, to_node, lambda: loaders.count(model, fk).load(parent_id))


def list_connection(items: Sequence[T], paging: Paging, key: Callable[[T], int],
                    to_node: Callable[[T], N]) -> Connection[N]:
    """One page of a list computed in memory, in ascending order of ``key`` (e.g. a period's number)."""
    lower, upper, read_descending = paging.bounds()
    inside = [item for item in items
              if (lower is None or key(item) > lower) and (upper is None or key(item) < upper)]
    if read_descending:
        inside.reverse()

    async def total() -> int:
        return len(items)

    return paging.connection(inside[:paging.size + 1], key, to_node, total)
