"""Finding 1: a request that runs too long is stopped (TIMEOUT), frees the worker for the others,
and a mutation it stops leaves nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry

from app.api import ids
from app.api.context import Context
from app.api.loaders import Loaders
from app.api.schema import build_schema
from app.db import models
from app.services import accounts
from tests.api.helpers import count_queries, new_org

TIMEOUT = 2.0  # well above a fast request on a loaded 2-core CI machine; the stall is a minute
CREATE = """mutation($i: CreateContractInput!) { createContract(input: $i) {
  contract { id } userErrors { code field message } } }"""


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> Iterator[strawberry.Schema]:
    """The schema as the service builds it, with a short (TIMEOUT) execution timeout."""
    monkeypatch.setenv("COMMITMENTS_REQUEST_TIMEOUT_SECONDS", str(TIMEOUT))
    yield build_schema()


def stall(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Make the async function ``target`` (module.name) sleep for a minute before doing its work."""
    module_name, _, name = target.rpartition(".")
    module = __import__(module_name, fromlist=[name])
    original = getattr(module, name)

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(60)
        return await original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


async def run(schema: strawberry.Schema, org: int, query: str, variables: dict[str, Any] | None = None) -> Any:
    return await schema.execute(query, variable_values=variables, context_value=Context(org_id=org, loaders=Loaders(org)))


async def test_a_slow_query_times_out_while_other_requests_are_served(
        db: str, impatient: strawberry.Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org("Patient")
    stall(monkeypatch, "app.api.contracts.queries.paginate")
    slow = asyncio.create_task(run(impatient, org, "{ contracts { nodes { id } } }"))
    fast = await run(impatient, org, "{ organization { name } }")  # served while the slow one stalls
    assert fast.errors is None and fast.data == {"organization": {"name": "Patient"}}
    result = await slow  # stalled for a minute: only the timeout can have ended it
    assert result.data is None
    [error] = result.errors
    assert error.extensions["code"] == "TIMEOUT"
    assert "Unexpected" not in error.message
    assert result.extensions["cost"] == {"requested": 21, "limit": 50_000}
    again = await run(impatient, org, "{ organization { name } }")  # the connection is fine afterwards
    assert again.errors is None


async def test_a_timed_out_mutation_writes_nothing(
        db: str, impatient: strawberry.Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org("Rollback")
    account = await accounts.create_account(org, accounts.AccountSpec(name="Acme"))
    contract = {"accountId": ids.encode("Account", account.id), "name": "Half", "currency": "GBP",
                "startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}
    # The contract row is written, then the whole draft is re-read for validation: stall there, inside
    # the service's transaction, so the timeout cancels it half-way.
    stall(monkeypatch, "app.services.contracts.load_terms")
    with count_queries() as statements:
        result = await run(impatient, org, CREATE, {"i": contract})
    assert [e.extensions["code"] for e in result.errors] == ["TIMEOUT"]
    assert any('INSERT INTO "contract"' in s for s in statements)  # it had started writing
    assert await models.Contract.filter(organization_id=org).count() == 0
    monkeypatch.undo()
    done = await run(build_schema(), org, CREATE, {"i": contract})  # the database took no harm
    assert done.errors is None and done.data["createContract"]["userErrors"] == []
    assert await models.Contract.filter(organization_id=org).count() == 1


async def test_fast_requests_are_untouched_by_the_timeout(db: str, impatient: strawberry.Schema) -> None:
    org = await new_org("Quick")
    for _ in range(3):
        result = await run(impatient, org, "{ organization { name } contracts { totalCount } }")
        assert result.errors is None
