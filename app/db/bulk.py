"""Bulk writes of model rows: COPY on PostgreSQL, ``executemany`` (what ``bulk_create`` runs) on
SQLite; and one UPDATE of a column over many rows (``update_column``).

asyncpg's binary COPY (``copy_records_to_table``) writes thousands of rows in one round trip, several
times faster than ``executemany``'s one bind/execute per row; SQLite runs in-process, where
``executemany`` is already the cheapest way. Values are converted by the model's own fields
(``to_db_value``, as ``bulk_create`` does: ``auto_now_add`` stamps, JSON, decimals), so both paths
store the same thing — except that on PostgreSQL a value already of its field's plain type (int,
str, bool, Decimal, date) goes to COPY as it is: asyncpg encodes those itself, and the checks
``to_db_value`` would run on them (string length, integer range) are the column's own, which
PostgreSQL enforces. That conversion was a fifth of a month-end close's CPU. Every row of one call
gets the same ``auto_now_add`` stamp. Like ``bulk_create``, nothing is read back: callers that
need ids look them up by a unique key. The COPY is logged on Tortoise's ``tortoise.db_client``
logger like a statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from tortoise import timezone
from tortoise.models import Model

from app.db import aggregates

M = TypeVar("M", bound=Model)


async def insert_rows(model: type[M], rows: Sequence[M | Mapping[str, Any]]) -> None:
    """Insert ``rows`` of ``model``: unsaved instances, or mappings of field name → value (cheaper
    than instances when there are thousands; a field left out takes its default, ``created_at``
    the time now), on the current connection (the transaction's, if any)."""
    if not rows:
        return
    db = aggregates.client()
    postgres = aggregates.dialect(db) == "postgres"
    executor = db.executor_class(model=model, db=db)
    names = executor.regular_columns  # every column but the generated id
    fields = model._meta.fields_map
    columns = [_Column(n, fields[n], postgres) for n in names]
    records = [_record(columns, row) for row in rows]
    if not postgres:
        await db.execute_many(executor.insert_query, records)  # what ``bulk_create`` runs
        return
    db_columns = [model._meta.fields_db_projection[n] for n in names]
    async with db.acquire_connection() as connection:
        db.log.debug("COPY %s (%s): %d rows", model._meta.db_table, ", ".join(db_columns), len(records))
        await connection.copy_records_to_table(model._meta.db_table, records=records, columns=db_columns)


_PLAIN = (int, str, bool, Decimal, date)  # asyncpg encodes these itself


class _Column:
    """How one column's value is taken from a row (instance or mapping) and converted."""

    __slots__ = ("name", "field", "plain", "stamped", "missing")

    def __init__(self, name: str, field: Any, postgres: bool) -> None:
        self.name, self.field = name, field
        kind = field.field_type
        # On PostgreSQL a value of exactly the field's plain type passes as it is (module docstring).
        self.plain = kind if postgres and kind in _PLAIN else None
        self.stamped = getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)
        self.missing: list[Any] = []  # the value of a field left out of a mapping, once asked for

    def default(self) -> Any:
        """The value of a field left out of a mapping (its default, or the stamp), once per call."""
        if not self.missing:
            field = self.field
            default = field.default() if callable(field.default) else field.default
            self.missing.append(field.to_db_value(timezone.localtime() if self.stamped else default, None))
        return self.missing[0]

    def convert(self, value: Any, instance: Any) -> Any:
        if type(value) is self.plain or (value is None and not self.stamped):
            return value
        return self.field.to_db_value(value, instance)  # an instance's stamp is set on it


def _record(columns: list[_Column], row: Any) -> list[Any]:
    """One row's values in column order. Whether the row is a mapping is asked once per row, not
    per value: the ``Mapping`` check is an ABC check, and it was a tenth of a close's COPY cost."""
    if isinstance(row, Mapping):
        return [c.convert(row[c.name], None) if c.name in row else c.default() for c in columns]
    return [c.convert(getattr(row, c.name), row) for c in columns]


async def update_column(model: type[M], column: str, values: Mapping[int, Any], sql_type: str) -> None:
    """Set ``column`` of each row id → value in ``values``, and ``updated_at`` to now where the model
    has it: one statement (PostgreSQL: joined to the values as arrays of ``sql_type``; SQLite: one
    prepared UPDATE run per row, in-process)."""
    if not values:
        return
    db = aggregates.client()
    table, field = model._meta.db_table, model._meta.fields_map[column]
    ids, new = list(values), [field.to_db_value(v, None) for v in values.values()]
    stamp = model._meta.fields_map.get("updated_at")  # the UPDATE bypasses auto_now: set it here
    now = stamp.to_db_value(timezone.now(), None) if stamp is not None else None
    if aggregates.dialect(db) == "postgres":
        touch, params = (", updated_at = $3", [ids, new, now]) if stamp is not None else ("", [ids, new])
        await db.execute_query(
            f"UPDATE {table} AS t SET {column} = v.value{touch} FROM unnest($1::int[], $2::{sql_type}[]) AS v(id, value)"
            " WHERE t.id = v.id", params)
        return
    if stamp is not None:
        await db.execute_many(f"UPDATE {table} SET {column} = ?, updated_at = ? WHERE id = ?",
                              [[v, now, i] for i, v in zip(ids, new)])
        return
    await db.execute_many(f"UPDATE {table} SET {column} = ? WHERE id = ?", [[v, i] for i, v in zip(ids, new)])
