"""Per-request DataLoaders: every relation resolves in one query per level, whatever the rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from app.db import repo


class Loaders:
    """Loaders scoped to one organization, built per request in ``get_context``."""

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self._by_id: dict[type[Model], DataLoader[int, Any]] = {}
        self._children: dict[tuple[type[Model], str], DataLoader[int, list[Any]]] = {}

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
