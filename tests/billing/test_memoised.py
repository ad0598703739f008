"""The per-terms computations a close repeats are kept, bounded, and give the same figures.

A commitment's window pools and committed amounts depend only on its shape (type, term, frequency,
ramp, proration), not on its key or name: contracts of the same shape share one computation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from money_builders import prepaid

from app.billing import fees, ramps
from app.billing.calendar import commitment_windows
from app.billing.errors import BillingError
from app.billing.terms import DateRange, RampStep


def test_the_window_pools_are_computed_once_per_shape_and_the_cache_is_bounded() -> None:
    term = DateRange(date(2031, 3, 1), date(2031, 7, 10))  # a partial, prorated last window
    first = prepaid("a", "123.457", term)
    other = replace(first, key="b", name="another contract's")
    fees._pool_amounts.cache_clear()
    amounts = fees.window_pool_amounts(first, "USD")
    assert fees.window_pool_amounts(other, "USD") == amounts
    info = fees._pool_amounts.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert info.maxsize is not None and ramps._committed.cache_info().maxsize is not None
    # The kept figures are the ones computed window by window.
    assert amounts == (D("123.46"),) * 4 + (D("35.84"),)  # 123.457 x 9/31


def test_a_ramp_error_is_raised_on_every_call_not_kept() -> None:
    bad = prepaid("x", (RampStep(2, D(5)),), DateRange(date(2031, 1, 1), date(2031, 3, 1)))
    window = commitment_windows(bad)[0]
    for _ in range(2):
        with pytest.raises(BillingError):
            ramps.committed_amount(bad, window)
