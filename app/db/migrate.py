"""Apply the committed Tortoise migrations to a database."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.api import migrate

from app.db.config import set_decimal_precision, tortoise_config


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the folder of an embedded SQLite file if it does not exist."""
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(database_url: str) -> None:
    """Bring the schema up to date (idempotent), then close the connections it opened."""
    set_decimal_precision()
    ensure_sqlite_dir(database_url)
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
