"""The committed migrations build a schema the models can use, on a fresh database of each kind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
from decimal import Decimal
from tortoise import Tortoise
from app.db.config import init_db, close_db
from app.db.migrate import apply_migrations
from app.services.organizations import create_organization, authenticate
from app.services.products import create_product, ProductSpec
from app.billing.terms import ProductKind

async def main(url):
    await apply_migrations(url)
    await apply_migrations(url)  # idempotent
    await init_db(url)
    org, key = await create_organization("Migrated", "GBP")
    assert await authenticate(key) == org.id
    await create_product(org.id, ProductSpec("p", "P", ProductKind.USAGE_CLASS, "MB"))
    conn = Tortoise.get_connection("default")
    if url.startswith("postgres"):  # 0007: the ingest's table checks its references itself
        _, rows = await conn.execute_query(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'usage_event'::regclass AND contype = 'f'")
        assert not rows, rows
        # 0008: a batch's key check probes the unique index, even before the table was ever analyzed
        await conn.execute_script(
            "INSERT INTO usage_event (organization_id, contract_id, usage_class_id, quantity, occurred_at, day,"
            " idempotency_key, created_at) SELECT 1, 1, 1, 1, now(), current_date, 'k' || n, now()"
            " FROM generate_series(1, 50000) AS n")
        from app.services.usage_store import _PG_KEYS
        keys = "ARRAY[" + ", ".join(f"'new{n}'" for n in range(1000)) + "]"
        _, plan = await conn.execute_query("EXPLAIN " + _PG_KEYS.replace("$1", "1").replace("$2", keys))
        plan = " ".join(str(dict(r)) for r in plan)
        assert "Nested Loop" in plan and "idempotency_key = k.k" in plan and "Filter" not in plan, plan
    else:
        _, rows = await conn.execute_query("SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_event'")
        assert not any('("organization_id")' in (r["sql"] or "") for r in rows), rows
    await close_db()
    print("ok")

asyncio.run(main(sys.argv[1]))
"""


def _run(url: str) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, url], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_migrations_apply_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    _run(f"sqlite://{tmp_path / 'fresh.sqlite3'}")


async def admin(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (creating and dropping test databases)."""
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_migrations_apply_on_a_fresh_postgres_database() -> None:
    if not is_postgres():
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    name = f"test_migrate_{uuid.uuid4().hex[:10]}"

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        _run(f"postgres://postgres@127.0.0.1:5432/{name}")
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}"'))


def test_models_and_migrations_agree() -> None:
    """makemigrations finds nothing to do: the committed migrations describe the models."""
    folder = ROOT / "app" / "db" / "migrations"
    before = set(folder.glob("*.py"))
    env = dict(os.environ, DATABASE_URL="sqlite://:memory:")
    result = subprocess.run(
        [sys.executable, "-m", "tortoise", "-c", "app.db.config.TORTOISE_ORM", "makemigrations"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    for created in set(folder.glob("*.py")) - before:
        created.unlink()  # leave the tree as it was; the assertion below reports the drift
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "No changes detected" in out, f"models changed without a migration: {out}"


def test_three_migrations_at_once_on_a_fresh_postgres_database() -> None:
    """Under the advisory lock they run one after the other; without it two of three crashed."""
    if not is_postgres():
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    name = f"test_migrate3_{uuid.uuid4().hex[:10]}"

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}")
        runs = [subprocess.Popen([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [run.communicate(timeout=180) for run in runs]
        for run, (out, err) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, err[-3000:]
            assert "migrated" in out
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
