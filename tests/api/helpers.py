"""Helpers for API tests: run GraphQL in-process as an organization, count SQL statements."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.api.context import Context
from app.api.loaders import Loaders
from app.api.schema import schema
from app.services.organizations import create_organization


async def gql(org_id: int | None, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute ``query`` as ``org_id``; fail the test on any GraphQL error."""
    result = await schema.execute(query, variable_values=variables,
                                  context_value=Context(org_id=org_id, loaders=Loaders(org_id or 0)))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def unpage(value: Any) -> Any:
    """``value`` with every connection selected as ``{ nodes { … } }`` replaced by its list of nodes."""
    if isinstance(value, dict):
        if set(value) == {"nodes"}:
            return [unpage(v) for v in value["nodes"]]
        return {k: unpage(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unpage(v) for v in value]
    return value


async def gql_raw(org_id: int | None, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Execute ``query`` and return the raw ExecutionResult (errors included)."""
    return await schema.execute(query, variable_values=variables,
                                context_value=Context(org_id=org_id, loaders=Loaders(org_id or 0)))


async def new_org(name: str = "Org", currency: str = "GBP") -> int:
    org, _ = await create_organization(name, currency)
    return org.id


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements Tortoise sends while the block runs."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
