"""Issue 10, "Conventions drift": the schema lint, on the printed schema, parsed by graphql-core.

The rules kept (each one the schema passes honestly; README "Schema conventions"), with the
graphql-schema-linter rule each mirrors (`.ci/run` also runs that linter, configured in
`.graphql-schema-linterrc`, when npm is on PATH):

| rule here                              | graphql-schema-linter rule                     |
| -------------------------------------- | ---------------------------------------------- |
| test_every_type_is_described           | types-have-descriptions                        |
| test_every_field_is_described          | fields-have-descriptions                       |
| test_every_argument_is_described       | arguments-have-descriptions                    |
| test_every_enum_value_is_described     | enum-values-have-descriptions                  |
| test_every_input_field_is_described    | input-object-values-have-descriptions          |
| test_descriptions_are_capitalized      | descriptions-are-capitalized (all, not fields) |
| test_no_description_repeats_its_name   | none (ours)                                    |
| test_names_follow_the_graphql_casing   | types-are-capitalized, fields-are-camel-cased, |
|                                        | input-object-values-are-camel-cased,           |
|                                        | enum-values-all-caps (and arguments camelCase) |
| test_deprecations_have_a_reason        | deprecations-have-a-reason                     |
| test_every_defined_type_is_used        | defined-types-are-used                         |
| test_connections_follow_relay          | relay-connection-types-spec,                   |
|                                        | relay-page-info-spec,                          |
|                                        | relay-connection-arguments-spec                |
| test_each_mutation_has_its_own_payload | none (ours): `<MutationName>Payload`, one per  |
|                                        | mutation, with `userErrors: [UserError!]!`     |
| test_input_types_end_in_input          | none (ours)                                    |
| test_no_field_repeats_its_type_name    | none (ours): `Contract.status`, not            |
|                                        | `Contract.contractStatus`                      |

Not kept: the linter's *-sorted-alphabetically rules (fields are in reading order: id first, the
figures before the relations), which the schema does not follow and need not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
)

from app.api.schema import schema as app_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
UPPER = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(app_schema.as_str())


def _types(schema: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    return (t for name, t in schema.type_map.items() if not name.startswith("__") and name not in BUILT_IN)


def _fields(schema: GraphQLSchema) -> Iterator[tuple[str, str, GraphQLField]]:
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in t.fields.items():
                yield t.name, name, field


def _described(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """Every element that carries a description: (its coordinate, its description)."""
    for t in _types(schema):
        yield t.name, t.description
        if isinstance(t, GraphQLEnumType):
            yield from ((f"{t.name}.{n}", v.description) for n, v in t.values.items())
        if isinstance(t, GraphQLInputObjectType):
            yield from ((f"{t.name}.{n}", f.description) for n, f in t.fields.items())
    for parent, name, field in _fields(schema):
        yield f"{parent}.{name}", field.description
        yield from ((f"{parent}.{name}({a})", arg.description) for a, arg in field.args.items())


def _missing(pairs: Iterator[tuple[str, str | None]]) -> list[str]:
    return [where for where, description in pairs if not (description or "").strip()]


# --- descriptions ------------------------------------------------------------------------------------

def test_every_type_is_described(schema: GraphQLSchema) -> None:
    assert _missing((t.name, t.description) for t in _types(schema)) == []


def test_every_field_is_described(schema: GraphQLSchema) -> None:
    assert _missing((f"{p}.{n}", f.description) for p, n, f in _fields(schema)) == []


def test_every_argument_is_described(schema: GraphQLSchema) -> None:
    assert _missing((f"{p}.{n}({a})", arg.description) for p, n, f in _fields(schema)
                    for a, arg in f.args.items()) == []


def test_every_enum_value_is_described(schema: GraphQLSchema) -> None:
    assert _missing((f"{t.name}.{n}", v.description) for t in _types(schema) if isinstance(t, GraphQLEnumType)
                    for n, v in t.values.items()) == []


def test_every_input_field_is_described(schema: GraphQLSchema) -> None:
    assert _missing((f"{t.name}.{n}", f.description) for t in _types(schema)
                    if isinstance(t, GraphQLInputObjectType) for n, f in t.fields.items()) == []


def test_descriptions_are_capitalized(schema: GraphQLSchema) -> None:
    """As the linter reads it: the first character is not a lower-case letter ("1 for…" and
    "(extensions.code)…" pass)."""
    assert [where for where, d in _described(schema) if d and d[0] != d[0].upper()] == []


def test_no_description_repeats_its_name(schema: GraphQLSchema) -> None:
    """A description says more than the name: "Status." on a status field tells nothing."""
    def bare(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    def name_of(where: str) -> str:
        return where.rstrip(")").replace("(", ".").rsplit(".", 1)[-1]

    assert [w for w, d in _described(schema) if d and bare(d) in (bare(name_of(w)), "the" + bare(name_of(w)))] == []


# --- names -------------------------------------------------------------------------------------------

def test_names_follow_the_graphql_casing(schema: GraphQLSchema) -> None:
    wrong = [t.name for t in _types(schema) if not PASCAL.match(t.name)]
    for parent, name, field in _fields(schema):
        wrong += [f"{parent}.{name}"] if not CAMEL.match(name) else []
        wrong += [f"{parent}.{name}({a})" for a in field.args if not CAMEL.match(a)]
    for t in _types(schema):
        if isinstance(t, GraphQLInputObjectType):
            wrong += [f"{t.name}.{n}" for n in t.fields if not CAMEL.match(n)]
        if isinstance(t, GraphQLEnumType):
            wrong += [f"{t.name}.{n}" for n in t.values if not UPPER.match(n)]
    assert wrong == []


def test_no_field_repeats_its_type_name(schema: GraphQLSchema) -> None:
    def repeats(type_name: str, field: str) -> bool:
        return field.lower().startswith(type_name.lower()) and field.lower() != type_name.lower()

    wrong = [f"{p}.{n}" for p, n, _ in _fields(schema) if repeats(p, n)]
    wrong += [f"{t.name}.{n}" for t in _types(schema) if isinstance(t, GraphQLInputObjectType)
              for n in t.fields if repeats(t.name.removesuffix("Input"), n)]
    assert wrong == []


def test_input_types_end_in_input(schema: GraphQLSchema) -> None:
    inputs = {t.name for t in _types(schema) if isinstance(t, GraphQLInputObjectType)}
    named_input = {t.name for t in _types(schema) if t.name.endswith("Input")}
    assert [n for n in inputs if not n.endswith("Input")] == []
    assert named_input == inputs  # and nothing else is named like an input


def test_deprecations_have_a_reason(schema: GraphQLSchema) -> None:
    deprecated: list[tuple[str, str | None]] = []
    for parent, name, field in _fields(schema):
        if field.deprecation_reason is not None:
            deprecated.append((f"{parent}.{name}", field.deprecation_reason))
    for t in _types(schema):
        if isinstance(t, GraphQLEnumType):
            deprecated += [(f"{t.name}.{n}", v.deprecation_reason) for n, v in t.values.items()
                           if v.deprecation_reason is not None]
    assert [w for w, reason in deprecated if not reason.strip() or reason == "No longer supported"] == []


def test_every_defined_type_is_used(schema: GraphQLSchema) -> None:
    used: set[str] = set()
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            used |= {i.name for i in t.interfaces}
            for field in t.fields.values():
                used.add(get_named_type(field.type).name)
                used |= {get_named_type(a.type).name for a in field.args.values()}
        if isinstance(t, GraphQLInputObjectType):
            used |= {get_named_type(f.type).name for f in t.fields.values()}
        if isinstance(t, GraphQLUnionType):
            used |= {m.name for m in t.types}
    roots = {r.name for r in (schema.query_type, schema.mutation_type, schema.subscription_type) if r}
    assert [t.name for t in _types(schema) if t.name not in used | roots] == []


# --- Relay connections -------------------------------------------------------------------------------

def _is(type_: object, name: str, *, list_of: bool = False, non_null: bool = True) -> bool:
    if non_null:
        if not isinstance(type_, GraphQLNonNull):
            return False
        type_ = type_.of_type
    if list_of:
        if not isinstance(type_, GraphQLList):
            return False
        type_ = type_.of_type
    return get_named_type(type_).name == name  # type: ignore[arg-type]


def test_connections_follow_relay(schema: GraphQLSchema) -> None:
    wrong: list[str] = []
    page_info = schema.type_map.get("PageInfo")
    assert isinstance(page_info, GraphQLObjectType)
    f = page_info.fields
    for flag in ("hasNextPage", "hasPreviousPage"):
        wrong += [] if flag in f and _is(f[flag].type, "Boolean") else [f"PageInfo.{flag}"]
    for cursor in ("startCursor", "endCursor"):
        wrong += [] if cursor in f and _is(f[cursor].type, "String", non_null=False) else [f"PageInfo.{cursor}"]
    connections = [t for t in _types(schema) if t.name.endswith("Connection")]
    assert connections, "the schema pages with connections"
    for conn in connections:
        node = conn.name.removesuffix("Connection")
        if not isinstance(conn, GraphQLObjectType):
            wrong.append(conn.name)
            continue
        edges, page = conn.fields.get("edges"), conn.fields.get("pageInfo")
        wrong += [] if edges and _is(edges.type, f"{node}Edge", list_of=True) else [f"{conn.name}.edges"]
        wrong += [] if page and _is(page.type, "PageInfo") else [f"{conn.name}.pageInfo"]
        edge = schema.type_map.get(f"{node}Edge")
        if not isinstance(edge, GraphQLObjectType) or "node" not in edge.fields or "cursor" not in edge.fields \
                or not _is(edge.fields["cursor"].type, "String"):
            wrong.append(f"{node}Edge")
    for parent, name, field in _fields(schema):
        if get_named_type(field.type).name.endswith("Connection"):
            forward = {"first", "after"} <= set(field.args)
            backward = {"last", "before"} <= set(field.args)
            wrong += [] if forward or backward else [f"{parent}.{name}: first/after or last/before"]
    assert wrong == []


# --- mutations ---------------------------------------------------------------------------------------

def test_each_mutation_has_its_own_payload(schema: GraphQLSchema) -> None:
    """createContract answers CreateContractPayload!, which no other field answers, and which has
    userErrors: [UserError!]! (README "Errors")."""
    mutation = schema.mutation_type
    assert mutation is not None
    returned: dict[str, list[str]] = {}
    for parent, name, field in _fields(schema):
        returned.setdefault(get_named_type(field.type).name, []).append(f"{parent}.{name}")
    wrong = []
    for name, field in mutation.fields.items():
        expected = name[0].upper() + name[1:] + "Payload"
        payload = get_named_type(field.type)
        if not isinstance(field.type, GraphQLNonNull) or payload.name != expected:
            wrong.append(f"{name} answers {field.type}, not {expected}!")
            continue
        if returned[payload.name] != [f"Mutation.{name}"]:
            wrong.append(f"{payload.name} is answered by {returned[payload.name]}")
        errors = payload.fields.get("userErrors") if isinstance(payload, GraphQLObjectType) else None
        if errors is None or not _is(errors.type, "UserError", list_of=True) \
                or not isinstance(errors.type.of_type.of_type, GraphQLNonNull):  # type: ignore[attr-defined]
            wrong.append(f"{payload.name}.userErrors is not [UserError!]!")
    payloads = {t.name for t in _types(schema) if t.name.endswith("Payload")}
    assert wrong == []
    assert payloads == {n[0].upper() + n[1:] + "Payload" for n in mutation.fields}  # no stray payload type
