"""Every foreign-key column leads an index, in the models and in a migrated database.

PostgreSQL does not index foreign-key columns by itself: without an index every close scanned
``credit_pool``, ``commitment``, ``ramp_step`` … in full, so a month-end grew quadratically with the
number of contracts (STACK-NOTES, "Measured at scale"). A new foreign key without an index fails
here. The migrated check also catches a migration that drops indexes: on SQLite, an ``AlterField``
rebuilds the table and loses every index it had (use ``AddIndex`` / ``Meta.indexes`` instead).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tortoise import Tortoise
from tortoise.models import Model

ROOT = Path(__file__).resolve().parents[2]

MIGRATE = """
import asyncio, sys
from app.db.migrate import apply_migrations
asyncio.run(apply_migrations(sys.argv[1]))
print("ok")
"""


def _column(model: type[Model], name: str) -> str:
    field = model._meta.fields_map[name]
    return getattr(field, "source_field", None) or field.model_field_name


def _leading_columns(model: type[Model]) -> set[str]:
    """The first column of every index the model declares (primary key and unique ones included)."""
    meta = model._meta
    leads = set()
    for name, field in meta.fields_map.items():
        if field.pk or getattr(field, "unique", False) or getattr(field, "index", False):
            if name in meta.fk_fields | meta.o2o_fields or name in meta.db_fields:
                leads.add(_column(model, name))
    for index in meta.indexes:
        first = index.fields[0] if hasattr(index, "fields") else index[0]
        leads.add(first if first in meta.db_fields else _column(model, first))
    for together in meta.unique_together:
        leads.add(_column(model, together[0]))
    return leads


def test_every_foreign_key_of_the_models_leads_an_index(db: str) -> None:
    missing = []
    for model in Tortoise.apps["models"].values():
        leads = _leading_columns(model)
        for name in sorted(model._meta.fk_fields | model._meta.o2o_fields):
            column = _column(model, name)
            if column not in leads:
                missing.append(f"{model._meta.db_table}.{column}")
    assert missing == [], f"foreign keys without an index: {missing}"


def test_every_foreign_key_of_a_migrated_sqlite_database_leads_an_index(tmp_path: Path) -> None:
    path = tmp_path / "migrated.sqlite3"
    done = subprocess.run([sys.executable, "-c", MIGRATE, f"sqlite://{path}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        missing = []
        for table in tables:
            leads = {"id"}
            for index in conn.execute(f'PRAGMA index_list("{table}")'):
                columns = list(conn.execute(f'PRAGMA index_info("{index[1]}")'))
                if columns:
                    leads.add(min(columns)[2])  # seqno 0: the leading column
            for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                if fk[3] not in leads:
                    missing.append(f"{table}.{fk[3]}")
    finally:
        conn.close()
    assert missing == [], f"foreign keys without an index after migrating: {missing}"
