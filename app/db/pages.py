"""Keyset pages: a tenant's rows in id order (``keyset_page``, root lists), and batched pages of
children: one statement for the same page of many parents' child lists.

A page is the rows strictly between two exclusive id bounds (``lower`` < id < ``upper``, either
may be absent), read from the low end (ascending) or from the high end (``descending``), at most
``limit`` of them: forward and backward paging (Relay's ``first/after`` and ``last/before``) and
newest-first lists are all one of these (app/api/pagination.py maps the arguments to bounds).

A nested connection (``contracts { nodes { invoices(first: 10) { … } } }``) asks for the first N
children of every parent on the page. ``child_pages`` answers all parents in one statement with
``ROW_NUMBER() OVER (PARTITION BY <fk> ORDER BY id)`` (PostgreSQL, and SQLite from 3.25), so the
statement count of a nested query does not grow with the number of parents and no parent's whole
list is read. ``child_counts`` gives their ``totalCount`` in one ``GROUP BY``; ``running_sums`` the
running balance of ledger entries, exact on both backends (``decimal_sum`` on SQLite).

Identifiers come from the models' metadata and every value is an ``int`` formatted by us, so the
statements can be written as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.models import Model

from app.db.aggregates import client, dialect, ensure_sqlite_functions, exact
from app.db.models import LedgerEntry

M = TypeVar("M", bound=Model)


def _ints(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


async def keyset_page(model: type[M], org_id: int, filters: dict[str, Any], *, lower: int | None,
                      upper: int | None, descending: bool, limit: int) -> list[M]:
    """Up to ``limit`` rows of the tenant matching ``filters`` with ``lower`` < id < ``upper``, in id
    order from the low end, or from the high end if ``descending`` (then in descending id order)."""
    query = model.filter(organization_id=org_id, **filters)
    if lower is not None:
        query = query.filter(id__gt=lower)
    if upper is not None:
        query = query.filter(id__lt=upper)
    return await query.order_by("-id" if descending else "id").limit(limit)


async def child_pages(model: type[M], org_id: int, fk: str, parent_ids: Sequence[int], *, lower: int | None,
                      upper: int | None, descending: bool, limit: int) -> list[M]:
    """For every parent, up to ``limit`` of its ``model`` rows with ``lower`` < id < ``upper``, from
    the low end of its list, or from the high end if ``descending``; grouped by parent, each
    parent's rows in the order they were read (descending ids if ``descending``)."""
    if not parent_ids or limit <= 0:
        return []
    table = model._meta.db_table
    bounds = "".join([f' AND t."id" > {int(lower)}' if lower is not None else "",
                      f' AND t."id" < {int(upper)}' if upper is not None else ""])
    order = "DESC" if descending else "ASC"
    sql = (
        f'SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t."{fk}" ORDER BY t."id" {order}) AS "page_row" '
        f'FROM "{table}" t WHERE t."organization_id" = {int(org_id)} AND t."{fk}" IN ({_ints(parent_ids)}){bounds}'
        f') p WHERE p."page_row" <= {int(limit)} ORDER BY p."{fk}", p."page_row"'
    )
    return await model.raw(sql)


async def child_counts(model: type[Model], org_id: int, fk: str, parent_ids: Sequence[int]) -> dict[int, int]:
    """Parent id → how many ``model`` rows it has (parents without rows are absent)."""
    if not parent_ids:
        return {}
    rows = await (model.filter(organization_id=org_id, **{f"{fk}__in": list(parent_ids)})
                  .annotate(n=Count("id")).group_by(fk).values_list(fk, "n"))
    return {int(parent): int(n) for parent, n in rows}


async def running_sums(org_id: int, entry_ids: Sequence[int]) -> dict[int, Decimal]:
    """Entry id → the exact sum of its pool's entries up to and including it, in id order."""
    if not entry_ids:
        return {}
    db = client()
    await ensure_sqlite_functions(db)
    total = "decimal_sum" if dialect(db) == "sqlite" else "SUM"
    table = LedgerEntry._meta.db_table
    sql = (
        f'SELECT e."id" AS "id", (SELECT {total}(x."amount") FROM "{table}" x WHERE x."pool_id" = e."pool_id" '
        f'AND x."organization_id" = {int(org_id)} AND x."id" <= e."id") AS "running" '
        f'FROM "{table}" e WHERE e."organization_id" = {int(org_id)} AND e."id" IN ({_ints(entry_ids)})'
    )
    rows = await db.execute_query_dict(sql)
    return {int(r["id"]): exact(r["running"]) for r in rows}


async def timed_page(model: type[M], org_id: int, filters: dict[str, Any], time_field: str, *,
                     lower: tuple[Any, int] | None, upper: tuple[Any, int] | None, descending: bool,
                     limit: int) -> list[M]:
    """``keyset_page`` in (``time_field``, id) order: rows with ``lower`` < (time, id) < ``upper``
    (the keys of the rows the cursors name), from the low end, or from the high end if
    ``descending``. The bounds are written so that an index on (organization_id, time, id) is
    scanned from the first row of the range."""
    query = model.filter(organization_id=org_id, **filters)
    if lower is not None:
        at, pk = lower
        query = query.filter(Q(**{f"{time_field}__gt": at}) | Q(**{time_field: at, "id__gt": pk}),
                             **{f"{time_field}__gte": at})
    if upper is not None:
        at, pk = upper
        query = query.filter(Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": pk}),
                             **{f"{time_field}__lte": at})
    order = (f"-{time_field}", "-id") if descending else (time_field, "id")
    return await query.order_by(*order).limit(limit)
