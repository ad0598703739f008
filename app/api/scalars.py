"""How values read back from the database are presented: decimals exact, never in exponent
notation; instants (the ``DateTime`` scalar) in UTC, ISO 8601 with the offset."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import strawberry

from app.billing.money import minor_unit


def quantity(value: Decimal) -> Decimal:
    """Drop trailing zeros the database adds (NUMERIC(32, 12)) without exponent notation."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1))
    return normalized


def money(value: Decimal, currency: str) -> Decimal:
    """At least the currency's minor unit of decimals (10000 GBP → 10000.00), more if stored."""
    places = minor_unit(currency)
    normalized = quantity(value)
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < places:
        return normalized.quantize(Decimal(1).scaleb(-places))
    return normalized


def optional_quantity(value: Decimal | None) -> Decimal | None:
    return None if value is None else quantity(value)


def optional_money(value: Decimal | None, currency: str) -> Decimal | None:
    return None if value is None else money(value, currency)


def utc_text(value: datetime) -> str:
    """An instant as ISO 8601 in UTC with its offset, e.g. 2026-01-31T12:00:00.123456+00:00 (a
    naive value, which the database layer never gives, is taken as UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def utc_instant(text: str) -> datetime:
    """An ISO 8601 date-time argument as an aware UTC instant; without an offset it is UTC."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Replaces Strawberry's DateTime (``scalar_map`` in app/api/schema.py), which printed the value as
# it came: every instant the API returns goes through this one scalar.
UTC_DATETIME = strawberry.scalar(
    name="DateTime", serialize=utc_text, parse_value=utc_instant,
    description="An instant: ISO 8601 date-time, always returned in UTC with its offset "
                "(2026-01-31T12:00:00.123456+00:00); as an argument, one without an offset is UTC.",
)
