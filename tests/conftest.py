"""Test set-up: one database per session (SQLite in memory, or PostgreSQL via TEST_DATABASE_URL),
emptied before every test that asks for ``db``.

    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test_commitments_{} pytest

A ``{}`` in the URL becomes a random name; that database is created, then dropped at the end.

Every test runs with the service's clock stopped on ``TEST_TODAY`` (1 January 2100), so that the
literal 2026 dates of the tests are all in the past and their periods may be closed. A test about
close timing sets its own day with ``frozen_clock(date(...))`` (``app.clock``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.contrib.test import truncate_all_models

from app.clock import frozen_clock
from app.db.aggregates import ensure_sqlite_functions
from app.db.config import set_decimal_precision, tortoise_config

set_decimal_precision()

DEFAULT_URL = "sqlite://:memory:"
TEST_TODAY = date(2100, 1, 1)


def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)
    return url.replace("{}", uuid.uuid4().hex[:12]) if "{}" in url else url


def is_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_URL).startswith(("postgres", "asyncpg"))


@pytest_asyncio.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    url = database_url()
    await Tortoise.init(config=tortoise_config(url), _create_db=url.startswith(("postgres", "asyncpg")),
                        _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=False)
    await ensure_sqlite_functions()
    try:
        yield url
    finally:
        if is_postgres():
            await Tortoise._drop_databases()
        else:
            await Tortoise.close_connections()


@pytest_asyncio.fixture
async def db(database: str) -> AsyncIterator[str]:
    """An empty database for this test."""
    await truncate_all_models()
    yield database


@pytest.fixture(autouse=True)
def test_today() -> Iterator[date]:
    """The service's clock for every test: stopped on ``TEST_TODAY`` unless the test freezes another day."""
    with frozen_clock(TEST_TODAY):
        yield TEST_TODAY


@pytest.fixture
def postgres_only() -> None:
    if not is_postgres():
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
