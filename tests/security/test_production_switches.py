"""Production switches: introspection and "Did you mean …?" suggestions, on or off by a setting.

On by default in the embedded SQLite mode, off by default on PostgreSQL (production); either way a
setting decides. The real-process test (test_transport.py) checks the switches end to end.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from app.api.context import Context
from app.api.loaders import Loaders
from app.api.schema import Mutation, Query
from app.settings import load_settings
from app.services.organizations import create_organization

BAD_REQUESTS: list[tuple[str, dict[str, Any] | None]] = [
    ("{ organizaton { name } }", None),                                                    # field
    ("{ accounts(frist: 1) { totalCount } }", None),                                       # argument
    ('mutation { createAccount(input: {name: "a", drawdownOrder: BALANCE_FRST}) { account { id } } }', None),
    ("mutation($o: DrawdownOrder) { createAccount(input: {name: \"a\", drawdownOrder: $o}) "
     "{ account { id } } }", {"o": "BALANCE_FRST"}),                                        # enum variable
    ("mutation($i: AccountInput!) { createAccount(input: $i) { account { id } } }",
     {"i": {"name": "a", "externalld": "x"}}),                                              # input field
    ('mutation { createAccount(input: {name: "a", externalld: "x"}) { account { id } } }', None),
    ("query($x: Strin) { __typename }", None),                                             # type
]


@pytest.mark.parametrize(("embedded", "env", "expected"), [
    (True, {}, True),
    (False, {}, False),
    (True, {"COMMITMENTS_INTROSPECTION": "false", "COMMITMENTS_FIELD_SUGGESTIONS": "false"}, False),
    (False, {"COMMITMENTS_INTROSPECTION": "true", "COMMITMENTS_FIELD_SUGGESTIONS": "true"}, True),
])
def test_defaults_follow_the_mode_and_settings_decide(monkeypatch: pytest.MonkeyPatch, embedded: bool,
                                                      env: dict[str, str], expected: bool) -> None:
    from app.api.switches import production_switches

    monkeypatch.setenv("DATABASE_URL", "sqlite://data/x.sqlite3" if embedded else "postgres://u@h/db")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.introspection, settings.field_suggestions) == (expected, expected)
    assert len(production_switches(settings)) == (0 if expected else 2)


async def test_no_suggestion_survives_with_suggestions_off(db: str) -> None:
    from app.api.switches import HideSuggestions

    org, _ = await create_organization("Switches", "GBP")
    plain = strawberry.Schema(query=Query, mutation=Mutation)
    hidden = strawberry.Schema(query=Query, mutation=Mutation, extensions=[HideSuggestions])
    suggested = 0
    for query, variables in BAD_REQUESTS:
        context = Context(org_id=org.id, loaders=Loaders(org.id))
        before = await plain.execute(query, variable_values=variables, context_value=context)
        after = await hidden.execute(query, variable_values=variables, context_value=context)
        assert before.errors and after.errors, query
        suggested += any("Did you mean" in e.message for e in before.errors)
        assert not any("Did you mean" in e.message for e in after.errors), after.errors
        assert len(after.errors) == len(before.errors)
    assert suggested == len(BAD_REQUESTS)  # each case did carry a suggestion before


def test_the_rest_of_the_message_is_kept() -> None:
    from graphql import GraphQLError

    from app.api.switches import without_suggestion

    error = GraphQLError("Value 'X' does not exist in 'E' enum. Did you mean the enum value 'Y' or 'Z'?",
                         extensions={"code": "BAD_USER_INPUT"})
    stripped = without_suggestion(error)
    assert stripped.message == "Value 'X' does not exist in 'E' enum."
    assert stripped.extensions == {"code": "BAD_USER_INPUT"}
