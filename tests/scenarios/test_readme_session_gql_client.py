"""The README's "From draft to invoice" session, sent by a real GraphQL client (``gql`` over httpx)
to a real ``commitments serve`` on a free port, with the API key in the Authorization header: on
the embedded SQLite, and on a fresh PostgreSQL database when TEST_DATABASE_URL names one.

The server runs on the real clock, not the tests' frozen one: every period the session closes
(January, then February and March by 2 April 2026) must be due by today, and ``closeDuePeriods``
answers with the ``asOf`` it was given. The scheduled close is off so that only the session closes.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

from app.db.config import asyncpg_dsn
from tests.scenarios.readme_session import assert_the_promised_figures, run_session
from tests.security.live_server import LiveServer, create_org

SERVER_ENV = {"COMMITMENTS_CLOSE_SCHEDULE": "off", "COMMITMENTS_REQUEST_TIMEOUT_SECONDS": "60"}
HTTP_TIMEOUT = 90  # seconds, per request (closeDuePeriods waits for its run)


async def run_over_http(server: LiveServer, key: str) -> list[dict[str, Any]]:
    transport = HTTPXAsyncTransport(url=f"http://127.0.0.1:{server.port}/graphql",
                                    headers={"Authorization": f"Bearer {key}"}, timeout=HTTP_TIMEOUT)
    async with Client(transport=transport, execute_timeout=HTTP_TIMEOUT) as session:

        async def execute(block: str, variables: dict[str, Any]) -> dict[str, Any]:
            return await session.execute(GraphQLRequest(block, variable_values=variables))

        return await run_session(execute)


async def test_the_readme_session_over_http_with_gql_on_sqlite(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, SERVER_ENV).start()
    try:
        results = await run_over_http(server, server.api_key)
    finally:
        server.stop()
    assert_the_promised_figures(results)


async def test_the_readme_session_over_http_with_gql_on_postgres(tmp_path: Path, postgres_only: None) -> None:
    import asyncpg

    base = os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0]
    name = f"test_readme_gql_{uuid.uuid4().hex[:10]}"
    url = f"{base}/{name}"
    admin = await asyncpg.connect(asyncpg_dsn(f"{base}/postgres"), timeout=30)
    await admin.execute(f'CREATE DATABASE "{name}"')
    server = LiveServer(tmp_path, {**SERVER_ENV, "DATABASE_URL": url, "COMMITMENTS_MIGRATE_ON_START": "true"})
    try:
        server.start()
        results = await run_over_http(server, create_org(url, "Readme", "GBP"))
    finally:
        server.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert_the_promised_figures(results)
