"""schema.graphql is a checked artifact: equal to the exported schema, every type and field described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from app.api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_matches_code() -> None:
    exported = schema.as_str() + "\n"
    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql is stale: run `.venv/bin/python -m strawberry export-schema "
        "app.api.schema:schema --output schema.graphql`"
    )


def test_every_type_and_field_has_a_description() -> None:
    missing = []
    for name, gtype in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not gtype.description:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, d in gtype.fields.items() if not d.description]
        if isinstance(gtype, GraphQLObjectType):
            for fname, field in gtype.fields.items():
                missing += [f"{name}.{fname}({a})" for a, arg in field.args.items() if not arg.description]
        if isinstance(gtype, GraphQLEnumType) and name != "ErrorCode":
            pass
    assert missing == []
