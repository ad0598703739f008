"""Tortoise configuration, connection start-up and shut-down."""

from __future__ import annotations

import decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from app.db.aggregates import ensure_sqlite_functions

MODELS_MODULES = ["app.db.models"]
MIGRATIONS_MODULE = "app.db.migrations"
DECIMAL_PRECISION = 38


def set_decimal_precision() -> None:
    """Tortoise quantizes NUMERIC(32, 12) on read; 28 digits (Python's default) is not enough."""
    decimal.getcontext().prec = DECIMAL_PRECISION
    decimal.DefaultContext.prec = DECIMAL_PRECISION


def connection_config(database_url: str) -> str | dict[str, Any]:
    """The connection entry for ``database_url``.

    On PostgreSQL every statement gets a custom plan: asyncpg prepares statements, and after five
    runs PostgreSQL may switch to a generic plan, which for the usage batch (a 1,000-key lookup and
    a 1,000-row insert) was measured 20 to 60 times slower (bench/: 822 against 17,228 events/s).
    """
    if not database_url.startswith(("postgres", "asyncpg")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["server_settings"] = {"plan_cache_mode": "force_custom_plan"}
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for one database URL, with the native migrations module."""
    return {
        "connections": {"default": connection_config(database_url)},
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


def asyncpg_dsn(database_url: str) -> str:
    """The asyncpg DSN of a Tortoise PostgreSQL URL (scheme ``postgresql``, Tortoise's options dropped)."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
