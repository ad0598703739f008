"""Consistent reads without locks: several SELECTs that see the database as of one moment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from app.db.aggregates import client


@asynccontextmanager
async def read_snapshot() -> AsyncIterator[None]:
    """Run the block's reads in one snapshot.

    On PostgreSQL: a ``REPEATABLE READ, READ ONLY`` transaction. It takes no lock and blocks no
    writer; every statement sees the same committed state, so a close committing meanwhile is seen
    whole or not at all. Inside a transaction already, or on SQLite (one connection the whole
    service shares), the block runs as it is.
    """
    db = client()
    if db.capabilities.dialect != "postgres" or isinstance(db, TransactionalDBClient):
        yield
        return
    async with in_transaction() as conn:
        await conn.execute_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
