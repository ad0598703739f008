"""Money: minor units from ISO 4217 and half-up rounding to them (SPEC §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.money import is_known_currency, minor_unit, quantum, round_money

D = Decimal


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("GBP", 2),
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("CLF", 4),
    ],
)
def test_minor_unit_comes_from_iso4217(currency: str, digits: int) -> None:
    assert minor_unit(currency) == digits
    assert quantum(currency) == D(1).scaleb(-digits)
    assert is_known_currency(currency)


@pytest.mark.parametrize("currency", ["ABC", "gbp", "", "XAU", "XXX", "XDR"])
def test_unknown_or_unbillable_currency_is_refused(currency: str) -> None:
    assert not is_known_currency(currency)
    with pytest.raises(BillingError) as caught:
        round_money(D("1"), currency)
    assert caught.value.code is BillingErrorCode.UNKNOWN_CURRENCY
    assert caught.value.field == "currency"


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        # exactly half a minor unit rounds up (away from zero)
        ("1.005", "GBP", "1.01"),
        ("15.425", "GBP", "15.43"),  # 1,234 SMS at £0.0125: docs/billing-rules.md §1
        ("1.015", "GBP", "1.02"),
        ("1.025", "GBP", "1.03"),
        ("-1.005", "GBP", "-1.01"),
        ("0.005", "USD", "0.01"),
        ("1.00499999", "GBP", "1.00"),
        ("2.675", "GBP", "2.68"),  # the float classic: 2.675 is 2.67499... as a float
        ("10", "GBP", "10.00"),
        ("0", "EUR", "0.00"),
        # JPY has no minor unit
        ("0.5", "JPY", "1"),
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),
        ("2.4999", "JPY", "2"),
        ("-2.5", "JPY", "-3"),
        ("1234.5", "JPY", "1235"),
        # KWD has three
        ("0.0005", "KWD", "0.001"),
        ("1.2345", "KWD", "1.235"),
        ("1.23449", "KWD", "1.234"),
        ("7", "KWD", "7.000"),
        ("1.00005", "CLF", "1.0001"),
    ],
)
def test_round_money_half_up(amount: str, currency: str, rounded: str) -> None:
    result = round_money(D(amount), currency)
    assert result == D(rounded)
    assert str(result) == rounded  # the exponent is the currency's minor unit


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6),
    currency=st.sampled_from(["GBP", "JPY", "KWD"]),
)
def test_rounding_is_within_half_a_minor_unit_and_idempotent(
    amount: Decimal, currency: str
) -> None:
    rounded = round_money(amount, currency)
    assert abs(rounded - amount) <= quantum(currency) / 2
    assert round_money(rounded, currency) == rounded
    assert round_money(-amount, currency) == -rounded  # symmetric: half away from zero
