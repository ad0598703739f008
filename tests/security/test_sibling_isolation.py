"""Issue 8, finding 3: one failing mutation never hides the others in the same document.

Every mutation resolver goes through app.api.mutation_guard: no exception leaves it, so a sibling is
never nulled; an unexpected failure is rolled back (that mutation only) and answered as an
INTERNAL_ERROR user error quoting the request id; expected failures are userErrors and INFO lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from tortoise import connections

from app.db.models import Account, IdempotencyRecord
from app.request_context import bind_request_id, reset_request_id
from app.services import accounts
from tests.api.helpers import gql_raw, new_org

ERRORS = "userErrors { code field message }"
REQUEST_ID = "req-sibling-0001"


@pytest.fixture
def request_id() -> Iterator[str]:
    token = bind_request_id(REQUEST_ID)
    try:
        yield REQUEST_ID
    finally:
        reset_request_id(token)


def _fail_on(name: str, monkeypatch: pytest.MonkeyPatch, *, after_writing: bool = False,
             broken_sql: bool = False) -> None:
    """Make create_account blow up (RuntimeError) for accounts called ``name``; others go through."""
    real = accounts.create_account

    async def flaky(org_id: int, spec: accounts.AccountSpec) -> Account:
        if spec.name != name:
            return await real(org_id, spec)
        if after_writing:
            await real(org_id, spec)  # the row is written; the mutation then fails
        if broken_sql:  # on PostgreSQL this aborts the transaction it runs in
            await connections.get("default").execute_query("SELECT no_such_column FROM account")
        raise RuntimeError("boom")

    monkeypatch.setattr(accounts, "create_account", flaky)


def _three(bad: str) -> str:
    return f"""mutation {{
      first: createAccount(input: {{name: "first"}}) {{ account {{ id name }} {ERRORS} }}
      bad: createAccount(input: {{name: "{bad}"}}) {{ account {{ id name }} {ERRORS} }}
      last: createAccount(input: {{name: "last"}}) {{ account {{ id name }} {ERRORS} }}
    }}"""


async def _names(org: int) -> set[str]:
    return set(await Account.filter(organization_id=org).values_list("name", flat=True))


async def test_an_unexpected_failure_leaves_its_siblings_and_quotes_the_request_id(
        db: str, request_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org()
    _fail_on("boom", monkeypatch)
    result = await gql_raw(org, _three("boom"))
    assert result.errors is None
    assert result.data is not None
    assert result.data["first"]["account"]["name"] == "first"
    assert result.data["last"]["account"]["name"] == "last"
    assert result.data["bad"]["account"] is None
    [error] = result.data["bad"]["userErrors"]
    assert error["code"] == "INTERNAL_ERROR"
    assert request_id in error["message"]
    assert "boom" not in error["message"]  # the exception itself stays in the log
    assert await _names(org) == {"first", "last"}


async def test_what_the_failing_mutation_wrote_is_rolled_back(db: str, request_id: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org()
    _fail_on("half-written", monkeypatch, after_writing=True)
    result = await gql_raw(org, _three("half-written"))
    assert result.errors is None
    assert result.data["bad"]["userErrors"][0]["code"] == "INTERNAL_ERROR"
    assert await _names(org) == {"first", "last"}  # nothing of "half-written" remains


async def test_a_database_error_inside_one_mutation_does_not_poison_the_next(
        db: str, request_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org()
    _fail_on("bad-sql", monkeypatch, after_writing=True, broken_sql=True)
    result = await gql_raw(org, _three("bad-sql"))
    assert result.errors is None
    assert result.data["bad"]["userErrors"][0]["code"] == "INTERNAL_ERROR"
    assert result.data["last"]["account"]["name"] == "last"
    assert await _names(org) == {"first", "last"}


async def test_a_nul_in_one_mutation_keeps_the_other(db: str) -> None:
    """The issue's example: `ok` was stored while the answer was `data: null`."""
    org = await new_org()
    result = await gql_raw(org, f"""mutation {{
      ok: createAccount(input: {{name: "fine"}}) {{ account {{ id }} {ERRORS} }}
      bad: createAccount(input: {{name: "x\\u0000y"}}) {{ account {{ id }} {ERRORS} }}
    }}""")
    assert result.errors is None
    assert result.data is not None
    assert result.data["ok"]["account"]["id"]
    assert result.data["bad"] is not None
    assert "fine" in await _names(org)
    if result.data["bad"]["userErrors"]:
        assert result.data["bad"]["userErrors"][0]["code"] in ("INVALID_INPUT", "INTERNAL_ERROR")
        assert await Account.filter(organization_id=org).count() == 1


async def test_a_keyed_mutation_that_fails_unexpectedly_keeps_no_record_so_a_retry_runs(
        db: str, request_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org()
    query = f"""mutation {{ createAccount(input: {{name: "flaky"}}, idempotencyKey: "k") {{
      account {{ name }} {ERRORS} }} }}"""
    with monkeypatch.context() as patched:
        _fail_on("flaky", patched, after_writing=True)
        failed = await gql_raw(org, query)
    assert failed.data["createAccount"]["userErrors"][0]["code"] == "INTERNAL_ERROR"
    assert await IdempotencyRecord.all().count() == 0
    retried = await gql_raw(org, query)
    assert retried.data["createAccount"]["account"]["name"] == "flaky"
    assert await _names(org) == {"flaky"}


async def test_unexpected_errors_log_once_at_error_and_expected_ones_at_info(
        db: str, request_id: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    org = await new_org()
    _fail_on("boom", monkeypatch)
    caplog.set_level(logging.INFO)
    secret = "secret-idempotency-key-77"
    await gql_raw(org, f"""mutation {{
      bad: createAccount(input: {{name: "boom"}}, idempotencyKey: "{secret}") {{ {ERRORS} }}
      refused: createAccount(input: {{name: ""}}) {{ {ERRORS} }}
    }}""")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert request_id in errors[0].getMessage() and errors[0].exc_info is not None
    refusals = [r for r in caplog.records if r.name == "app.api.mutation_guard" and r.levelno == logging.INFO]
    assert len(refusals) == 1 and refusals[0].exc_info is None
    assert "INVALID_INPUT" in refusals[0].getMessage()
    assert all(secret not in r.getMessage() for r in caplog.records)
