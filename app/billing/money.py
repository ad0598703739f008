"""Currencies and rounding: the one place that knows minor units and rounds money.

Every figure the core computes before it becomes a line is exact: a sum or product of decimals is a
``Decimal`` or a ``Fraction``, and a quotient (a proration, a time-weighted volume, an average) is a
``Fraction``, never a decimal cut to the context's precision. ``round_money`` rounds either exactly,
once, at the line. Figures that are not money (a measured average, a prorated quantity) are shown
with ``QUANTITY_PLACES`` decimals by ``as_quantity``; nothing is computed from the shown value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

from iso4217 import Currency

from app.billing.errors import BillingError, BillingErrorCode

ZERO = Decimal(0)
QUANTITY_PLACES = 12

Exact = Decimal | Fraction
"""An exact figure: a decimal, or a fraction where a division made one."""


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


def round_half_up(amount: Exact, places: int) -> Decimal:
    """``amount`` rounded half up (away from zero on a tie) to ``places`` decimals, exactly.

    A ``Fraction`` is rounded from its numerator and denominator, so a quotient such as
    23.38 ÷ 28 = 0.835 rounds to 0.84 and never to 0.83 through a cut intermediate.
    """
    unit = _unit(places)
    if isinstance(amount, Decimal):
        return amount.quantize(unit, rounding=ROUND_HALF_UP)
    scale = 10**places
    whole = (abs(amount.numerator) * scale * 2 + amount.denominator) // (amount.denominator * 2)
    signed = -whole if amount < 0 else whole
    return Decimal(signed).scaleb(-places).quantize(unit)


@lru_cache(maxsize=64)
def _unit(places: int) -> Decimal:
    """``Decimal(1).scaleb(-places)``, made once per number of places."""
    return Decimal(1).scaleb(-places)


def round_down_money(amount: Exact, currency: str) -> Decimal:
    """``amount`` ≥ 0 cut down to the currency's minor unit, exactly."""
    places = minor_unit(currency)
    value = exact(amount) * 10**places
    return Decimal(value.numerator // value.denominator).scaleb(-places).quantize(quantum(currency))


def round_money(amount: Exact, currency: str) -> Decimal:
    """Round ``amount`` to the currency's minor unit, half up (away from zero on a tie)."""
    return round_half_up(amount, minor_unit(currency))


def exact(value: Exact | int) -> Fraction:
    """``value`` as a ``Fraction`` (exact for every finite ``Decimal``)."""
    return value if isinstance(value, Fraction) else Fraction(value)


def ratio(numerator: int, denominator: int) -> Fraction:
    """``numerator ÷ denominator`` exactly (a share of days, say); never rounded on its own."""
    return Fraction(numerator, denominator)


def as_quantity(value: Exact) -> Decimal:
    """A non-money figure as shown and stored: ``QUANTITY_PLACES`` decimals, half up."""
    return round_half_up(value, QUANTITY_PLACES)
