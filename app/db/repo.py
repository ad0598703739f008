"""Generic tenant-scoped queries. Every read of a tenant's row goes through here or a loader."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)


async def get_owned(model: type[M], org_id: int, pk: int, *, for_update: bool = False) -> M | None:
    """The row ``pk`` of ``model`` if it belongs to organization ``org_id``; else None."""
    query = model.filter(id=pk, organization_id=org_id)
    if for_update:
        query = query.select_for_update()
    return await query.first()


async def children(model: type[M], org_id: int, fk: str, parent_ids: Iterable[int]) -> list[M]:
    """All rows of ``model`` whose ``fk`` is in ``parent_ids``, in the tenant, in id order."""
    ids = list(parent_ids)
    if not ids:
        return []
    return await model.filter(organization_id=org_id, **{f"{fk}__in": ids}).order_by("id")


async def by_ids(model: type[M], org_id: int, ids: Sequence[int]) -> list[M]:
    """Rows of ``model`` with these ids in the tenant (missing ones are simply absent)."""
    if not ids:
        return []
    if "organization_id" not in model._meta.fields_map:  # the Organization itself
        return await model.filter(id__in=[i for i in ids if i == org_id])
    return await model.filter(organization_id=org_id, id__in=list(ids))


async def count(model: type[M], org_id: int, filters: dict[str, Any]) -> int:
    return await model.filter(organization_id=org_id, **filters).count()
