"""The pieces every list filter shares: a global id naming one type, and a half-open range."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from app.api import ids


def filter_id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    """The primary key a filter's global id names; ``INVALID_ID`` for a malformed id or another type's."""
    if value is None:
        return None
    parsed = ids.parse(value)
    if parsed is None or parsed[0] != type_name:
        raise GraphQLError(f"{field} is not a {type_name} id", extensions={"code": "INVALID_ID", "field": field})
    return parsed[1]


def require_range(low: Any, high: Any, field: str) -> None:
    """``INVALID_INTERVAL`` (on ``field``, the upper bound) when both bounds are given and the
    half-open range ``[low, high)`` is empty or reversed."""
    if low is not None and high is not None and low >= high:
        raise GraphQLError(f"{field}: the range is empty or reversed (the lower bound must be before "
                           "the upper; ranges are half-open)",
                           extensions={"code": "INVALID_INTERVAL", "field": field})
