"""PgQueuer, the job engine on PostgreSQL: its tables (created by our migrations) and connections.

PgQueuer was chosen over Procrastinate because it runs on asyncpg, the driver the service already
uses (Procrastinate needs psycopg 3). Its tables live beside ours; migration 0006 creates them.
"""

from __future__ import annotations

from typing import Any

from pgqueuer import AsyncpgDriver, Queries
from pgqueuer.adapters.persistence.qb import QueryQueueBuilder


async def install_job_engine(client: Any) -> bool:
    """Create PgQueuer's tables through a Tortoise client, if they are not there (idempotent).

    Only on PostgreSQL: on SQLite there is no PgQueuer (jobs run in the server's process) and this
    returns False.
    """
    if client.capabilities.dialect != "postgres":
        return False
    async with client.acquire_connection() as con:
        queries = Queries(AsyncpgDriver(con))
        if not await queries.schema_is_installed():
            await queries.install()
    return True


QUEUE_DEPTH_CAP = 100_000  # jobs looked at per count: the count is at most this (README "Metrics")


async def queue_depth(client: Any, cap: int = QUEUE_DEPTH_CAP) -> dict[str, int]:
    """Jobs in PgQueuer's queue by status (``queued``, ``picked``, ``failed``...), counting at most
    ``cap`` rows: a bounded query, run at each metrics scrape."""
    table = QueryQueueBuilder().qualified.queue_table
    rows = await client.execute_query_dict(
        f"SELECT status::text AS status, count(*) AS jobs FROM (SELECT status FROM {table} LIMIT $1) AS q "
        "GROUP BY status", [cap])
    return {str(row["status"]): int(row["jobs"]) for row in rows}
