"""A real ``commitments serve`` on the embedded SQLite default runs due-close jobs in its own
process: closeDuePeriods(wait: true) over HTTP completes with no other command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.security.live_server import LiveServer

CLOSE = "mutation { closeDuePeriods { closed alreadyClosed run { status chunks chunksDone } userErrors { code } } }"


def test_close_due_periods_over_http_runs_in_the_server_process_on_sqlite(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, {"COMMITMENTS_DEMO": "true", "COMMITMENTS_REQUEST_TIMEOUT_SECONDS": "120",
                                   "COMMITMENTS_CLOSE_SCHEDULE": "off"}).start()
    try:
        status, _, body = server.graphql({"query": CLOSE}, key=server.api_key)
        assert status == 200, body
        first = body["data"]["closeDuePeriods"]
        assert first["userErrors"] == [] and first["run"]["status"] == "DONE", (first, server.logs())
        assert first["run"]["chunks"] == first["run"]["chunksDone"]
        if date.today() >= date(2026, 5, 2):  # the demo closed up to March; April is due from 2 May
            assert first["closed"] > 0
        _, _, body = server.graphql({"query": CLOSE}, key=server.api_key)
        assert body["data"]["closeDuePeriods"]["closed"] == 0
        assert body["data"]["closeDuePeriods"]["run"] == {"status": "DONE", "chunks": 0, "chunksDone": 0}
    finally:
        server.stop()
