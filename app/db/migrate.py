"""Apply the committed Tortoise migrations to a database.

On PostgreSQL the migrations run under a session advisory lock (``MIGRATE_LOCK``), so that any
number of ``commitments migrate`` / ``commitments serve`` processes started at once apply them one
after the other: the first applies them, the others wait, then find nothing left to do. (Three at
once on a fresh database crashed two of them on ``pg_type_typname_nsp_index`` without it.)
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from app.db.config import asyncpg_dsn, set_decimal_precision, tortoise_config

MIGRATE_LOCK = 0x636F6D6D69747331  # "commits1": the advisory lock key of migrations


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the folder of an embedded SQLite file if it does not exist."""
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(database_url: str) -> None:
    """Bring the schema up to date (idempotent), then close the connections it opened."""
    set_decimal_precision()
    ensure_sqlite_dir(database_url)
    if not database_url.startswith(("postgres", "asyncpg")):
        await _migrate(database_url)  # SQLite: one writer at a time already
        return
    lock = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK)
        await _migrate(database_url)
    finally:
        await lock.close()  # ends the session, and with it the lock


async def _migrate(database_url: str) -> None:
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


async def pending_migrations() -> list[str]:
    """The committed migrations the database has not applied (``/ready``), by name, in order."""
    from tortoise import connections

    committed = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))
    try:
        _, rows = await connections.get("default").execute_query(
            "SELECT name FROM tortoise_migrations WHERE app = 'models'")
    except Exception as exc:  # noqa: BLE001 - no migrations table: none applied (a database error re-raises)
        from app.db.outage import is_database_unavailable

        if is_database_unavailable(exc):
            raise
        return committed
    applied = {r["name"] for r in rows}
    return [name for name in committed if name not in applied]

