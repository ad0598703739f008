"""Rating usage and the charges of a billing period (SPEC §5)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.billing.calendar import Period, billing_periods
from app.billing.charges import Charge, OneTimeCharge
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.rating import rate_period, rate_usage, validate_price, validate_price_tiers
from app.billing.terms import (
    ChargeType,
    ContractTerms,
    DateRange,
    Frequency,
    Price,
    PriceTier,
    PricingModel,
    ProductKind,
    ServiceLine,
)

D = Decimal
GRAD, VOL, UNIT = PricingModel.GRADUATED, PricingModel.VOLUME, PricingModel.PER_UNIT


def d(text: str) -> date:
    return date.fromisoformat(text)


def tiers(*rows: tuple[str | None, str, str]) -> tuple[PriceTier, ...]:
    return tuple(
        PriceTier(None if up is None else D(up), D(unit), D(flat)) for up, unit, flat in rows
    )


THREE_TIERS = tiers(("100", "0.10", "0"), ("1000", "0.05", "5"), (None, "0.01", "10"))
FLAT_FIRST = tiers(("10", "0", "20"), (None, "1", "0"))


@pytest.mark.parametrize(
    ("model", "price_tiers", "quantity", "expected"),
    [
        (GRAD, THREE_TIERS, "0", "0"),
        (GRAD, THREE_TIERS, "50", "5.00"),
        (GRAD, THREE_TIERS, "100", "10.00"),  # exactly on the bound: tier 2 not reached
        (GRAD, THREE_TIERS, "100.001", "15.00005"),
        (GRAD, THREE_TIERS, "101", "15.05"),
        (GRAD, THREE_TIERS, "1000", "60.00"),
        (GRAD, THREE_TIERS, "1001", "70.01"),
        (GRAD, THREE_TIERS, "1500", "75.00"),
        (GRAD, FLAT_FIRST, "0", "0"),  # zero usage: the first tier's flat fee is not reached
        (GRAD, FLAT_FIRST, "0.5", "20"),
        (GRAD, FLAT_FIRST, "10", "20"),
        (GRAD, FLAT_FIRST, "11", "21"),
        (VOL, THREE_TIERS, "0", "0"),
        (VOL, THREE_TIERS, "1", "0.10"),
        (VOL, THREE_TIERS, "100", "10.00"),  # on the bound: lands in tier 1
        (VOL, THREE_TIERS, "101", "10.05"),
        (VOL, THREE_TIERS, "1000", "55.00"),
        (VOL, THREE_TIERS, "1001", "20.01"),
        (VOL, FLAT_FIRST, "0", "0"),
        (VOL, FLAT_FIRST, "3", "20"),
        (VOL, FLAT_FIRST, "12", "12"),
    ],
)
def test_tiered_rating(
    model: PricingModel, price_tiers: tuple[PriceTier, ...], quantity: str, expected: str
) -> None:
    price = Price("data", model, tiers=price_tiers)
    validate_price(price)
    assert rate_usage(price, D(quantity)) == D(expected)


@pytest.mark.parametrize(
    ("unit", "quantity", "expected"),
    [
        ("0.05", "1000", "50"),
        ("0.015", "3", "0.045"),
        ("2", "0", "0"),
        ("0.0001", "12345.6789", "1.23456789"),
    ],
)
def test_per_unit_rating_is_unrounded(unit: str, quantity: str, expected: str) -> None:
    assert rate_usage(Price("sms", UNIT, D(unit)), D(quantity)) == D(expected)


@pytest.mark.parametrize("quantity", ["-1", "NaN", "-0.0001"])
def test_rating_refuses_a_negative_quantity(quantity: str) -> None:
    with pytest.raises(BillingError) as caught:
        rate_usage(Price("sms", UNIT, D(1)), D(quantity))
    assert caught.value.code is BillingErrorCode.INVALID_AMOUNT


@pytest.mark.parametrize("model", [GRAD, VOL])
def test_quantity_above_a_bounded_last_tier_is_an_error(model: PricingModel) -> None:
    # validate_price refuses such a price; rating an unvalidated one must not bill silently
    price = Price("data", model, tiers=tiers(("100", "1", "0")))
    with pytest.raises(BillingError) as caught:
        rate_usage(price, D(101))
    assert caught.value.code is BillingErrorCode.INVALID_TIERS
    assert rate_usage(price, D(100)) == D(100)


@pytest.mark.parametrize(
    ("price", "code", "field"),
    [
        (Price("sms", UNIT, D(-1)), BillingErrorCode.INVALID_PRICE, "unitAmount"),
        (Price("sms", UNIT, D("NaN")), BillingErrorCode.INVALID_PRICE, "unitAmount"),
        (Price("sms", UNIT, D(1), THREE_TIERS), BillingErrorCode.INVALID_PRICE, "tiers"),
        (Price("", UNIT, D(1)), BillingErrorCode.INVALID_PRICE, "usageClass"),
        (Price("d", GRAD, D(1), THREE_TIERS), BillingErrorCode.INVALID_PRICE, "unitAmount"),
        (Price("d", GRAD), BillingErrorCode.INVALID_TIERS, "tiers"),
        (Price("d", VOL), BillingErrorCode.INVALID_TIERS, "tiers"),
        (Price("d", GRAD, tiers=tiers(("100", "1", "0"))), BillingErrorCode.INVALID_TIERS, "tiers"),
        (
            Price("d", VOL, tiers=tiers(("100", "1", "0"), ("200", "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers((None, "1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers(("100", "1", "0"), ("100", "1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers(("200", "1", "0"), ("100", "1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers(("0", "1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers(("-5", "1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", GRAD, tiers=tiers(("10", "-1", "0"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            Price("d", VOL, tiers=tiers(("10", "1", "-1"), (None, "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
    ],
)
def test_invalid_prices_are_refused(price: Price, code: BillingErrorCode, field: str) -> None:
    with pytest.raises(BillingError) as caught:
        validate_price(price)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_valid_prices() -> None:
    validate_price(Price("sms", UNIT, D("0.05")))
    validate_price(Price("sms", UNIT, D(0)))
    validate_price(Price("d", GRAD, tiers=THREE_TIERS))
    validate_price(Price("d", VOL, tiers=tiers((None, "0.5", "1"))))
    validate_price_tiers(FLAT_FIRST)


quantities = st.decimals(min_value=0, max_value=10**6, allow_nan=False, places=3)
tier_lists = st.lists(
    st.tuples(
        st.decimals(min_value=D("0.001"), max_value=1000, places=3),
        st.decimals(min_value=0, max_value=10, places=4),
        st.decimals(min_value=0, max_value=100, places=2),
    ),
    min_size=1,
    max_size=6,
).map(
    lambda rows: tuple(
        PriceTier(
            None if i == len(rows) - 1 else sum((r[0] for r in rows[: i + 1]), D(0)), r[1], r[2]
        )
        for i, r in enumerate(rows)
    )
)


@settings(max_examples=300, deadline=None)
@given(price_tiers=tier_lists, a=quantities, b=quantities)
def test_graduated_rating_is_monotone(
    price_tiers: tuple[PriceTier, ...], a: Decimal, b: Decimal
) -> None:
    price = Price("data", GRAD, tiers=price_tiers)
    validate_price(price)
    low, high = sorted((a, b))
    assert D(0) <= rate_usage(price, low) <= rate_usage(price, high)


@settings(max_examples=300, deadline=None)
@given(price_tiers=tier_lists, quantity=quantities)
def test_volume_rating_is_the_landing_tier(
    price_tiers: tuple[PriceTier, ...], quantity: Decimal
) -> None:
    price = Price("data", VOL, tiers=price_tiers)
    validate_price(price)
    landing = next(t for t in price_tiers if t.up_to is None or quantity <= t.up_to)
    expected = D(0) if quantity == 0 else quantity * landing.unit_amount + landing.flat_amount
    assert rate_usage(price, quantity) == expected


@settings(max_examples=300, deadline=None)
@given(unit=st.decimals(min_value=0, max_value=10, places=4), quantity=quantities)
def test_one_open_graduated_tier_without_flat_is_per_unit(unit: Decimal, quantity: Decimal) -> None:
    graduated = Price("data", GRAD, tiers=(PriceTier(None, unit),))
    assert rate_usage(graduated, quantity) == rate_usage(Price("data", UNIT, unit), quantity)


# --- rate_period -------------------------------------------------------------------------------

TERM = DateRange(d("2024-01-01"), d("2024-03-16"))  # Jan, Feb, and 1–16 Mar (15 of 31 days)
LINES = (
    ServiceLine("l1", "sim-a", ProductKind.SERVICE, D(2), D("10.00"), TERM),
    ServiceLine(
        "l2", "sim-b", ProductKind.SERVICE, D(1), D("31.00"), DateRange(d("2024-01-11"), TERM.end)
    ),
    ServiceLine("l3", "sim-c", ProductKind.SERVICE, D(5), D(0), TERM),  # free: no line
    ServiceLine(
        "l4",
        "package-a",
        ProductKind.PACKAGE,
        D(1),
        D("29.00"),
        DateRange(d("2024-02-01"), d("2024-03-01")),
    ),
)
PRICES = (
    Price("sms", UNIT, D("0.05")),
    Price("data", GRAD, tiers=THREE_TIERS),
)
ONE_TIME = (
    OneTimeCharge("setup", "install", D("99.99"), d("2024-01-05"), seq=1),
    OneTimeCharge("visit", "install", D("50"), d("2024-01-31"), seq=2),
    OneTimeCharge("later", "install", D("10"), d("2024-02-01"), seq=3),
)


def terms(currency: str = "GBP", **overrides: object) -> ContractTerms:
    base: dict[str, object] = dict(
        currency=currency,
        term=TERM,
        billing_frequency=Frequency.MONTHLY,
        standing_charge=D("30.00"),
        minimum_spend=D("100.00"),
        prices=PRICES,
        service_lines=LINES,
    )
    base.update(overrides)
    return ContractTerms(**base)  # type: ignore[arg-type]


def period(t: ContractTerms, index: int) -> Period:
    return billing_periods(t)[index]


def summary(charges: tuple[Charge, ...]) -> list[tuple[int, str, ChargeType, str, str]]:
    return [(c.seq, c.key, c.type, c.product, str(c.amount)) for c in charges]


def test_a_full_month() -> None:
    t = terms()
    usage = {"sms": D(1000), "data": D(0), "voice": D(99)}  # voice has no price: not rated
    charges = rate_period(t, period(t, 0), usage, ONE_TIME)
    assert summary(charges) == [
        (0, "usage:sms", ChargeType.USAGE, "sms", "50.00"),
        (1, "recurring:l1", ChargeType.RECURRING, "sim-a", "20.00"),
        (2, "recurring:l2", ChargeType.RECURRING, "sim-b", "21.00"),  # 21 of 31 days
        (3, "standing", ChargeType.STANDING, "standing", "30.00"),
        (4, "minimum_spend", ChargeType.MINIMUM_SPEND, "minimum_spend", "50.00"),
        (5, "one_time:setup", ChargeType.ONE_TIME, "install", "99.99"),
        (6, "one_time:visit", ChargeType.ONE_TIME, "install", "50.00"),
    ]
    sms = charges[0]
    assert (sms.quantity, sms.unit_amount, sms.service_period) == (
        D(1000),
        D("0.05"),
        period(t, 0).span,
    )
    assert charges[2].service_period == DateRange(d("2024-01-11"), d("2024-02-01"))
    assert charges[5].service_period == DateRange(d("2024-01-05"), d("2024-01-06"))


def test_usage_above_the_minimum_leaves_no_minimum_spend_line() -> None:
    t = terms()
    charges = rate_period(t, period(t, 1), {"sms": D(1000), "data": D(1500)}, ONE_TIME)
    assert summary(charges) == [
        (0, "usage:data", ChargeType.USAGE, "data", "75.00"),
        (1, "usage:sms", ChargeType.USAGE, "sms", "50.00"),
        (2, "recurring:l4", ChargeType.RECURRING, "package-a", "29.00"),
        (3, "recurring:l1", ChargeType.RECURRING, "sim-a", "20.00"),
        (4, "recurring:l2", ChargeType.RECURRING, "sim-b", "31.00"),
        (5, "standing", ChargeType.STANDING, "standing", "30.00"),
        (6, "one_time:later", ChargeType.ONE_TIME, "install", "10.00"),
    ]
    assert charges[0].unit_amount is None  # tiered: no single unit amount


def test_a_partial_last_period_prorates_standing_minimum_and_recurring() -> None:
    t = terms()
    p = period(t, 2)
    assert (p.span.days, p.full.days, p.partial) == (15, 31, True)
    charges = rate_period(t, p, {"sms": D(100)}, ())
    assert summary(charges) == [
        (0, "usage:sms", ChargeType.USAGE, "sms", "5.00"),
        (1, "recurring:l1", ChargeType.RECURRING, "sim-a", "9.68"),  # 20 × 15/31 = 9.677
        (2, "recurring:l2", ChargeType.RECURRING, "sim-b", "15.00"),  # 31 × 15/31
        (3, "standing", ChargeType.STANDING, "standing", "14.52"),  # 30 × 15/31 = 14.516
        (4, "minimum_spend", ChargeType.MINIMUM_SPEND, "minimum_spend", "43.39"),  # 48.387 − 5
    ]


def test_nothing_to_bill_gives_no_lines() -> None:
    t = terms(standing_charge=D(0), minimum_spend=D(0), service_lines=())
    assert rate_period(t, period(t, 0), {"sms": D(0), "voice": D(5)}, ()) == ()


@pytest.mark.parametrize(
    ("currency", "standing", "sms_unit", "expected"),
    [
        # 1–16 Mar: 15/31 of the standing charge; sms 3 × unit
        ("JPY", "1000", "0.5", {"usage:sms": "2", "standing": "484"}),  # 1.5 → 2; 483.87 → 484
        ("KWD", "10", "0.0005", {"usage:sms": "0.002", "standing": "4.839"}),  # 0.0015 → 0.002
        ("GBP", "31", "0.005", {"usage:sms": "0.02", "standing": "15.00"}),  # 0.015 → 0.02
        ("USD", "0.62", "0.0016667", {"usage:sms": "0.01", "standing": "0.30"}),
    ],
)
def test_rounding_to_the_currency(
    currency: str, standing: str, sms_unit: str, expected: dict[str, str]
) -> None:
    t = terms(
        currency,
        standing_charge=D(standing),
        minimum_spend=D(0),
        service_lines=(),
        prices=(Price("sms", UNIT, D(sms_unit)),),
    )
    charges = rate_period(t, period(t, 2), {"sms": D(3)}, ())
    assert {c.key: str(c.amount) for c in charges} == expected


def test_minimum_spend_subtracts_the_rounded_usage_charges() -> None:
    t = terms(standing_charge=D(0), service_lines=(), prices=(Price("sms", UNIT, D("0.005")),))
    charges = rate_period(t, period(t, 0), {"sms": D(1)}, ())  # 0.005 → 0.01
    assert {c.key: c.amount for c in charges} == {
        "usage:sms": D("0.01"),
        "minimum_spend": D("99.99"),
    }


def test_negative_usage_is_refused() -> None:
    t = terms()
    with pytest.raises(BillingError) as caught:
        rate_period(t, period(t, 0), {"sms": D(-1)}, ())
    assert caught.value.code is BillingErrorCode.INVALID_AMOUNT


def test_two_prices_for_one_usage_class_are_refused() -> None:
    t = terms(prices=(Price("sms", UNIT, D(1)), Price("sms", UNIT, D(2))))
    with pytest.raises(BillingError) as caught:
        rate_period(t, period(t, 0), {"sms": D(1)}, ())
    assert caught.value.code is BillingErrorCode.INVALID_PRICE


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.decimals(min_value=0, max_value=5000, places=2))
def test_rate_period_does_not_depend_on_input_order(rng: random.Random, sms: Decimal) -> None:
    lines, one_time = list(LINES), list(ONE_TIME)
    rng.shuffle(lines)
    rng.shuffle(one_time)
    usage_items = [("sms", sms), ("data", sms * 2), ("voice", D(1))]
    rng.shuffle(usage_items)
    base = terms()
    shuffled = terms(service_lines=tuple(lines))
    for index in range(3):
        expected = rate_period(base, period(base, index), {"sms": sms, "data": sms * 2}, ONE_TIME)
        got = rate_period(shuffled, period(shuffled, index), dict(usage_items), tuple(one_time))
        assert got == expected
        assert [c.seq for c in got] == list(range(len(got)))
