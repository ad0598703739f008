"""How decimals read back from the database are presented: exact, never in exponent notation."""

from __future__ import annotations

from decimal import Decimal

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
