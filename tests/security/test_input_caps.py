"""Issue 8, finding 6 (lists): every input list has a limit, checked before any per-item work.

A list over its limit is refused whole with ``INVALID_INPUT`` on its path and nothing is written; the
other mutations of the request are unaffected. A list variable is cut to limit + 1 items before
GraphQL coerces it, so a 100,000-event ``recordUsage`` is refused without converting 100,000 inputs,
and ``createBalance`` with 10,000 product ids without looking one up. Product references of a list
are checked with one query, whatever its length.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import pytest
import strawberry
from graphql import get_named_type, is_input_object_type, is_list_type, is_non_null_type

from app.api import ids
from app.api.schema import schema
from app.api.usage.types import UsageEventInput
from app.billing.terms import ProductKind
from app.services import balances, usage
from app.services.errors import InvalidInput
from tests.api.helpers import count_queries, gql, gql_raw
from tests.security.test_bad_input import MUTATIONS, PRODUCT, World, event, put, written
from tests.security.test_bad_input import world as world  # noqa: F401  (the fixture)

RAMP = {"fromWindow": 1, "amount": "1"}

# (schema position, mutation, path of the list in the variables, its limit, one item)
LISTS: list[tuple[str, str, str, int, Any]] = [
    ("CreateContractInput.prices", "createContract", "input.prices", 100,
     lambda w: {"usageClassId": w.gb, "model": "PER_UNIT"}),
    ("CreateContractInput.serviceLines", "createContract", "input.serviceLines", 100,
     lambda w: {"productId": w.sim, "quantity": "1"}),
    ("CreateContractInput.commitments", "createContract", "input.commitments", 20,
     lambda w: {"name": "c", "type": "SPEND", "frequency": "MONTHLY", "payment": "POSTPAID", "rampSteps": [RAMP]}),
    ("CommitmentInput.rampSteps", "createCommitment", "input.rampSteps", 100, lambda w: RAMP),
    ("CommitmentInput.feeDates", "createContract", "input.commitments.0.feeDates", 100,
     lambda w: {"date": "2026-03-01", "amount": "1"}),
    ("CommitmentInput.penalties", "createCommitment", "input.penalties", 10, lambda w: {"kind": "CHARGE"}),
    ("CommitmentInput.eligibleProductIds", "createCommitment", "input.eligibleProductIds", 100, lambda w: w.sim),
    ("CommitmentInput.eligibleChargeTypes", "createContract", "input.commitments.0.eligibleChargeTypes", 20,
     lambda w: "USAGE"),
    ("PenaltyInput.tiers", "createCommitment", "input.penalties.0.tiers", 20, lambda w: {"rate": "1"}),
    ("PriceInput.tiers", "createPrice", "input.tiers", 20, lambda w: {"unitAmount": "1"}),
    ("CreateBalanceInput.eligibleProductIds", "createBalance", "input.eligibleProductIds", 100, lambda w: w.gb),
    ("CreateBalanceInput.eligibleChargeTypes", "createBalance", "input.eligibleChargeTypes", 20, lambda w: "USAGE"),
    ("ProductInput.packageItems", "createProduct", "input.packageItems", 100, lambda w: {"serviceId": w.sim}),
    ("ContractChangesInput.setPrices", "amendContract", "changes.setPrices", 200,
     lambda w: {"usageClassId": w.gb, "model": "PER_UNIT"}),
    ("ContractChangesInput.removePrices", "amendContract", "changes.removePrices", 200, lambda w: w.gb),
    ("ContractChangesInput.addServiceLines", "amendContract", "changes.addServiceLines", 200,
     lambda w: {"productId": w.sim, "quantity": "1"}),
    ("ContractChangesInput.endServiceLines", "amendContract", "changes.endServiceLines", 200,
     lambda w: "U2VydmljZUxpbmU6OTk5"),
    ("ContractChangesInput.changeServiceLines", "amendContract", "changes.changeServiceLines", 200,
     lambda w: {"serviceLineId": "U2VydmljZUxpbmU6OTk5", "quantity": "2"}),
    ("ContractChangesInput.addCommitments", "amendContract", "changes.addCommitments", 200,
     lambda w: {"name": "c", "type": "SPEND", "frequency": "MONTHLY", "payment": "POSTPAID", "rampSteps": [RAMP]}),
    ("ContractChangesInput.endCommitments", "amendContract", "changes.endCommitments", 200,
     lambda w: "Q29tbWl0bWVudDo5OTk="),
    ("ContractChangesInput.rampChanges", "amendContract", "changes.rampChanges", 200,
     lambda w: {"commitmentId": "Q29tbWl0bWVudDo5OTk=", "rampSteps": [RAMP]}),
    ("RampChangeInput.rampSteps", "amendContract", "changes.rampChanges.0.rampSteps", 200, lambda w: RAMP),
    ("ContractChangesInput.feeDates", "amendContract", "changes.feeDates", 200,
     lambda w: {"commitmentId": "Q29tbWl0bWVudDo5OTk=", "feeDates": []}),
    ("FeeDatesChangeInput.feeDates", "amendContract", "changes.feeDates.0.feeDates", 200,
     lambda w: {"date": "2026-03-01", "amount": "1"}),
    ("Mutation.recordUsage.events", "recordUsage", "events", 1000,
     lambda w: event(w) | {"idempotencyKey": "same"}),
    ("Mutation.issueCreditNote.lines", "issueCreditNote", "lines", 100,
     lambda w: {"invoiceLineId": "SW52b2ljZUxpbmU6OTk5OTk=", "amount": "1"}),
]


async def answer(w: World, mutation: str, variables: dict[str, Any]) -> list[tuple[str, str]]:
    result = await gql_raw(w.org, MUTATIONS[mutation][0], variables)
    assert result.errors is None, result.errors
    return [(e["code"], e["field"]) for e in result.data[mutation]["userErrors"]]


@pytest.mark.parametrize("times", [1, 100], ids=["limit+1", "100x-limit"])
@pytest.mark.parametrize(("key", "mutation", "path", "limit", "item"), LISTS, ids=[c[0] for c in LISTS])
async def test_a_list_over_its_limit_is_refused_whole(world: World, key: str, mutation: str, path: str, limit: int,
                                                      item: Any, times: int) -> None:
    variables = MUTATIONS[mutation][1](world)
    if path == "input.penalties.0.tiers":
        variables = put(variables, "input.penalties", [{"kind": "TIERED", "tiers": []}])
    if path == "changes.rampChanges.0.rampSteps":
        variables = put(variables, "changes.rampChanges", [{"commitmentId": "Q29tbWl0bWVudDo5OTk=", "rampSteps": []}])
    if path == "changes.feeDates.0.feeDates":
        variables = put(variables, "changes.feeDates", [{"commitmentId": "Q29tbWl0bWVudDo5OTk=", "feeDates": []}])
    before = await written(world)
    too_many = put(variables, path, [item(world)] * (limit * times + 1))
    assert await answer(world, mutation, too_many) == [("INVALID_INPUT", path)]
    assert await written(world) == before


@pytest.mark.parametrize(("key", "mutation", "path", "limit", "item"), LISTS, ids=[c[0] for c in LISTS])
async def test_a_list_at_its_limit_is_not_refused_for_its_length(world: World, key: str, mutation: str, path: str,
                                                                 limit: int, item: Any) -> None:
    variables = MUTATIONS[mutation][1](world)
    if path == "input.penalties.0.tiers":
        variables = put(variables, "input.penalties", [{"kind": "TIERED", "tiers": []}])
    if path == "changes.rampChanges.0.rampSteps":
        variables = put(variables, "changes.rampChanges", [{"commitmentId": "Q29tbWl0bWVudDo5OTk=", "rampSteps": []}])
    if path == "changes.feeDates.0.feeDates":
        variables = put(variables, "changes.feeDates", [{"commitmentId": "Q29tbWl0bWVudDo5OTk=", "feeDates": []}])
    full = put(variables, path, [item(world)] * limit)
    assert ("INVALID_INPUT", path) not in await answer(world, mutation, full)


async def test_a_list_over_its_limit_written_inline_is_refused_too(world: World) -> None:
    ids_ = ", ".join(f'"{world.gb}"' for _ in range(101))
    out = await gql(world.org, f"""mutation {{ createBalance(input: {{accountId: "{world.account}", name: "Credit",
      currency: "GBP", amount: "1", startDate: "2026-01-01", endDate: "2027-01-01", eligibleProductIds: [{ids_}]}})
      {{ balance {{ id }} userErrors {{ code field }} }} }}""")
    assert out["createBalance"]["userErrors"] == [{"code": "INVALID_INPUT", "field": "input.eligibleProductIds"}]


async def test_more_than_100_ids_in_nodes_is_an_invalid_input_error(world: World) -> None:
    result = await gql_raw(world.org, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [world.gb] * 10_000})
    assert [e.extensions["code"] for e in result.errors] == ["INVALID_INPUT"]
    ok = await gql(world.org, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [world.gb] * 100})
    assert len(ok["nodes"]) == 100


async def test_an_over_long_list_does_not_hide_the_valid_mutations_beside_it(world: World) -> None:
    out = await gql(world.org, """mutation($events: [UsageEventInput!]!) {
      ok: createAccount(input: {name: "Kept"}) { account { id } userErrors { code } }
      ko: recordUsage(events: $events) { accepted userErrors { code field } } }""",
                    {"events": [event(world)] * 5000})
    assert out["ok"]["account"] is not None
    assert out["ko"] == {"accepted": 0, "userErrors": [{"code": "INVALID_INPUT", "field": "events"}]}


# --- the findings of issue 8 ------------------------------------------------------------------------

async def test_100000_events_are_refused_fast_without_converting_them(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    built, recorded = [0], [0]
    original_init = UsageEventInput.__init__

    def counting_init(self: UsageEventInput, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        original_init(self, *args, **kwargs)

    async def record(*_: Any) -> Any:
        recorded[0] += 1
        raise AssertionError("the service must not be reached")

    monkeypatch.setattr(UsageEventInput, "__init__", counting_init)
    monkeypatch.setattr(usage, "record_usage", record)
    events = [event(world) | {"idempotencyKey": f"k{i}"} for i in range(100_000)]
    with count_queries() as statements:
        out = await gql_raw(world.org, MUTATIONS["recordUsage"][0], {"events": events})
    assert out.errors is None
    assert out.data["recordUsage"]["userErrors"] == [{"code": "INVALID_INPUT", "field": "events"}]
    assert built[0] <= 1001 and recorded[0] == 0  # 100,000 before: 33 s of coercion
    assert not [s for s in statements if "usage_event" in s or "contract" in s]


async def test_create_balance_with_10000_product_ids_is_refused_by_the_cap_without_lookups(world: World) -> None:
    product_ids = [ids.encode("Product", pk) for pk in range(1, 10_001)]
    with count_queries() as statements:
        out = await gql(world.org, MUTATIONS["createBalance"][0],
                        put(MUTATIONS["createBalance"][1](world), "input.eligibleProductIds", product_ids))
    assert [(e["code"], e["field"]) for e in out["createBalance"]["userErrors"]] == [
        ("INVALID_INPUT", "input.eligibleProductIds")]
    assert not [s for s in statements if '"product"' in s]


async def test_the_balance_service_refuses_10000_product_ids_before_any_lookup(world: World) -> None:
    account = ids.parse(world.account)[1]  # type: ignore[index]
    spec = balances.BalanceSpec(account, "Credit", "GBP", Decimal(1), date(2026, 1, 1), date(2027, 1, 1),
                                eligible_product_ids=tuple(range(1, 10_001)))
    with count_queries() as statements, pytest.raises(InvalidInput) as refusal:
        await balances.create_balance(world.org, spec)
    assert [(e.code.value, e.field) for e in refusal.value.errors] == [("INVALID_INPUT", "input.eligibleProductIds")]
    assert not [s for s in statements if '"product"' in s]


async def product_statements(world: World, mutation: str, path: str, item: Any, n: int) -> int:
    products = [(await gql(world.org, PRODUCT, {"input": {"code": f"s{n}-{i}", "name": "S", "kind": "SERVICE",
                                                           "unit": "u"}}))["createProduct"]["product"]["id"]
                for i in range(n)]
    variables = put(MUTATIONS[mutation][1](world), path, [item(p) for p in products])
    if mutation == "createProduct":
        variables = put(variables, "input.code", f"package-{n}")
    with count_queries() as statements:
        assert await answer(world, mutation, variables) == []
    return len([s for s in statements if 'FROM "product"' in s])


@pytest.mark.parametrize(("mutation", "path", "item"), [
    ("createBalance", "input.eligibleProductIds", lambda p: p),
    ("createCommitment", "input.eligibleProductIds", lambda p: p),
    ("createProduct", "input.packageItems", lambda p: {"serviceId": p}),
])
async def test_product_references_of_a_list_are_one_query_whatever_its_length(world: World, mutation: str, path: str,
                                                                               item: Any) -> None:
    assert await product_statements(world, mutation, path, item, 2) == await product_statements(
        world, mutation, path, item, 60)


async def test_kind_problems_reports_each_reference_in_one_query(world: World) -> None:
    from app.services.products import kind_problems

    gb, sim = ids.parse(world.gb)[1], ids.parse(world.sim)[1]  # type: ignore[index]
    with count_queries() as statements:
        found = await kind_problems(world.org, [(gb, {ProductKind.SERVICE}, "a"), (sim, {ProductKind.SERVICE}, "b"),
                                                (999_999, set(ProductKind), "c")])
    assert [(e.code.value, e.field) for e in found] == [("WRONG_PRODUCT_KIND", "a"), ("NOT_FOUND", "c")]
    assert len(statements) == 1


# --- every list input has a limit, and the table above covers each ---------------------------------

def _list_positions() -> dict[str, int | None]:
    from app.api.input_limits import max_items

    found: dict[str, int | None] = {}

    def is_list(t: Any) -> bool:
        return is_list_type(t.of_type if is_non_null_type(t) else t)

    for t in schema._schema.type_map.values():
        if is_input_object_type(t) and not t.name.startswith("__"):
            found |= {f"{t.name}.{n}": max_items(f.extensions) for n, f in t.fields.items() if is_list(f.type)}
    for root in (schema._schema.query_type, schema._schema.mutation_type):
        for name, field in root.fields.items():
            found |= {f"{root.name}.{name}.{a}": max_items(arg.extensions)
                      for a, arg in field.args.items() if is_list(arg.type)}
    return found


def test_every_list_input_declares_its_limit_and_is_covered() -> None:
    positions = _list_positions()
    assert all(limit is not None for limit in positions.values()), positions
    assert {c[0] for c in LISTS} | {"Query.nodes.ids"} == set(positions)
    for key, _, _, limit, _ in LISTS:
        assert positions[key] == limit, key
        owner = schema._schema.type_map[key.split(".")[0]]
        description = (owner.fields[key.split(".")[1]].description if is_input_object_type(owner)
                       else owner.fields[key.split(".")[1]].args[key.split(".")[2]].description)
        assert f"At most {limit} items." in (description or ""), key
    assert get_named_type(schema._schema.query_type.fields["nodes"].args["ids"].type).name == "ID"


# --- cutting list variables before coercion, on a schema of its own ---------------------------------

def _small_schema() -> Any:
    from app.api.input_limits import limited

    global _Capped  # annotations are resolved in the module's namespace
    _Capped = Annotated[list[int], strawberry.argument(**limited("Capped.", max_items=3))]

    @strawberry.type
    class Query:
        @strawberry.field
        def capped(self, items: _Capped) -> int:  # type: ignore[valid-type]
            return len(items)

        @strawberry.field
        def free(self, items: list[int]) -> int:
            return len(items)

    return strawberry.Schema(query=Query)._schema


def _cut(query: str, variables: dict[str, Any], operation: str | None = None) -> dict[str, Any]:
    from graphql import parse

    from app.api.input_limits import shorten_variables

    return shorten_variables(_small_schema(), parse(query), operation, variables)


def test_a_list_variable_is_cut_to_its_limit_plus_one_and_the_callers_dict_is_kept() -> None:
    variables = {"v": list(range(10))}
    assert _cut("query($v: [Int!]!) { capped(items: $v) }", variables) == {"v": [0, 1, 2, 3]}
    assert variables == {"v": list(range(10))}


def test_a_list_within_its_limit_is_the_same_object() -> None:
    variables = {"v": [1, 2, 3]}
    assert _cut("query($v: [Int!]!) { capped(items: $v) }", variables) is variables


def test_a_variable_also_used_where_there_is_no_limit_is_not_cut() -> None:
    variables = {"v": list(range(10))}
    assert _cut("query($v: [Int!]!) { capped(items: $v) free(items: $v) }", variables) is variables


def test_only_the_executed_operation_counts() -> None:
    query = "query A($v: [Int!]!) { capped(items: $v) } query B($v: [Int!]!) { free(items: $v) }"
    assert _cut(query, {"v": list(range(10))}, "B") == {"v": list(range(10))}
    assert _cut(query, {"v": list(range(10))}, "A") == {"v": [0, 1, 2, 3]}


def test_limits_are_metadata_of_the_fields() -> None:
    from app.api.input_limits import MAX_ITEMS

    field = schema._schema.type_map["CreateBalanceInput"].fields["eligibleProductIds"]
    assert field.extensions["strawberry-definition"].metadata == {MAX_ITEMS: 100}
