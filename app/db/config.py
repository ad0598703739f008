"""Tortoise configuration, connection start-up and shut-down."""

from __future__ import annotations

import decimal
from typing import Any

from tortoise import Tortoise

from app.db.aggregates import ensure_sqlite_functions

MODELS_MODULES = ["app.db.models"]
MIGRATIONS_MODULE = "app.db.migrations"
DECIMAL_PRECISION = 38


def set_decimal_precision() -> None:
    """Tortoise quantizes NUMERIC(32, 12) on read; 28 digits (Python's default) is not enough."""
    decimal.getcontext().prec = DECIMAL_PRECISION
    decimal.DefaultContext.prec = DECIMAL_PRECISION


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for one database URL, with the native migrations module."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODELS_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(database_url: str) -> None:
    """Open the connections (migrations are applied separately by ``migrate``).

    The context is global: the ASGI lifespan runs in another task than the requests, and Tortoise
    1.x keeps its context in a context variable otherwise.
    """
    set_decimal_precision()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    await ensure_sqlite_functions()  # exact decimal_sum on SQLite (its SUM is floating point)


async def close_db() -> None:
    await Tortoise.close_connections()


def _env_config() -> dict[str, Any]:
    from app.settings import load_settings

    return tortoise_config(load_settings().database_url)


# For Tortoise's own CLI: ``tortoise -c app.db.config.TORTOISE_ORM makemigrations``.
TORTOISE_ORM = _env_config()
