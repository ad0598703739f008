"""JSON logs (README "Request ids and logs"): one JSON object per line with the request id, and the
guarantees of the text format (tests/security/test_logging.py): no key, body or query string in any
line, a traceback inside its one line."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.logging_config import JsonLineFormatter
from app.main import create_app
from app.request_context import bind_request_id, reset_request_id
from app.services.organizations import create_organization
from app.settings import SettingsError, load_settings
from tests.security.live_server import LiveServer
from tests.log_capture import captured_logs
from tests.security.test_logging import SECRET

FIELDS = ["timestamp", "level", "logger", "message", "request_id"]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The service's logging configuration in the JSON format, at DEBUG, into a buffer; restored after."""
    with captured_logs("json") as buffer:
        yield buffer


def parse(lines: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in lines.splitlines()]
    assert all(isinstance(r, dict) for r in records)
    return records


def test_a_record_is_one_json_object_with_the_request_id_and_its_exception() -> None:
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "failed:\n%s", ("detail",), sys.exc_info())
    token = bind_request_id("req-7")
    try:
        line = JsonLineFormatter().format(record)
    finally:
        reset_request_id(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert list(entry)[:5] == FIELDS
    assert entry["level"] == "ERROR" and entry["logger"] == "app.x" and entry["request_id"] == "req-7"
    assert entry["message"] == "failed:\ndetail"
    assert entry["exception"].startswith("Traceback") and "ValueError: first line\nsecond line" in entry["exception"]
    stamp = datetime.fromisoformat(entry["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 3600


def test_extras_are_fields_and_uvicorns_colours_are_not() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started %s", ("x",), None)
    record.__dict__.update(color_message="\x1b[1mStarted\x1b[0m %s", batch=3)
    entry = json.loads(JsonLineFormatter().format(record))
    assert entry["request_id"] == "-" and entry["batch"] == 3 and "color_message" not in entry


async def test_every_json_line_has_the_request_id_and_no_key_token_or_body(db: str, json_lines: io.StringIO) -> None:
    _, key = await create_organization("Logged", "GBP")
    auth = {"Authorization": f"Bearer {key}"}
    app = create_app(manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        await http.post("/graphql", headers=auth,
                        json={"query": f'mutation {{ createAccount(input: {{name: "{SECRET}"}}) '
                                       "{ account { id } userErrors { code } } }"})
        await http.post("/graphql", headers={**auth, "X-Request-ID": "trace-json-1"},
                        json={"query": "query($f: Int) { accounts(first: $f) { totalCount } }",
                              "variables": {"f": SECRET}})
        await http.get("/graphql", headers=auth,
                       params={"query": "{ __typename }", "variables": f'{{"x": "{SECRET}"}}'})
        await http.post("/graphql", headers={"Authorization": f"Bearer {SECRET}"},
                        json={"query": "{ organization { name } }"})
    records = [r for r in parse(json_lines.getvalue()) if r["logger"] != "httpx"]  # the test client's own lines
    assert records
    assert all(list(r)[:5] == FIELDS for r in records)
    assert any(r["request_id"] == "trace-json-1" for r in records)
    assert all(r["request_id"] != "-" for r in records if r["logger"].startswith("app.graphql"))
    output = json.dumps(records)
    for secret in (key, key[4:], SECRET):
        assert secret not in output


def test_the_default_format_is_text_embedded_and_json_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMITMENTS_LOG_FORMAT", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://data/x.sqlite3")
    assert load_settings().log_format == "text"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/db")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("COMMITMENTS_LOG_FORMAT", " TEXT")
    assert load_settings().log_format == "text"
    monkeypatch.setenv("COMMITMENTS_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert refused.value.lines == ["COMMITMENTS_LOG_FORMAT: expected text or json, got 'xml'"]


def test_the_server_writes_json_lines(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, {"COMMITMENTS_LOG_FORMAT": "json"}).start()
    try:
        live.request("GET", f"/graphql?query=%7B__typename%7D&variables=%7B%22x%22%3A%22{SECRET}%22%7D",
                     headers={"Authorization": f"Bearer {live.api_key}", "X-Request-ID": "trace-json-2"})
        live.graphql({"query": "{ organizaton { name } }"}, key=live.api_key, headers={"X-Request-ID": "trace-json-3"})
    finally:
        live.stop()
    # log records (the start banner, which prints the embedded key on purpose, is not one)
    records = parse("\n".join(line for line in live.logs().splitlines() if line.startswith("{")))
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r["request_id"] == "trace-json-2" and '"GET /graphql HTTP/1.1" 200' in r["message"] for r in access)
    assert any(r["request_id"] == "trace-json-3" and r["logger"] == "app.graphql" for r in records)
    assert any(r["logger"] == "uvicorn.error" for r in records)  # uvicorn's own lines too
    assert all(list(r)[:5] == FIELDS for r in records)
    assert not any(SECRET in json.dumps(r) or live.api_key in json.dumps(r) for r in records)
