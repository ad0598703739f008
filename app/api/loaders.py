"""Per-request DataLoaders: every relation resolves in one query per level, whatever the rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from app.db import pages, repo

PageKey = tuple[type[Model], str, int | None, int | None, bool, int]


class Loaders:
    """Loaders scoped to one organization, built per request in ``get_context``."""

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self._by_id: dict[type[Model], DataLoader[int, Any]] = {}
        self._children: dict[tuple[type[Model], str], DataLoader[int, list[Any]]] = {}
        self._pages: dict[PageKey, DataLoader[int, list[Any]]] = {}
        self._counts: dict[tuple[type[Model], str], DataLoader[int, int]] = {}
        self._running: DataLoader[int, Decimal] | None = None

    def by_id(self, model: type[Model]) -> DataLoader[int, Any]:
        """Loads rows of ``model`` by primary key; another tenant's id loads as None."""
        if model not in self._by_id:

            async def load(ids: Sequence[int]) -> list[Any]:
                rows = {r.pk: r for r in await repo.by_ids(model, self.org_id, ids)}
                return [rows.get(i) for i in ids]

            self._by_id[model] = DataLoader(load_fn=load)
        return self._by_id[model]

    def children(self, model: type[Model], fk: str, order: str = "id") -> DataLoader[int, list[Any]]:
        """Loads the lists of ``model`` rows whose ``fk`` is each key, sorted by ``order``."""
        key = (model, fk)
        if key not in self._children:

            async def load(parent_ids: Sequence[int]) -> list[list[Any]]:
                grouped: dict[int, list[Any]] = defaultdict(list)
                for row in await repo.children(model, self.org_id, fk, parent_ids):
                    grouped[getattr(row, fk)].append(row)
                for rows in grouped.values():
                    rows.sort(key=lambda r: (getattr(r, order), r.pk))
                return [grouped.get(i, []) for i in parent_ids]

            self._children[key] = DataLoader(load_fn=load)
        return self._children[key]

    def page(self, model: type[Model], fk: str, lower: int | None, upper: int | None, descending: bool,
             limit: int) -> DataLoader[int, list[Any]]:
        """Loads, for each parent key, up to ``limit`` of its ``model`` rows with ``lower`` < id <
        ``upper`` (from the high end if ``descending``): the same page of every parent in one
        statement (a nested connection)."""
        key = (model, fk, lower, upper, descending, limit)
        if key not in self._pages:

            async def load(parent_ids: Sequence[int]) -> list[list[Any]]:
                grouped: dict[int, list[Any]] = defaultdict(list)
                rows = await pages.child_pages(model, self.org_id, fk, parent_ids, lower=lower, upper=upper,
                                               descending=descending, limit=limit)
                for row in rows:
                    grouped[getattr(row, fk)].append(row)
                return [grouped.get(i, []) for i in parent_ids]

            self._pages[key] = DataLoader(load_fn=load)
        return self._pages[key]

    def count(self, model: type[Model], fk: str) -> DataLoader[int, int]:
        """Loads how many ``model`` rows each parent key has (a nested connection's totalCount)."""
        key = (model, fk)
        if key not in self._counts:

            async def load(parent_ids: Sequence[int]) -> list[int]:
                counts = await pages.child_counts(model, self.org_id, fk, parent_ids)
                return [counts.get(i, 0) for i in parent_ids]

            self._counts[key] = DataLoader(load_fn=load)
        return self._counts[key]

    def running_sum(self) -> DataLoader[int, Decimal]:
        """Loads, by ledger entry id, the sum of its pool's entries up to and including it."""
        if self._running is None:

            async def load(entry_ids: Sequence[int]) -> list[Decimal]:
                sums = await pages.running_sums(self.org_id, entry_ids)
                return [sums[i] for i in entry_ids]

            self._running = DataLoader(load_fn=load)
        return self._running
