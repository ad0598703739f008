"""A bounded fuzz run: generated queries and mutations against a real server, with a real key.

hypothesis-graphql builds documents from the service's own schema: valid ones (``Mode.POSITIVE``)
and ones that break its rules (``Mode.NEGATIVE``), with text full of odd characters, NUL bytes
included. Each is sent over HTTP to ``commitments serve`` started on a temporary SQLite database
with its demo data. Whatever is sent, the service must answer without a 5xx, without a masked
"Unexpected error." and without a traceback in its log.

The run is bounded: ``COMMITMENTS_FUZZ_EXAMPLES`` documents per strategy (default 150, so about
600 requests in CI); set it higher for a longer run (the README gives the figure of the last one).
Traffic goes only to 127.0.0.1, to the process this test starts, which it stops at the end.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from app.api.schema import schema

EXAMPLES = int(os.environ.get("COMMITMENTS_FUZZ_EXAMPLES", "150"))
STARTUP_SECONDS = 60
REQUEST_SECONDS = 30
MASKED = "Unexpected error."

SCHEMA = str(schema)

# Values for the custom scalars: mostly well-formed, sometimes not, so both paths are exercised.
CUSTOM_SCALARS = {
    "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=12)).map(nodes.String),
    "Decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9).map(str),
        st.sampled_from(["ten", "1e400", "NaN", "-0", "0.0000000000001", "9" * 60, ""]),
    ).map(nodes.String),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``commitments serve`` on a temporary SQLite database with its demo organization."""
    data = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    log_path = data / "server.log"
    env = {**os.environ, "COMMITMENTS_DATA_DIR": str(data), "PORT": str(port), "HOST": "127.0.0.1",
           "COMMITMENTS_DEMO": "true"}
    env.pop("DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
        try:
            key = _wait_for_key(process, log_path, port)
            yield {"url": f"http://127.0.0.1:{port}/graphql", "key": key, "log": log_path}
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_for_key(process: subprocess.Popen[bytes], log_path: Path, port: int) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text(errors='replace')}")
        found = re.search(r"API key:\s+(\S+)", log_path.read_text(errors="replace"))
        if found:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return found.group(1)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start in {STARTUP_SECONDS} s: {log_path.read_text(errors='replace')}")


def _check(server: dict[str, Any], http: httpx.Client, document: str) -> None:
    response = http.post(server["url"], json={"query": document},
                         headers={"Authorization": f"Bearer {server['key']}"})
    assert response.status_code < 500, (document, response.status_code, response.text[:500])
    body = response.json()
    for error in body.get("errors") or []:
        assert error.get("message") != MASKED, (document, error)
    for payload in (body.get("data") or {}).values():
        for user_error in (payload or {}).get("userErrors", []) if isinstance(payload, dict) else []:
            assert user_error.get("code") != "INTERNAL_ERROR", (document, user_error)


FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("kind", "mode"), [
    ("query", Mode.POSITIVE), ("query", Mode.NEGATIVE), ("mutation", Mode.POSITIVE), ("mutation", Mode.NEGATIVE),
])
def test_generated_documents_never_break_the_server(server: dict[str, Any], kind: str, mode: Mode) -> None:
    strategy = (queries if kind == "query" else mutations)(SCHEMA, custom_scalars=CUSTOM_SCALARS, mode=mode)
    with httpx.Client(timeout=REQUEST_SECONDS) as http:

        @FUZZ_SETTINGS
        @given(document=strategy)
        def run(document: str) -> None:
            _check(server, http, document)

        run()
    log = server["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
