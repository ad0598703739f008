"""Every ```graphql block of the README parses and validates against the service's schema.

Decision: a block is documentation of operations, so it must be a complete executable document
(it may hold several operations). A block that is deliberately not one (a piece of SDL, an
illustration) uses another fence language in the README instead of being skipped here, so this
test never needs a list of exceptions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLError, parse, validate

from app.api.schema import schema

README = Path(__file__).resolve().parents[2] / "README.md"
OPENING = re.compile(r"^ {0,3}```\s*([^\s`]*)")
CLOSING = re.compile(r"^ {0,3}```\s*$")


def graphql_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the opening fence, body) of every ```graphql block, in order."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = OPENING.match(lines[i])
        if match is None:
            i += 1
            continue
        start, language = i, match.group(1)
        i += 1
        while i < len(lines) and not CLOSING.match(lines[i]):
            i += 1
        if language == "graphql":
            blocks.append((start + 1, "\n".join(lines[start + 1 : i])))
        i += 1  # past the closing fence
    return blocks


BLOCKS = graphql_blocks(README.read_text())


def test_readme_has_graphql_blocks() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("body", [body for _, body in BLOCKS], ids=[str(line) for line, _ in BLOCKS])
def test_readme_graphql_block_is_valid(body: str) -> None:
    try:
        document = parse(body)
    except GraphQLError as error:
        pytest.fail(f"does not parse: {error}")
    errors = validate(schema._schema, document)
    assert [str(e) for e in errors] == []
