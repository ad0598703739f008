"""Ramp schedules and the committed amount of each window (SPEC §3, §2 proration)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction as F

import pytest

from app.billing.calendar import commitment_windows
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ramps import committed_amount, ramp_amount, validate_ramp
from app.billing.terms import (
    Commitment,
    CommitmentType,
    DateRange,
    Frequency,
    PaymentTiming,
    RampStep,
)

D = Decimal
SEED_SPEND_RAMP = (RampStep(1, D(10000)), RampStep(5, D(20000)), RampStep(9, D(30000)))
SEED_USAGE_RAMP = (RampStep(1, D(1)), RampStep(4, D(2)), RampStep(7, D(3)))


def ramp(*steps: tuple[int, str]) -> tuple[RampStep, ...]:
    return tuple(RampStep(window, D(amount)) for window, amount in steps)


@pytest.mark.parametrize(
    "steps",
    [
        ((1, "10000"),),
        ((1, "0"),),
        ((1, "10"), (2, "5"), (3, "20")),  # ramps may go down as well as up
        ((1, "1"), (4, "2"), (7, "3")),
        ((1, "0.001"), (100, "1E+6")),
    ],
)
def test_valid_ramps(steps: tuple[tuple[int, str], ...]) -> None:
    validate_ramp(ramp(*steps))


@pytest.mark.parametrize(
    "steps",
    [
        (),
        ((2, "100"),),
        ((0, "100"),),
        ((1, "100"), (1, "200")),
        ((1, "100"), (5, "200"), (3, "300")),
        ((1, "-1"),),
        ((1, "100"), (2, "-0.01")),
        ((1, "NaN"),),
        ((1, "Infinity"),),
    ],
)
def test_invalid_ramps_are_refused(steps: tuple[tuple[int, str], ...]) -> None:
    with pytest.raises(BillingError) as caught:
        validate_ramp(ramp(*steps))
    assert caught.value.code is BillingErrorCode.INVALID_RAMP
    assert caught.value.field == "rampSteps"


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (1, 10000),
        (2, 10000),
        (4, 10000),
        (5, 20000),
        (8, 20000),
        (9, 30000),
        (12, 30000),
        (40, 30000),
    ],
)
def test_seed_spend_ramp(window: int, expected: int) -> None:
    assert ramp_amount(SEED_SPEND_RAMP, window) == D(expected)


@pytest.mark.parametrize(("window", "expected"), [(1, 1), (3, 1), (4, 2), (6, 2), (7, 3), (12, 3)])
def test_seed_usage_ramp(window: int, expected: int) -> None:
    assert ramp_amount(SEED_USAGE_RAMP, window) == D(expected)


@pytest.mark.parametrize("window", [0, -1])
def test_windows_count_from_one(window: int) -> None:
    with pytest.raises(BillingError) as caught:
        ramp_amount(SEED_SPEND_RAMP, window)
    assert caught.value.code is BillingErrorCode.INVALID_RAMP


def commitment(
    kind: CommitmentType,
    start: str,
    end: str,
    steps: tuple[RampStep, ...] = SEED_SPEND_RAMP,
    *,
    frequency: Frequency = Frequency.MONTHLY,
    prorate: bool = True,
) -> Commitment:
    return Commitment(
        key="c",
        type=kind,
        term=DateRange(date.fromisoformat(start), date.fromisoformat(end)),
        frequency=frequency,
        ramp=steps,
        payment=PaymentTiming.POSTPAID if kind is CommitmentType.SPEND else None,
        prorate=prorate,
    )


def test_seed_ramp_over_a_year_of_monthly_windows() -> None:
    c = commitment(CommitmentType.SPEND, "2024-01-01", "2025-01-01")
    amounts = [committed_amount(c, w) for w in commitment_windows(c)]
    assert amounts == [D(10000)] * 4 + [D(20000)] * 4 + [D(30000)] * 4


def test_ramp_step_beyond_the_term_never_applies() -> None:
    c = commitment(CommitmentType.SPEND, "2024-01-01", "2024-07-01")  # six windows
    amounts = [committed_amount(c, w) for w in commitment_windows(c)]
    assert amounts == [D(10000)] * 4 + [D(20000)] * 2


@pytest.mark.parametrize(
    ("kind", "start", "end", "frequency", "prorate", "expected"),
    [
        # flow types: last window 1–15 Feb 2024 (14 of 29 days) is prorated
        (
            CommitmentType.SPEND,
            "2024-01-01",
            "2024-02-15",
            Frequency.MONTHLY,
            True,
            F(10000) * 14 / 29,
        ),
        (
            CommitmentType.USAGE,
            "2024-01-01",
            "2024-02-15",
            Frequency.MONTHLY,
            True,
            F(10000) * 14 / 29,
        ),
        # a term shorter than one window: 1 Jan – 1 Feb of a quarter (31 of 91 days)
        (
            CommitmentType.SPEND,
            "2024-01-01",
            "2024-02-01",
            Frequency.QUARTERLY,
            True,
            F(10000) * 31 / 91,
        ),
        # prorate: false keeps the whole amount
        (CommitmentType.SPEND, "2024-01-01", "2024-02-15", Frequency.MONTHLY, False, D(10000)),
        (CommitmentType.USAGE, "2024-01-01", "2024-02-15", Frequency.MONTHLY, False, D(10000)),
        # level types are never prorated
        (CommitmentType.SERVICE, "2024-01-01", "2024-02-15", Frequency.MONTHLY, True, D(10000)),
        (CommitmentType.PACKAGE, "2024-01-01", "2024-02-15", Frequency.MONTHLY, True, D(10000)),
        (
            CommitmentType.PACKAGE_SERVICE,
            "2024-01-01",
            "2024-02-15",
            Frequency.MONTHLY,
            True,
            D(10000),
        ),
        (
            CommitmentType.AVERAGE_USAGE,
            "2024-01-01",
            "2024-02-15",
            Frequency.MONTHLY,
            True,
            D(10000),
        ),
        # a full last window is not prorated
        (CommitmentType.SPEND, "2024-01-01", "2024-03-01", Frequency.MONTHLY, True, D(10000)),
    ],
)
def test_committed_amount_of_the_last_window(
    kind: CommitmentType,
    start: str,
    end: str,
    frequency: Frequency,
    prorate: bool,
    expected: Decimal,
) -> None:
    c = commitment(kind, start, end, frequency=frequency, prorate=prorate)
    assert committed_amount(c, commitment_windows(c)[-1]) == expected


def test_proration_uses_the_ramp_amount_of_the_partial_window() -> None:
    # 9 monthly windows from 1 Jan, the ninth cut to 1–16 Sep (15 of 30 days): £30,000 × 15/30
    c = commitment(CommitmentType.SPEND, "2024-01-01", "2024-09-16")
    windows = commitment_windows(c)
    assert len(windows) == 9
    assert committed_amount(c, windows[-1]) == D(15000)
    assert committed_amount(c, windows[-2]) == D(20000)


def test_proration_is_unrounded() -> None:
    c = commitment(CommitmentType.SPEND, "2024-01-01", "2024-01-11", ramp((1, "100")))
    assert committed_amount(c, commitment_windows(c)[0]) == F(100) * 10 / 31
    assert committed_amount(c, commitment_windows(c)[0]) != D("32.26")
