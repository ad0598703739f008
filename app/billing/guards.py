"""Small input guards shared by the validators of the billing core.

Every amount the core accepts must be a finite ``Decimal``: ``NaN`` and infinities are refused
before any comparison (ordering comparisons on ``NaN`` raise ``InvalidOperation``).
"""

from __future__ import annotations

from decimal import Decimal

from app.billing.errors import BillingError, BillingErrorCode


def is_finite(value: object) -> bool:
    """True if ``value`` is a finite ``Decimal`` (ints and floats are not amounts here)."""
    return isinstance(value, Decimal) and value.is_finite()


def require_non_negative(value: object, code: BillingErrorCode, field: str, what: str) -> None:
    """Raise ``code`` on ``field`` unless ``value`` is a finite ``Decimal`` ≥ 0."""
    if not is_finite(value):
        raise BillingError(code, f"{what} must be a finite decimal number", field)
    assert isinstance(value, Decimal)
    if value < 0:
        raise BillingError(code, f"{what} must not be negative (got {value})", field)
