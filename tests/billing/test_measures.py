"""What a commitment measures in a window, and its shortfall (SPEC §4, §11 examples 1–3)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.billing.calendar import Period, commitment_windows
from app.billing.charges import Charge, UsageTotal
from app.billing.measures import (
    Measurement,
    charge_is_eligible,
    is_eligible,
    measure,
    time_weighted_volume,
)
from app.billing.terms import (
    ChargeType,
    Commitment,
    CommitmentType,
    DateRange,
    Frequency,
    PaymentTiming,
    ProductKind,
    RampStep,
    ServiceLine,
)

D = Decimal
T = CommitmentType
YEAR = DateRange(date(2024, 1, 1), date(2025, 1, 1))
SEED_SPEND_RAMP = (RampStep(1, D(10000)), RampStep(5, D(20000)), RampStep(9, D(30000)))
SEED_GB_RAMP = (RampStep(1, D(1000)), RampStep(4, D(2000)), RampStep(7, D(3000)))


def d(text: str) -> date:
    return date.fromisoformat(text)


def span(start: str, end: str) -> DateRange:
    return DateRange(d(start), d(end))


def commitment(kind: CommitmentType, ramp: tuple[RampStep, ...], **extra: object) -> Commitment:
    base: dict[str, object] = dict(
        key="c",
        type=kind,
        term=YEAR,
        frequency=Frequency.MONTHLY,
        ramp=ramp,
        payment=PaymentTiming.POSTPAID if kind is T.SPEND else None,
    )
    base.update(extra)
    return Commitment(**base)  # type: ignore[arg-type]


def window(c: Commitment, number: int) -> Period:
    return commitment_windows(c)[number - 1]


def charge(key: str, type_: ChargeType, product: str, amount: str, sp: DateRange) -> Charge:
    return Charge(key, type_, product, D(amount), sp)


def line(key: str, product: str, quantity: str, active: DateRange, **extra: object) -> ServiceLine:
    kind = extra.pop("kind", ProductKind.SERVICE)
    return ServiceLine(key, product, kind, D(quantity), D(0), active, **extra)  # type: ignore[arg-type]


def run(c: Commitment, w: Period, **inputs: object) -> Measurement:
    return measure(
        c,
        w,
        usage=inputs.get("usage", ()),  # type: ignore[arg-type]
        service_lines=inputs.get("lines", ()),  # type: ignore[arg-type]
        charges=inputs.get("charges", ()),  # type: ignore[arg-type]
        currency=inputs.get("currency"),  # type: ignore[arg-type]
    )


# --- SPEC §11 example 1: monthly spend with the seed's ramp -------------------------------------


@pytest.mark.parametrize(
    ("month", "spend", "committed", "shortfall"),
    [
        (2, "8500", "10000", "1500"),
        (6, "23000", "20000", "0"),
        (4, "10000", "10000", "0"),  # exactly the commitment
        (9, "0", "30000", "30000"),
        (12, "29999.99", "30000", "0.01"),
    ],
)
def test_example_1_spend_shortfall(month: int, spend: str, committed: str, shortfall: str) -> None:
    c = commitment(T.SPEND, SEED_SPEND_RAMP)
    w = window(c, month)
    charges = [charge("usage:x", ChargeType.USAGE, "x", spend, w.span)]
    m = run(c, w, charges=charges, currency="GBP")
    assert (m.committed, m.measured, m.shortfall) == (D(committed), D(spend), D(shortfall))
    assert (m.volume, m.committed_total) == (D(1), D(committed))


def test_spend_counts_eligible_charges_of_the_window_only() -> None:
    c = commitment(
        T.SPEND,
        (RampStep(1, D(1000)),),
        eligible_charge_types=frozenset({ChargeType.USAGE, ChargeType.RECURRING}),
        eligible_products=frozenset({"sms", "sim-a"}),
    )
    w = window(c, 3)  # March 2024
    charges = [
        charge("usage:sms", ChargeType.USAGE, "sms", "100", w.span),
        charge("usage:data", ChargeType.USAGE, "data", "200", w.span),  # product not eligible
        charge(
            "recurring:l1", ChargeType.RECURRING, "sim-a", "40", span("2024-03-11", "2024-04-01")
        ),
        charge("standing", ChargeType.STANDING, "standing", "30", w.span),  # type not eligible
        charge("usage:sms-feb", ChargeType.USAGE, "sms", "500", span("2024-02-01", "2024-03-01")),
        charge(
            "usage:sms-x", ChargeType.USAGE, "sms", "7", span("2024-03-15", "2024-04-15")
        ),  # straddles
    ]
    m = run(c, w, charges=charges)
    assert m.measured == D(140)
    assert m.shortfall == D(860)


@pytest.mark.parametrize(
    ("types", "products", "charge_type", "product", "eligible"),
    [
        (frozenset(ChargeType), frozenset(), ChargeType.ONE_TIME, "anything", True),
        (frozenset({ChargeType.USAGE}), frozenset(), ChargeType.RECURRING, "x", False),
        (frozenset({ChargeType.USAGE}), frozenset({"sms"}), ChargeType.USAGE, "sms", True),
        (frozenset({ChargeType.USAGE}), frozenset({"sms"}), ChargeType.USAGE, "data", False),
        (frozenset(ChargeType), frozenset({"standing"}), ChargeType.STANDING, "standing", True),
    ],
)
def test_charge_is_eligible(
    types: frozenset[ChargeType],
    products: frozenset[str],
    charge_type: ChargeType,
    product: str,
    eligible: bool,
) -> None:
    assert charge_is_eligible(charge_type, product, types, products) is eligible
    c = commitment(
        T.SPEND, (RampStep(1, D(1)),), eligible_charge_types=types, eligible_products=products
    )
    assert is_eligible(c, charge("k", charge_type, product, "1", YEAR)) is eligible


def test_spend_committed_is_rounded_only_with_a_currency() -> None:
    c = commitment(T.SPEND, (RampStep(1, D(100)),), term=span("2024-01-01", "2024-01-11"))
    w = window(c, 1)  # 10 of 31 days: 32.258...
    assert run(c, w).committed == F(100) * 10 / 31
    assert run(c, w, currency="GBP").committed == D("32.26")
    assert run(c, w, currency="JPY").shortfall == D(32)


# --- SPEC §11 example 2: monthly usage commitment in GB ----------------------------------------


@pytest.mark.parametrize(
    ("month", "gb", "shortfall"),
    [
        (5, "1500", "500"),
        (1, "999.5", "0.5"),
        (3, "1000", "0"),
        (7, "0", "3000"),
        (12, "4000", "0"),
    ],
)
def test_example_2_usage_shortfall(month: int, gb: str, shortfall: str) -> None:
    c = commitment(T.USAGE, SEED_GB_RAMP, usage_class="data-gb")
    w = window(c, month)
    usage = [
        UsageTotal("data-gb", w.span, D(gb)),
        UsageTotal("sms", w.span, D(10**6)),  # another class
        UsageTotal("data-gb", span("2023-12-01", "2024-01-01"), D(999)),  # outside the window
    ]
    assert run(c, w, usage=usage).shortfall == D(shortfall)


def test_usage_totals_per_billing_period_add_up_in_a_quarterly_window() -> None:
    c = commitment(
        T.USAGE, (RampStep(1, D(3000)),), usage_class="data-gb", frequency=Frequency.QUARTERLY
    )
    w = window(c, 1)
    usage = [
        UsageTotal("data-gb", span("2024-01-01", "2024-02-01"), D(1000)),
        UsageTotal("data-gb", span("2024-02-01", "2024-03-01"), D(800)),
        UsageTotal("data-gb", span("2024-03-01", "2024-04-01"), D(700)),
        UsageTotal("data-gb", span("2024-04-01", "2024-05-01"), D(700)),
    ]
    m = run(c, w, usage=usage)
    assert (m.measured, m.shortfall) == (D(2500), D(500))


def test_usage_in_a_partial_window_is_prorated() -> None:
    c = commitment(
        T.USAGE, (RampStep(1, D(3100)),), usage_class="gb", term=span("2024-01-01", "2024-02-11")
    )
    w = window(c, 2)  # 1–11 Feb, 10 of 29 days
    m = run(c, w, usage=[UsageTotal("gb", w.span, D(1000))])
    assert m.committed == F(3100) * 10 / 29
    assert m.shortfall == F(3100) * 10 / 29 - 1000


# --- SPEC §11 example 3: average usage per connection ------------------------------------------


def test_example_3_average_usage() -> None:
    c = commitment(T.AVERAGE_USAGE, (RampStep(1, D(10)),), usage_class="sms-mo-mb", service="sim-a")
    w = window(c, 1)
    lines = [line("s1", "sim-a", "1", YEAR), line("s2", "sim-a", "1", YEAR)]
    m = run(c, w, usage=[UsageTotal("sms-mo-mb", w.span, D(6) + D(10))], lines=lines)
    assert m == Measurement(
        committed=D(10), measured=D(8), shortfall=D(4), volume=D(2), committed_total=D(20)
    )


@pytest.mark.parametrize(
    ("mb", "lines", "measured", "shortfall", "volume"),
    [
        ("20", [("sim-a", "1"), ("sim-a", "1")], "10", "0", "2"),  # seed: 8 MB and 12 MB
        ("0", [("sim-a", "2")], "0", "20", "2"),
        ("30", [], "0", "0", "0"),  # no connections: nothing to fall short on
        ("30", [("sim-b", "3")], "0", "0", "0"),  # other services are not connections
        ("15", [("sim-a", "3")], "5", "15", "3"),
    ],
)
def test_average_usage(
    mb: str, lines: list[tuple[str, str]], measured: str, shortfall: str, volume: str
) -> None:
    c = commitment(T.AVERAGE_USAGE, (RampStep(1, D(10)),), usage_class="mb", service="sim-a")
    w = window(c, 2)
    service_lines = [line(f"l{i}", p, q, YEAR) for i, (p, q) in enumerate(lines)]
    m = run(c, w, usage=[UsageTotal("mb", w.span, D(mb))], lines=service_lines)
    assert (m.measured, m.shortfall, m.volume) == (D(measured), D(shortfall), D(volume))
    assert m.committed_total == D(10) * D(volume)


def test_average_usage_with_a_connection_half_the_month() -> None:
    c = commitment(T.AVERAGE_USAGE, (RampStep(1, D(10)),), usage_class="mb", service="sim-a")
    w = window(c, 4)  # April: 30 days
    lines = [
        line("a", "sim-a", "1", YEAR),
        line("b", "sim-a", "1", span("2024-04-16", "2025-01-01")),
    ]
    m = run(c, w, usage=[UsageTotal("mb", w.span, D(12))], lines=lines)
    assert m.volume == D("1.5")
    assert m.measured == D(8)
    assert m.shortfall == D(3)  # (10 − 8) × 1.5


# --- volume types ------------------------------------------------------------------------------

PKG = "package-a"
LINES = (
    line("1", "sim-a", "10", YEAR),
    line("2", "sim-a", "4", YEAR, package=PKG, package_frequency=Frequency.MONTHLY),
    line("3", "sim-a", "6", YEAR, package=PKG, package_frequency=Frequency.ANNUAL),
    line("4", "sim-a", "2", YEAR, package="package-b", package_frequency=Frequency.MONTHLY),
    line("5", "sim-b", "100", YEAR),
    line("6", PKG, "3", YEAR, kind=ProductKind.PACKAGE),
    line("7", "sim-a", "30", span("2024-03-11", "2024-03-21")),  # 10 of 31 March days
    line("8", PKG, "1", span("2024-02-01", "2024-03-01"), kind=ProductKind.PACKAGE),  # not in March
)


@pytest.mark.parametrize(
    ("kind", "extra", "measured"),
    [
        (T.SERVICE, {"service": "sim-a"}, F(22) + F(30) * 10 / 31),
        (T.SERVICE, {"service": "sim-b"}, D(100)),
        (T.SERVICE, {"service": "sim-z"}, D(0)),
        (
            T.PACKAGE_SERVICE,
            {"service": "sim-a", "package": PKG, "package_frequency": Frequency.MONTHLY},
            D(4),
        ),
        (
            T.PACKAGE_SERVICE,
            {"service": "sim-a", "package": PKG, "package_frequency": Frequency.ANNUAL},
            D(6),
        ),
        (
            T.PACKAGE_SERVICE,
            {"service": "sim-b", "package": PKG, "package_frequency": Frequency.MONTHLY},
            D(0),
        ),
        (T.PACKAGE, {"package": PKG}, D(3)),
        (T.PACKAGE, {"package": "package-b"}, D(0)),  # lines inside a package are not packages
    ],
)
def test_volume_types_in_march(
    kind: CommitmentType, extra: dict[str, object], measured: Decimal
) -> None:
    c = commitment(kind, (RampStep(1, D(50)),), **extra)
    m = run(c, window(c, 3), lines=LINES)
    assert m.measured == measured
    assert m.shortfall == max(F(0), F(50) - F(measured))
    assert (m.volume, m.committed_total) == (D(1), D(50))


def test_level_types_use_the_cut_window() -> None:
    # a window cut to 1–11 Feb: a line active all of it counts fully; the level is not prorated
    c = commitment(
        T.SERVICE, (RampStep(1, D(10)),), service="s", term=span("2024-01-01", "2024-02-11")
    )
    w = window(c, 2)
    m = run(
        c,
        w,
        lines=[line("a", "s", "8", YEAR), line("b", "s", "5", span("2024-02-06", "2024-03-01"))],
    )
    assert m.measured == D(8) + D(5) * 5 / 10
    assert m.committed == D(10)


# --- time-weighted volume ----------------------------------------------------------------------

line_strategy = st.builds(
    lambda q, s, n: line("x", "s", str(q), DateRange(date.fromordinal(s), date.fromordinal(s + n))),
    st.decimals(min_value=0, max_value=1000, places=2),
    st.integers(min_value=date(2024, 1, 1).toordinal(), max_value=date(2024, 12, 31).toordinal()),
    st.integers(min_value=1, max_value=120),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line_strategy, max_size=8),
    start=st.integers(
        min_value=date(2024, 1, 1).toordinal(), max_value=date(2024, 12, 1).toordinal()
    ),
    length=st.integers(min_value=1, max_value=92),
    seed=st.integers(),
)
def test_time_weighted_volume_bounds_and_order(
    lines: list[ServiceLine], start: int, length: int, seed: int
) -> None:
    w = DateRange(date.fromordinal(start), date.fromordinal(start + length))
    volume = time_weighted_volume(lines, w, lambda _: True)
    assert D(0) <= volume <= sum((x.quantity for x in lines), D(0))
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    assert time_weighted_volume(shuffled, w, lambda _: True) == volume
    covering = [x for x in lines if x.active.start <= w.start and w.end <= x.active.end]
    assert volume >= sum((x.quantity for x in covering), D(0))


def test_time_weighted_volume_of_an_empty_window_is_zero() -> None:
    empty = DateRange(d("2024-01-01"), d("2024-01-01"))
    assert time_weighted_volume([line("a", "s", "1", YEAR)], empty, lambda _: True) == 0
