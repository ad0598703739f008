"""Findings 5 and 6 (transport), against a real ``commitments serve`` process on a free port.

Bad bodies and methods get JSON GraphQL errors with a 4xx status and a code (never a plain-text
500); bodies are bounded in size and in time, request heads in time and size; idle connections are
closed; every answer carries an X-Request-ID; introspection and suggestions can be turned off; and a
database outage answers 503 SERVICE_UNAVAILABLE with Retry-After. Short limits are set for the test
server so that every wait stays within seconds.
"""

from __future__ import annotations

import json
import os
import select
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.live_server import LiveServer, parse_response, read_until_closed

MAX_BODY = 1_000_000
SHORT = 1  # seconds: header, keep-alive and body timeouts of the test server
LIMITS = {"COMMITMENTS_MAX_BODY_BYTES": str(MAX_BODY), "COMMITMENTS_HEADER_TIMEOUT": str(SHORT),
          "COMMITMENTS_KEEP_ALIVE_TIMEOUT": str(SHORT), "COMMITMENTS_BODY_TIMEOUT": str(SHORT)}
ORG_QUERY = {"query": "{ organization { name } }"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("transport"), LIMITS).start()
    try:
        yield live
    finally:
        live.stop()


def assert_json_error(status: int, headers: dict[str, str], body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert headers["content-type"].startswith("application/json")
    assert isinstance(body, dict), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, body
    assert error["message"]
    assert error["extensions"]["requestId"] == headers["x-request-id"]


def test_a_good_request_still_works(server: LiveServer) -> None:
    status, headers, body = server.graphql(ORG_QUERY, key=server.api_key)
    assert status == 200
    assert body["data"] == {"organization": {"name": "Demo Telecom"}}


BAD_BODIES = {
    "invalid UTF-8": b'{"query": "{ organization { name \xff\xfe } }"}',
    "a JSON string": b'"{ organization { name } }"',
    "a JSON number": b"42",
    "a JSON null": b"null",
    "a JSON array (no batches)": json.dumps([ORG_QUERY]).encode(),
    "an array nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "variables nested 100,000 deep": b'{"query": "{ __typename }", "variables": {"x": '
                                     + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    "not JSON": b"{query: organization}",
    "not UTF-8": b'{"query": "{ __typename \xff }"}',
    "an empty body": b"",
    "no query": b'{"variables": {}}',
    "a query that is not a string": b'{"query": 12}',
    "variables that are not an object": b'{"query": "{ __typename }", "variables": [1]}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_body_is_a_json_400(server: LiveServer, body: bytes) -> None:
    assert_json_error(*server.graphql(None, raw=body, key=server.api_key), 400, "BAD_REQUEST")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_an_unsupported_method_is_a_json_405_with_allow(server: LiveServer, method: str) -> None:
    status, headers, body = server.request(method, "/graphql", b"{}", {"Content-Type": "application/json"})
    assert status == 405
    assert headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert_json_error(status, headers, json.loads(body), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/graphql", ""])
def test_an_unsupported_content_type_is_a_json_415(server: LiveServer, content_type: str) -> None:
    response = server.graphql(None, raw=b'{"query": "{ __typename }"}', content_type=content_type)
    assert_json_error(*response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_declared_100_gb_body_is_refused_at_once(server: LiveServer) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 107374182400\r\n\r\n{")
        raw, _ = read_until_closed(sock, 5)
    # 413, not the 408 the body timeout (1 s) would give: refused without waiting for the body
    assert_json_error(*parse_response(raw), 413, "PAYLOAD_TOO_LARGE")


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(server: LiveServer) -> None:
    """Chunked, without Content-Length: the server answers 413 after about the limit, not at the end."""
    chunk = b"x" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    with server.connect() as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 300 * MAX_BODY and not select.select([sock], [], [], 0)[0]:
                sock.sendall(frame)
                sent += len(chunk)
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw, _ = read_until_closed(sock, 5)
    assert sent < 20 * MAX_BODY
    assert_json_error(*parse_response(raw), 413, "PAYLOAD_TOO_LARGE")


def test_a_body_that_stops_arriving_is_a_json_408(server: LiveServer) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"query\":")
        raw, _ = read_until_closed(sock, SHORT + 5)
    response = parse_response(raw)
    assert_json_error(*response, 408, "REQUEST_TIMEOUT")
    assert f"within {SHORT} s" in response[2]["errors"][0]["message"]  # the body timeout, not another one


@pytest.mark.parametrize("head", [b"", b"POST /graphql HTTP/1.1\r\nHost: t\r\n"], ids=["nothing", "half a head"])
def test_a_client_that_sends_no_complete_head_is_disconnected(server: LiveServer, head: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(head)
        raw, _ = read_until_closed(sock, SHORT + 3)  # closed by the header timeout, or this fails
    assert raw == b""


def test_a_head_sent_a_byte_at_a_time_does_not_keep_the_connection(server: LiveServer) -> None:
    head = b"POST /graphql HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 1000
    sent = 0
    with server.connect() as sock:
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.05)
                if select.select([sock], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        read_until_closed(sock, SHORT + 5)
    # cut off by the header timeout (1 s, about 20 bytes at this pace), long before the head ends
    assert sent < len(head) // 2


def test_an_oversized_request_head_is_refused(server: LiveServer) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 40_000)
        raw, _ = read_until_closed(sock, 5)
    status, _, body = parse_response(raw)
    assert status == 431
    assert body["errors"][0]["extensions"]["code"] == "HEADERS_TOO_LARGE"


def test_an_idle_keep_alive_connection_is_closed(server: LiveServer) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        raw, _ = read_until_closed(sock, SHORT + 3)  # closed by the keep-alive timeout, or this fails
    assert raw.startswith(b"HTTP/1.1 200")


def test_the_request_id_is_echoed_when_sane_and_made_otherwise(server: LiveServer) -> None:
    sane = "partner-7f3a:retry.2"
    _, echoed, _ = server.graphql(ORG_QUERY, key=server.api_key, headers={"X-Request-ID": sane})
    _, made, _ = server.graphql(ORG_QUERY, key=server.api_key, headers={"X-Request-ID": "a b<script>" * 20})
    _, fresh, _ = server.graphql(ORG_QUERY, key=server.api_key)
    assert echoed["x-request-id"] == sane
    for headers in (made, fresh):
        assert len(headers["x-request-id"]) == 32 and int(headers["x-request-id"], 16) >= 0
    assert made["x-request-id"] != fresh["x-request-id"]
    assert f"[{sane}]" in server.logs()  # the access line carries it


def test_an_unknown_path_is_a_json_404(server: LiveServer) -> None:
    status, headers, body = server.request("GET", "/nowhere")
    assert_json_error(status, headers, json.loads(body), 404, "NOT_FOUND")


INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}
TYPO = {"query": "{ organizaton { name } }"}


def test_introspection_and_suggestions_are_on_by_default_in_the_embedded_mode(server: LiveServer) -> None:
    _, _, introspected = server.graphql(INTROSPECTION, key=server.api_key)
    _, _, typo = server.graphql(TYPO, key=server.api_key)
    assert introspected["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert "Did you mean 'organization'?" in typo["errors"][0]["message"]


def test_introspection_and_suggestions_can_be_turned_off(tmp_path: Path) -> None:
    off = {"COMMITMENTS_INTROSPECTION": "false", "COMMITMENTS_FIELD_SUGGESTIONS": "false"}
    live = LiveServer(tmp_path, off).start()
    try:
        _, _, introspected = live.graphql(INTROSPECTION, key=live.api_key)
        _, _, typo = live.graphql(TYPO, key=live.api_key)
        _, _, typename = live.graphql({"query": "{ __typename }"}, key=live.api_key)
    finally:
        live.stop()
    assert introspected["data"] is None
    assert "introspection has been disabled" in introspected["errors"][0]["message"]
    assert typo["errors"][0]["message"] == "Cannot query field 'organizaton' on type 'Query'."
    assert typename["data"] == {"__typename": "Query"}


def test_the_server_log_has_one_line_per_record_and_no_key_or_body(server: LiveServer) -> None:
    secret = "b0dy-s3cr3t"
    server.request("GET", f"/graphql?query=%7B__typename%7D&variables=%7B%22x%22%3A%22{secret}%22%7D",
                   headers={"Authorization": f"Bearer {server.api_key}"})
    server.graphql({"query": f'{{ organization {{ name }} }} # {secret}', "variables": {"v": secret}},
                   key=server.api_key)
    server.graphql({"query": "query($f: Int) { accounts(first: $f) { totalCount } }", "variables": {"f": secret}},
                   key=server.api_key)
    # log records (the start banner, which prints the embedded key on purpose, is not one)
    records = [line for line in server.logs().splitlines() if line[:2] == "20"]
    assert any("GET /graphql HTTP/1.1" in line for line in records)  # access line, no query string
    assert not any(secret in line or server.api_key in line for line in records)
    assert all(" [" in line and "] " in line for line in records)


async def test_a_database_outage_answers_503_with_retry_after(tmp_path: Path, postgres_only: None) -> None:
    """PostgreSQL: the service's database disappears under it (connections terminated, database
    renamed away), then comes back."""
    import asyncpg

    base = os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0]
    name, away = f"test_outage_{uuid.uuid4().hex[:10]}", f"test_away_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{base}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    # text lines, as read below (JSON is the default on PostgreSQL: README "Request ids and logs")
    live = LiveServer(tmp_path, {**LIMITS, "DATABASE_URL": f"{base}/{name}", "COMMITMENTS_MIGRATE_ON_START": "true",
                                 "COMMITMENTS_LOG_FORMAT": "text"})
    try:
        live.start()
        key = await _create_key(f"{base}/{name}")
        assert live.graphql(ORG_QUERY, key=key)[0] == 200
        await _take_away(admin, name, away)
        status, headers, body = live.graphql(ORG_QUERY, key=key)
        health, _, health_body = live.request("GET", "/health")
        await admin.execute(f'ALTER DATABASE "{away}" RENAME TO "{name}"')
        back = live.graphql(ORG_QUERY, key=key)
    finally:
        live.stop()
        for db in (name, away):
            await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
    assert_json_error(status, headers, body, 503, "SERVICE_UNAVAILABLE")
    assert int(headers["retry-after"]) > 0
    assert health == 503 and json.loads(health_body)["status"] == "error"
    assert back[0] == 200 and back[2]["data"] == {"organization": {"name": "Outage"}}
    ours = [line for line in live.logs().splitlines() if " app." in line]
    assert any("WARNING app.http" in line and "database unavailable" in line for line in ours)
    assert not any("Traceback" in line or " ERROR " in line for line in ours)


async def _create_key(url: str) -> str:
    """An organization and its key, made by the CLI's own code in a separate process."""
    import asyncio
    import sys

    from tests.security.live_server import REPO

    env = {**os.environ, "DATABASE_URL": url}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.cli", "create-org", "Outage",
                                                cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode().rsplit(":", 1)[1].strip()


async def _take_away(admin: Any, name: str, away: str) -> None:
    """Terminate the service's connections and rename its database, so that it cannot reconnect."""
    for _ in range(50):
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{away}"')
            return
        except Exception:  # noqa: BLE001 - a connection came back in between: terminate again
            time.sleep(0.1)
    raise AssertionError("could not take the database away")
