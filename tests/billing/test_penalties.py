"""Penalties on a missed window (SPEC §8, §11 examples 2 and 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.measures import Measurement
from app.billing.penalties import penalty_amount, validate_penalty
from app.billing.terms import Penalty, PenaltyKind, PenaltyTier, TierBasis, TierMode

D = Decimal
CHARGE, COUNT, TIERED = PenaltyKind.CHARGE, PenaltyKind.COUNT, PenaltyKind.TIERED
UNITS, PERCENT = TierBasis.UNITS, TierBasis.PERCENT
GRAD, VOL = TierMode.GRADUATED, TierMode.VOLUME


def missed(shortfall: str, committed_total: str = "10000") -> Measurement:
    """A money or usage window (volume 1) whose shortfall is ``shortfall``."""
    c = D(committed_total)
    return Measurement(c, c - D(shortfall), D(shortfall), D(1), c)


def tiers(*rows: tuple[str | None, str, str]) -> tuple[PenaltyTier, ...]:
    return tuple(
        PenaltyTier(None if up is None else D(up), D(rate), D(flat)) for up, rate, flat in rows
    )


def tiered(basis: TierBasis, mode: TierMode, rows: tuple[PenaltyTier, ...]) -> Penalty:
    return Penalty(TIERED, basis=basis, mode=mode, tiers=rows)


UNIT_TIERS = tiers(("100", "1", "0"), ("500", "2", "10"), (None, "3", "50"))
PERCENT_TIERS = tiers(("10", "0.1", "0"), ("50", "0.2", "100"), (None, "0.5", "0"))
BOUNDED = tiers(("100", "1", "0"), ("200", "2", "0"))


@pytest.mark.parametrize(
    ("amount", "charges", "shortfall", "expected"),
    [
        ("5000", "3200", "1", "1800"),  # the seed's example
        ("5000", "5000", "1", "0"),
        ("5000", "6000", "1", "0"),
        ("5000", "0", "1", "5000"),
        ("5000", "3200", "0", "0"),  # no shortfall, no penalty
    ],
)
def test_charge_penalty(amount: str, charges: str, shortfall: str, expected: str) -> None:
    penalty = Penalty(CHARGE, amount=D(amount))
    assert penalty_amount(penalty, missed(shortfall), D(charges)) == D(expected)


def test_example_2_count_penalty_per_gb() -> None:
    m = Measurement(D(2000), D(1500), D(500), D(1), D(2000))
    assert penalty_amount(Penalty(COUNT, rate=D("0.01")), m, D(0)) == D("5.00")


def test_example_3_count_penalty_per_mb_short() -> None:
    m = Measurement(D(10), D(8), D(4), D(2), D(20))
    assert penalty_amount(Penalty(COUNT, rate=D("0.50")), m, D(0)) == D("2.00")


@pytest.mark.parametrize(
    ("penalty", "shortfall", "expected"),
    [
        (tiered(UNITS, GRAD, UNIT_TIERS), "0", "0"),
        (tiered(UNITS, GRAD, UNIT_TIERS), "50", "50"),
        (tiered(UNITS, GRAD, UNIT_TIERS), "100", "100"),  # exactly on the bound: tier 2 not reached
        (tiered(UNITS, GRAD, UNIT_TIERS), "100.5", "111"),  # 100 + 0.5×2 + 10
        (tiered(UNITS, GRAD, UNIT_TIERS), "500", "910"),
        (tiered(UNITS, GRAD, UNIT_TIERS), "600", "1260"),  # 910 + 100×3 + 50
        (tiered(UNITS, VOL, UNIT_TIERS), "100", "100"),
        (tiered(UNITS, VOL, UNIT_TIERS), "101", "212"),
        (tiered(UNITS, VOL, UNIT_TIERS), "500", "1010"),
        (tiered(UNITS, VOL, UNIT_TIERS), "501", "1553"),
        # percent of a committed total of 10,000
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "500", "50"),  # 5 %
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "1000", "100"),  # exactly 10 %
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "1500", "300"),  # 1000×0.1 + 500×0.2 + 100
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "5000", "1000"),  # exactly 50 %
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "6000", "1500"),  # + 1000×0.5
        (tiered(PERCENT, GRAD, PERCENT_TIERS), "10000", "3500"),  # everything missed
        (tiered(PERCENT, VOL, PERCENT_TIERS), "1000", "100"),
        (tiered(PERCENT, VOL, PERCENT_TIERS), "1001", "300.2"),
        (tiered(PERCENT, VOL, PERCENT_TIERS), "1500", "400"),  # docs/billing-rules.md §8
        (tiered(PERCENT, VOL, PERCENT_TIERS), "5000", "1100"),
        (tiered(PERCENT, VOL, PERCENT_TIERS), "6000", "3000"),
        # a bounded last tier: graduated stops billing at the last bound; volume keeps the last tier
        (tiered(UNITS, GRAD, BOUNDED), "300", "300"),
        (tiered(UNITS, VOL, BOUNDED), "300", "600"),
        (tiered(UNITS, VOL, BOUNDED), "200", "400"),
    ],
)
def test_tiered_penalty(penalty: Penalty, shortfall: str, expected: str) -> None:
    assert penalty_amount(penalty, missed(shortfall), D(0)) == D(expected)


def test_percent_tiers_of_an_average_usage_commitment_use_the_committed_total() -> None:
    # example 3: C = 10 MB, V = 2 connections, S = 4 MB: x = 4 ÷ 20 × 100 = 20 %
    m = Measurement(D(10), D(8), D(4), D(2), D(20))
    penalty = tiered(PERCENT, GRAD, tiers(("10", "1", "0"), (None, "2", "0")))
    assert penalty_amount(penalty, m, D(0)) == D(2) * 1 + D(2) * 2
    assert penalty_amount(tiered(PERCENT, VOL, penalty.tiers), m, D(0)) == D(8)


def test_percent_basis_with_nothing_committed_bills_nothing() -> None:
    m = Measurement(D(0), D(-5), D(5), D(1), D(0))
    assert penalty_amount(tiered(PERCENT, GRAD, PERCENT_TIERS), m, D(0)) == 0
    assert penalty_amount(tiered(PERCENT, VOL, PERCENT_TIERS), m, D(0)) == 0


shortfalls = st.decimals(min_value=0, max_value=20000, places=2)


@settings(max_examples=300, deadline=None)
@given(a=shortfalls, b=shortfalls, basis=st.sampled_from([UNITS, PERCENT]))
def test_graduated_penalty_is_monotone_in_the_shortfall(
    a: Decimal, b: Decimal, basis: TierBasis
) -> None:
    penalty = tiered(basis, GRAD, UNIT_TIERS if basis is UNITS else PERCENT_TIERS)
    low, high = sorted((a, b))
    assert (
        D(0)
        <= penalty_amount(penalty, missed(str(low), "20000"), D(0))
        <= penalty_amount(penalty, missed(str(high), "20000"), D(0))
    )


@settings(max_examples=300, deadline=None)
@given(shortfall=shortfalls, rate=st.decimals(min_value=0, max_value=5, places=3))
def test_one_open_tier_without_flat_is_a_count_penalty(shortfall: Decimal, rate: Decimal) -> None:
    one = tiers((None, str(rate), "0"))
    count = penalty_amount(Penalty(COUNT, rate=rate), missed(str(shortfall), "20000"), D(0))
    for basis in (UNITS, PERCENT):
        for mode in (GRAD, VOL):
            assert (
                penalty_amount(tiered(basis, mode, one), missed(str(shortfall), "20000"), D(0))
                == count
            )


@pytest.mark.parametrize(
    "penalty",
    [
        Penalty(CHARGE, amount=D(0)),
        Penalty(CHARGE, amount=D(5000)),
        Penalty(COUNT, rate=D("0.01")),
        tiered(UNITS, GRAD, UNIT_TIERS),
        tiered(PERCENT, VOL, PERCENT_TIERS),
        tiered(UNITS, GRAD, BOUNDED),  # the last tier may be bounded
    ],
)
def test_valid_penalties(penalty: Penalty) -> None:
    validate_penalty(penalty)


@pytest.mark.parametrize(
    ("penalty", "code", "field"),
    [
        (Penalty(CHARGE, amount=D(-1)), BillingErrorCode.INVALID_PENALTY, "amount"),
        (Penalty(CHARGE, amount=D("NaN")), BillingErrorCode.INVALID_PENALTY, "amount"),
        (Penalty(COUNT, rate=D("-0.01")), BillingErrorCode.INVALID_PENALTY, "rate"),
        (Penalty(CHARGE, amount=D(1), rate=D(1)), BillingErrorCode.INVALID_PENALTY, "rate"),
        (Penalty(COUNT, amount=D(1), rate=D(1)), BillingErrorCode.INVALID_PENALTY, "amount"),
        (Penalty(COUNT, rate=D(1), tiers=UNIT_TIERS), BillingErrorCode.INVALID_PENALTY, "tiers"),
        (Penalty(TIERED, rate=D(1), tiers=UNIT_TIERS), BillingErrorCode.INVALID_PENALTY, "rate"),
        (tiered(UNITS, GRAD, ()), BillingErrorCode.INVALID_TIERS, "tiers"),
        (
            tiered(UNITS, GRAD, tiers((None, "1", "0"), ("5", "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            tiered(UNITS, GRAD, tiers(("5", "1", "0"), ("5", "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            tiered(UNITS, VOL, tiers(("9", "1", "0"), ("5", "1", "0"))),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            tiered(
                PERCENT,
                GRAD,
                tiers(
                    ("0", "1", "0"),
                ),
            ),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            tiered(
                UNITS,
                GRAD,
                tiers(
                    ("5", "-1", "0"),
                ),
            ),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
        (
            tiered(
                UNITS,
                GRAD,
                tiers(
                    ("5", "1", "-1"),
                ),
            ),
            BillingErrorCode.INVALID_TIERS,
            "tiers",
        ),
    ],
)
def test_invalid_penalties_are_refused(
    penalty: Penalty, code: BillingErrorCode, field: str
) -> None:
    with pytest.raises(BillingError) as caught:
        validate_penalty(penalty)
    assert (caught.value.code, caught.value.field) == (code, field)
