"""``commitments ingest FILE`` against a real ``commitments serve`` (embedded SQLite, demo data)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.live_server import REPO, LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("ingest"), {"COMMITMENTS_DEMO": "true"}).start()
    try:
        yield server
    finally:
        server.stop()


def acme(live: LiveServer) -> str:
    status, _, body = live.graphql({"query": "{ accounts(first: 1) { nodes { id } } }"}, key=live.api_key)
    assert status == 200, body
    return str(body["data"]["accounts"]["nodes"][0]["id"])


def run_cli(live: LiveServer, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COMMITMENTS_API_KEY": live.api_key}
    return subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(path), "--url",
                           f"http://127.0.0.1:{live.port}", *extra], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_ingest_a_gzipped_ndjson_file_in_several_requests(live: LiveServer, tmp_path: Path) -> None:
    account = acme(live)
    lines = [json.dumps({"accountId": account, "usageClass": "data-gb", "quantity": "1.5",
                         "timestamp": "2026-06-10T00:00:00Z", "idempotencyKey": f"cli-{i}"}) for i in range(25)]
    lines[7] = json.dumps({"accountId": account, "usageClass": "data-gb", "quantity": "-1",
                           "timestamp": "2026-06-10T00:00:00Z", "idempotencyKey": "cli-bad"})
    lines[20] = "not json"
    path = tmp_path / "usage.ndjson.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    first = run_cli(live, path, "--batch", "10")  # three requests: line numbers are the file's
    assert first.returncode == 1, first.stderr
    assert "accepted 23, duplicate 0, rejected 2" in first.stdout
    assert "line 7: REJECTED INVALID_AMOUNT quantity" in first.stdout
    assert "line 20: REJECTED INVALID_INPUT" in first.stdout
    progress = first.stderr.splitlines()  # a pipe: plain lines, no bar (README "Command line")
    assert progress[-1].startswith("ingest usage.ndjson.gz: ") and progress[-1].endswith(" 25 events")
    assert "\r" not in first.stderr and "\x1b" not in first.stderr
    again = run_cli(live, path)
    assert "accepted 0, duplicate 23, rejected 2" in again.stdout


def test_ingest_csv_and_a_bad_key(live: LiveServer, tmp_path: Path) -> None:
    account = acme(live)
    path = tmp_path / "usage.csv"
    path.write_text("accountId,usageClass,quantity,timestamp,idempotencyKey\n"
                    + "".join(f"{account},data-gb,2,2026-07-01,csv-{i}\n" for i in range(5)))
    ok = run_cli(live, path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "accepted 5, duplicate 0, rejected 0" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(path), "--url",
                          f"http://127.0.0.1:{live.port}", "--key", "cmt_wrong"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "401 UNAUTHENTICATED" in bad.stdout


def test_a_service_that_cannot_be_reached_is_reported_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "usage.ndjson"
    path.write_text('{"quantity": "1"}\n')
    env = {**os.environ, "COMMITMENTS_API_KEY": "cmt_whatever"}
    done = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(path), "--url", f"http://127.0.0.1:{port}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "stopped: the request from line 0 failed: ConnectError" in done.stdout
    assert "Traceback" not in done.stderr
