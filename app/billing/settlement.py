"""The chooser between the two ways a money commitment is paid (SPEC §6).

A SPEND commitment is prepaid or postpaid; each way is a module (``prepaid`` / ``postpaid``) with
the same two functions, picked here, so no other code branches on the payment timing for them.
Commitments of the other types hold no money pools.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from app.billing import postpaid, prepaid
from app.billing.calendar import Period
from app.billing.credit import WindowClose
from app.billing.ledger import Pool
from app.billing.terms import Commitment, PaymentTiming


class Settlement(Protocol):
    """What the prepaid and postpaid modules both provide."""

    def new_window_pool(self, commitment: Commitment, window: Period, seq: int) -> Pool:
        """The empty pool of one window (PREPAID credit or TRACKING figure)."""
        ...

    def close_window(
        self,
        commitment: Commitment,
        window: Period,
        next_window: Period | None,
        pools: Mapping[str, Pool],
        on: date,
        seq: int,
        currency: str,
        into: Commitment | None = None,
    ) -> WindowClose:
        """What the window's end does to its pool (expiry, rollover, true-up); a rollover goes to
        ``next_window`` of ``into`` (default: the same commitment; a renewal's, SPEC §15)."""
        ...


_SETTLEMENTS: dict[PaymentTiming, Settlement] = {
    PaymentTiming.PREPAID: prepaid,
    PaymentTiming.POSTPAID: postpaid,
}


def settlement_for(commitment: Commitment) -> Settlement | None:
    """The module handling ``commitment``'s money, or ``None`` if it holds no money pools."""
    if commitment.payment is None:
        return None
    return _SETTLEMENTS[commitment.payment]
