"""Finding 7 (logs) and the failures around GraphQL, in-process over ASGI.

Expected errors are one INFO line without a traceback; an unexpected one is logged once at ERROR
with the request id; a database outage is a 503 with Retry-After, logged once at WARNING; no log
line holds an API key, a token or a piece of a request body; every line carries the request id.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.request_context import bind_request_id, reset_request_id
from app.services.organizations import create_organization
from tests.log_capture import captured_logs

SECRET = "s3cr3t-b0dy-marker"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The service's own logging configuration, at DEBUG, written to a buffer; restored afterwards."""
    with captured_logs() as buffer:
        yield buffer


def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(manage_db=False), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_no_key_token_or_body_in_any_log_line(db: str, log_lines: io.StringIO) -> None:
    _, key = await create_organization("Logged", "GBP")
    auth = {"Authorization": f"Bearer {key}"}
    async with client() as http:
        await http.post("/graphql", headers=auth, json={"query": f'mutation {{ createAccount(input: {{name: "{SECRET}"}}) '
                                                                 "{ account { id } userErrors { code } } }"})
        await http.post("/graphql", headers=auth, json={"query": "query($f: Int) { accounts(first: $f) { totalCount } }",
                                                        "variables": {"f": SECRET}})
        await http.post("/graphql", headers=auth, json={"query": f"{{ {SECRET.replace('-', '_')} }}"})
        await http.get("/graphql", headers=auth, params={"query": "{ __typename }", "variables": f'{{"x": "{SECRET}"}}'})
        await http.post("/graphql", headers={**auth, "Content-Type": "application/json"},
                        content=f'{{"query": "{SECRET}'.encode(), params={"token": SECRET})
        await http.post("/graphql", headers={"Authorization": f"Bearer {SECRET}"}, json={"query": "{ organization { name } }"})
    # the service's lines (httpx logs the test client's own requests, query strings included)
    output = "\n".join(line for line in log_lines.getvalue().splitlines() if " httpx " not in line)
    assert output  # something was logged
    for secret in (key, key[4:], SECRET, SECRET.replace("-", "_")):
        assert secret not in output
    for line in output.splitlines():
        assert line.split(" ", 4)[-1].startswith("[")  # ... LEVEL logger [request id] message


async def test_expected_errors_are_info_lines_without_traceback(db: str, caplog: pytest.LogCaptureFixture) -> None:
    _, key = await create_organization("Expected", "GBP")
    caplog.set_level(logging.DEBUG)
    async with client() as http:
        for body in ({"query": "{ organizaton { name } }"},                                     # validation
                     {"query": "query($f: Int) { accounts(first: $f) { totalCount } }",          # variable
                      "variables": {"f": "ten"}},
                     {"query": "{ accounts(first: 1000) { totalCount } }"},                      # our own code
                     {"query": "{ organization { name"}):                                        # syntax
            await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})
        await http.post("/graphql", json={"query": "{ organization { name } }"})                 # no key
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)
    graphql = [r.getMessage() for r in caplog.records if r.name == "app.graphql"]
    assert len(graphql) >= 5
    assert any("UNAUTHENTICATED" in line for line in graphql)


async def test_an_unexpected_error_is_logged_once_at_error_with_the_request_id(
        db: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api.tenancy import types

    def broken(row: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(types.Organization, "from_row", broken)
    _, key = await create_organization("Unexpected", "GBP")
    caplog.set_level(logging.DEBUG)
    async with client() as http:
        response = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                   headers={"Authorization": f"Bearer {key}", "X-Request-ID": "trace-42"})
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "trace-42" in errors[0].getMessage()
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is RuntimeError


async def test_an_outage_during_authentication_is_a_503_with_retry_after(
        db: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's side of an outage (the real-process test covers PostgreSQL)."""
    async def unavailable(_: str) -> int:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr("app.api.context.authenticate", unavailable)
    caplog.set_level(logging.DEBUG)
    async with client() as http:
        response = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                   headers={"Authorization": "Bearer cmt_any"})
    assert response.status_code == 503
    assert_outage_answer(response, caplog)


def assert_outage_answer(response: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A 503 outage answer: Retry-After, SERVICE_UNAVAILABLE with the request id, one WARNING line."""
    assert int(response.headers["retry-after"]) > 0
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert warnings[0].exc_info is None


async def test_an_outage_inside_a_resolver_is_a_503_with_retry_after(
        db: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is known without a query (the key cache), so the outage first shows in a resolver:
    the whole operation is still a 503, not a 200 with a masked "Unexpected error."."""
    from app.api.tenancy import types

    def unavailable(row: Any) -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    _, key = await create_organization("Outage in a resolver", "GBP")
    monkeypatch.setattr(types.Organization, "from_row", unavailable)
    caplog.set_level(logging.DEBUG)
    async with client() as http:
        response = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                   headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 503, response.text
    assert_outage_answer(response, caplog)


async def test_an_unexpected_exception_outside_graphql_is_a_json_500_logged_once(
        db: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(_: str) -> int:
        raise RuntimeError("a bug in authentication")

    monkeypatch.setattr("app.api.context.authenticate", broken)
    caplog.set_level(logging.DEBUG)
    async with client() as http:
        response = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                   headers={"Authorization": "Bearer cmt_any", "X-Request-ID": "trace-43"})
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "trace-43"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "trace-43" in errors[0].getMessage()


def test_a_record_is_one_line_with_the_request_id() -> None:
    from app.logging_config import OneLineFormatter

    formatter = OneLineFormatter("%(levelname)s [%(request_id)s] %(message)s")
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        import sys
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed:\n%s", ("detail",), sys.exc_info())
    token = bind_request_id("req-1")
    try:
        line = formatter.format(record)
    finally:
        reset_request_id(token)
    assert "\n" not in line
    assert line.startswith("ERROR [req-1] failed:\\ndetail\\nTraceback")


def test_the_access_line_has_no_query_string() -> None:
    from app.logging_config import AccessLineFilter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", f"/graphql?query={SECRET}&token={SECRET}", "1.1", 200), None)
    AccessLineFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:1 - "GET /graphql HTTP/1.1" 200'
