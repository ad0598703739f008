"""Finding 1: one request could pin a worker for minutes. Every operation now has a calculated cost
(Shopify's model), refused before execution over the limit, and reported on every response."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import (
    get_introspection_query,
    get_named_type,
    get_nullable_type,
    graphql_sync,
    is_leaf_type,
    is_list_type,
    is_object_type,
    parse,
)

from app.api.cost import LIST_SIZES, CostCalculator, is_connection, requested_cost
from app.api.schema import schema
from app.main import create_app
from app.services.organizations import create_organization
from tests.api.helpers import count_queries, gql, gql_raw, new_org

LIMIT = 50_000

# Finding 1's loop and alias queries, in the connection shape the schema has now.
LOOP = """{ contracts(first: 100) { nodes { account { contracts(first: 100) { nodes {
  invoices(first: 100) { nodes { lines(first: 100) { nodes { amount } } } } } } } } } }"""
ALIASED = "{ " + " ".join(
    f"a{i}: contracts(first: 100) {{ nodes {{ invoices(first: 100) {{ nodes {{ lines {{ nodes {{ amount }} }} }} }} }} }}"
    for i in range(25)) + " }"
# The loop query exactly as filed (plain lists then): it no longer fits the schema at all.
LOOP_AS_FILED = ("{ contracts(first:100){account{contracts{account{contracts{invoices(first:100)"
                 "{lines{amount}}}}}}}}")


def cost(query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> int | None:
    return requested_cost(schema._schema, parse(query), operation, variables or {})


async def refused_quickly(org: int, query: str) -> Any:
    with count_queries() as statements:
        result = await gql_raw(org, query)
    assert statements == []  # refused before execution (it used to run for minutes): not one SQL statement
    assert result.data is None
    return result


@pytest.mark.parametrize("query", [LOOP, ALIASED], ids=["loop", "25-aliases"])
async def test_the_findings_queries_are_refused_before_any_sql(db: str, query: str) -> None:
    org = await new_org()
    result = await refused_quickly(org, query)
    [error] = result.errors
    assert error.extensions["code"] == "QUERY_TOO_COSTLY"
    assert error.extensions["cost"] == {"requested": cost(query), "limit": LIMIT}
    assert error.extensions["cost"]["requested"] > LIMIT
    assert "Unexpected error" not in error.message
    assert result.extensions == {"cost": {"requested": cost(query), "limit": LIMIT}}


async def test_the_loop_query_as_filed_no_longer_fits_the_schema(db: str) -> None:
    result = await refused_quickly(await new_org(), LOOP_AS_FILED)
    assert {e.extensions["code"] for e in result.errors} == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(("query", "expected"), [
    ("{ organization { name } }", 1),
    ("{ __typename organization { id defaultCurrency } }", 1),
    ("{ contracts { nodes { id } } }", 1 + 20),  # no `first`: the default page of 20
    ("{ contracts(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage } totalCount } }", 1 + 5 + 1),
    ("{ contracts(first: 5) { nodes { id } edges { node { id } } } }", 1 + 5 + 5),
    ("{ contracts(first: 10) { nodes { invoices(first: 3) { nodes { number } } } } }", 1 + 10 * (1 + 1 + 3)),
    ("{ contracts(first: 10) { nodes { invoices(first: 5) { nodes { lines { nodes { amount } } } } } } }", 1121),
    ("{ contracts(first: 1000) { nodes { id } } }", 1 + 100),  # over 100 is refused by the field; counted as 100
    ("{ contracts(first: 0) { totalCount } }", 1),
    # lists with a documented maximum count at that maximum
    ("{ contracts(first: 1) { nodes { commitments(first: 1) { nodes { rampSteps { amount } } } } } }",
     1 + 1 * (1 + 1 + 1 * (1 + 100))),
    ("{ contracts(first: 1) { nodes { prices(first: 2) { nodes { tiers { upTo } } } } } }",
     1 + 1 * (1 + 1 + 2 * (1 + 20))),
    # aliases each count
    ("{ a: organization { name } b: organization { name } c: contracts(first: 2) { nodes { id } } }", 1 + 1 + 3),
    # fragments and inline fragments count as if written out
    ("""fragment I on Contract { invoices(first: 3) { nodes { number } } }
        { contracts(first: 10) { nodes { ...I } } two: contracts(first: 2) { nodes { ...I } } }""",
     (1 + 10 * 5) + (1 + 2 * 5)),
    ("{ contracts(first: 4) { nodes { ... on Contract { account { name } } } } }", 1 + 4 * 2),
    # on an interface, the most costly possible type counts
    ("""query($id: ID!) { node(id: $id) {
          ... on Contract { invoices(first: 4) { nodes { number } } }
          ... on Account { contracts(first: 10) { nodes { id } } } } }""", 1 + 1 + 10),
    ("{ nodes(ids: [\"a\", \"b\", \"c\"]) { id } }", 3),
    ("{ contracts(first: 10) { nodes { id account @skip(if: true) { name } } } }", 1 + 10),
    ("{ contracts(first: 10) { nodes { id account @include(if: true) { name } } } }", 1 + 10 * 2),
    # mutations: the payload's objects
    ("mutation { createAccount(input: {name: \"x\"}) { account { id } userErrors { code } } }", 1 + 1 + 10),
])
def test_cost_arithmetic(query: str, expected: int) -> None:
    assert cost(query) == expected


@pytest.mark.parametrize(("variables", "expected"), [
    ({"n": 7}, 1 + 7),
    ({}, 1 + 3),  # not sent: the variable's default
    ({"n": None}, 1 + 20),  # null: the field's default page
    ({"n": "seven"}, 1 + 100),  # refused by coercion anyway: counted at the most
])
def test_first_from_variables(variables: dict[str, Any], expected: int) -> None:
    assert cost("query($n: Int = 3) { contracts(first: $n) { nodes { id } } }", variables) == expected


def test_list_sizes_from_variables_and_operation_names() -> None:
    assert cost("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a"] * 7}) == 7
    doc = "query A { organization { id } } query B { contracts(first: 3) { nodes { id } } }"
    assert (cost(doc, operation="A"), cost(doc, operation="B"), cost(doc, operation="C")) == (1, 4, None)


def test_fragments_spread_many_times_are_counted_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2^24 spreads if expanded naively; each fragment is counted once per type: the selection sets
    # walked grow with the 25 fragments, not with the 2^24 spreads (counted, not timed).
    fragments = "\n".join(f"fragment F{i} on Contract {{ ...F{i + 1} ...F{i + 1} }}" for i in range(24))
    query = fragments + "\nfragment F24 on Contract { account { name } }\n{ contracts(first: 1) { nodes { ...F0 } } }"
    walked = 0
    fields = CostCalculator._fields

    def counting(self: CostCalculator, *args: Any) -> int:
        nonlocal walked
        walked += 1
        return fields(self, *args)

    monkeypatch.setattr(CostCalculator, "_fields", counting)
    assert cost(query) == 1 + 1 * (1 + 2**24)
    assert walked <= 2 * 25 + 5


def _objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


@pytest.mark.parametrize("query", [
    get_introspection_query(descriptions=True),  # GraphiQL's
    "{ __schema { types { fields { type { ofType { fields { args { name } type { ofType { name } } } } } } } } }",
    '{ __type(name: "Contract") { name fields { name args { name type { name ofType { name } } } } } }',
    '{ __type(name: "Nope") { name } }',
])
def test_introspection_is_counted_exactly(query: str) -> None:
    result = graphql_sync(schema._schema, query)
    assert result.errors is None
    assert cost(query) == _objects(result.data) - 1  # every object but the root
    assert cost(get_introspection_query(descriptions=True)) < LIMIT  # GraphiQL keeps working


def test_every_list_of_objects_is_a_connection_or_has_a_documented_maximum() -> None:
    unbounded = []
    for type_name, graphql_type in schema._schema.type_map.items():
        if type_name.startswith("__") or not is_object_type(graphql_type) or is_connection(graphql_type):
            continue
        for field_name, field in graphql_type.fields.items():
            named = get_named_type(field.type)
            if not is_list_type(get_nullable_type(field.type)) or is_leaf_type(named):
                continue
            if field_name != "userErrors" and (type_name, field_name) not in LIST_SIZES | {("Query", "nodes"): 0}:
                unbounded.append(f"{type_name}.{field_name}")
    assert unbounded == []


async def test_every_response_reports_its_cost(db: str) -> None:
    org = await new_org()
    ok = await gql_raw(org, "{ organization { name } contracts(first: 3) { nodes { id } } }")
    assert ok.errors is None and ok.extensions == {"cost": {"requested": 1 + 4, "limit": LIMIT}}
    invalid = await gql_raw(org, "{ organization { nope } }")
    assert invalid.extensions == {"cost": {"requested": None, "limit": LIMIT}}  # refused before it was known
    mutation = await gql_raw(org, 'mutation { createAccount(input: {name: "A"}) { account { id } } }')
    assert mutation.extensions == {"cost": {"requested": 2, "limit": LIMIT}}


async def test_the_cost_travels_over_http(db: str) -> None:
    _, key = await create_organization("Http", "GBP")
    app = create_app(manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        ok = await http.post("/graphql", json={"query": "{ organization { name } }"},
                             headers={"Authorization": f"Bearer {key}"})
        refused = await http.post("/graphql", json={"query": LOOP}, headers={"Authorization": f"Bearer {key}"})
    assert ok.json()["extensions"] == {"cost": {"requested": 1, "limit": LIMIT}}
    body = refused.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["extensions"]["cost"]["requested"] > LIMIT


async def test_a_query_within_the_limit_runs(db: str) -> None:
    org = await new_org()
    query = "{ contracts(first: 100) { nodes { invoices(first: 100) { nodes { lines(first: 2) { nodes { amount } } } } } } }"
    assert cost(query) <= LIMIT
    assert await gql(org, query) == {"contracts": {"nodes": []}}


async def test_repeated_queries_hit_the_validation_cache_and_still_get_their_own_cost(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    validate = strawberry_schema.validate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    org = await new_org()
    query = f"query($n: Int) {{ organization {{ name }} u{uuid.uuid4().hex}: contracts(first: $n) {{ nodes {{ id }} }} }}"
    costs = []
    for n in (1, 2, 3, 4, 5):
        result = await gql_raw(org, query, {"n": n})
        assert result.errors is None
        costs.append(result.extensions["cost"]["requested"])
    assert len(calls) == 1  # validated once, then served from Strawberry's ValidationCache
    assert costs == [3, 4, 5, 6, 7]  # the cost follows the variables, request by request
