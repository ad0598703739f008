"""The fixed per-operation limits (depth, aliases, tokens) hold on every operation, with no SQL run.

They are set where Strawberry creates each execution context (app.api.schema.LimitedSchema), not by
per-request extension hooks; these checks pin that the move kept them: each limit refuses just
over it and accepts at it, and a refused operation runs no statement.
"""

from __future__ import annotations

from app.settings import load_settings
from tests.api.helpers import count_queries, gql_raw, new_org

SETTINGS = load_settings()


async def _refused(query: str) -> list[str]:
    org = await new_org()
    with count_queries() as statements:
        result = await gql_raw(org, query)
    assert statements == [], statements
    return [e.message for e in result.errors or ()]


async def test_an_operation_over_the_depth_limit_is_refused_before_any_sql(db: str) -> None:
    deep = "{ contracts(first: 1) { nodes { " + "account { contracts(first: 1) { nodes { " * 6 + "name" \
           + " } } }" * 6 + " } } }"
    messages = await _refused(deep)
    assert any("exceeds maximum operation depth" in m for m in messages), messages


async def test_an_operation_over_the_alias_limit_is_refused_before_any_sql(db: str) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(SETTINGS.max_aliases + 1))
    messages = await _refused("{ " + aliases + " }")
    assert any("aliases" in m.lower() for m in messages), messages
    at_limit = " ".join(f"a{i}: __typename" for i in range(SETTINGS.max_aliases))
    result = await gql_raw(await new_org("At limit"), "{ " + at_limit + " }")
    assert result.errors is None and len(result.data) == SETTINGS.max_aliases


async def test_an_operation_over_the_token_limit_is_refused_before_any_sql(db: str) -> None:
    many = "{ " + " ".join(["__typename"] * SETTINGS.max_tokens) + " }"
    messages = await _refused(many)
    assert any("token" in m.lower() for m in messages), messages
