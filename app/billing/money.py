"""Currencies and rounding: the one place that knows minor units and rounds money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from iso4217 import Currency

from app.billing.errors import BillingError, BillingErrorCode

ZERO = Decimal(0)


@lru_cache(maxsize=None)
def minor_unit(currency: str) -> int:
    """Digits after the decimal point of an ISO 4217 currency (GBP 2, JPY 0, KWD 3).

    Raises ``UNKNOWN_CURRENCY`` for codes that are not ISO 4217 currencies or have no minor unit
    (XAU, XXX, ...): those cannot appear on an invoice.
    """
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        exponent = None
    if exponent is None:
        raise BillingError(
            BillingErrorCode.UNKNOWN_CURRENCY,
            f"{currency!r} is not an ISO 4217 currency with a minor unit",
            "currency",
        )
    return int(exponent)


def is_known_currency(currency: str) -> bool:
    """True if ``currency`` is an ISO 4217 code usable for billing."""
    try:
        minor_unit(currency)
    except BillingError:
        return False
    return True


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: Decimal('0.01') for GBP, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the currency's minor unit, half up (away from zero on a tie)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
