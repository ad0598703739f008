"""schema.graphql is a checked artifact: equal to the exported schema (its conventions and
descriptions: test_schema_lint.py)."""

from __future__ import annotations

from pathlib import Path

from app.api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_matches_code() -> None:
    exported = schema.as_str() + "\n"
    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql is stale: run `.venv/bin/python -m strawberry export-schema "
        "app.api.schema:schema --output schema.graphql`"
    )

