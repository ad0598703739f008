"""Postpaid money commitments (SPEC §6, postpaid): tracking, surcharge, true-up and rollover.

Each window of a postpaid commitment has a TRACKING pool holding its committed amount. Eligible
charges are billed in full and consume the tracking pool (never more than is left) without
reducing the invoice; tracking pools pay nothing. At the window's end what is left is the shortfall:
it is billed as a ``TRUE_UP`` line (unless ``trueUp: false``) and leaves the pool (``EXPIRE``). With
rollover on, part of a billed true-up comes back as credit for the next window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from app.billing.calendar import Period
from app.billing.charges import Charge
from app.billing.credit import WindowClose, pool_key, rollover_amount, rollover_pool, window_pool
from app.billing.drawdown import ordered_charges
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.invoice import InvoiceLine
from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind, entry
from app.billing.measures import is_eligible, measured_value
from app.billing.labels import money_text, percent_text, window_label
from app.billing.money import exact, round_money
from app.billing.ramps import committed_amount
from app.billing.terms import Commitment, DateRange, LineType

ZERO = Decimal(0)
POOL_KIND = PoolKind.TRACKING


def new_window_pool(commitment: Commitment, window: Period, seq: int) -> Pool:
    """The (empty) TRACKING pool of ``window``; activation fills it with an ISSUE entry."""
    return window_pool(commitment, POOL_KIND, window, seq)


def tracking_pool(commitment: Commitment, window: Period, pools: Mapping[str, Pool]) -> Pool:
    """The window's tracking pool; ``MISSING_POOL`` if the commitment was never activated."""
    pool = pools.get(pool_key(POOL_KIND, commitment.key, window.index))
    if pool is None:
        raise BillingError(
            BillingErrorCode.MISSING_POOL,
            f"postpaid {commitment.label} has no tracking pool for window "
            f"{window.number}: was the contract activated?",
        )
    return pool


def _inside(inner: DateRange, outer: DateRange) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def track(
    commitment: Commitment,
    window: Period,
    charges: Sequence[Charge],
    pools: Mapping[str, Pool],
    on: date,
) -> tuple[LedgerEntry, ...]:
    """CONSUME entries of the period's eligible charges on the window's tracking pool, in charge
    order, each never more than is left (the invoice is not reduced)."""
    pool = tracking_pool(commitment, window, pools)
    left = pool.balance
    entries: list[LedgerEntry] = []
    for charge in ordered_charges(charges):
        if left <= 0:
            break
        if charge.amount <= 0 or not is_eligible(commitment, charge):
            continue
        if not _inside(charge.service_period, window.span):
            continue
        taken = min(charge.amount, left)
        entries.append(
            entry(pool, EntryKind.CONSUME, taken, on, charge_key=charge.key, note="tracking")
        )
        left -= taken
    return tuple(entries)


def _eligible_spend(commitment: Commitment, span: DateRange, charges: Sequence[Charge]) -> Fraction:
    spend, _ = measured_value(commitment, span, usage=(), service_lines=(), charges=charges)
    return spend


def surcharge_line(
    commitment: Commitment,
    window: Period,
    prior: Sequence[Charge],
    current: Sequence[Charge],
    period: DateRange,
    currency: str,
) -> InvoiceLine | None:
    """The period's ``OVERAGE_SURCHARGE``: ``(max(0, E₁ − C) − max(0, E₀ − C)) × percent ÷ 100``
    with E₀ / E₁ the window's eligible spend before / after this period and C the window's
    committed amount (rounded, as its pool holds it). ``None`` when it rounds to zero."""
    percent = commitment.overage_surcharge_percent
    if percent == 0:
        return None
    committed = exact(round_money(committed_amount(commitment, window), currency))
    before = _eligible_spend(commitment, window.span, prior)
    after = before + _eligible_spend(commitment, window.span, current)
    above = max(Fraction(0), after - committed) - max(Fraction(0), before - committed)
    amount = round_money(above * exact(percent) / 100, currency)
    if amount == 0:
        return None
    return InvoiceLine(
        type=LineType.OVERAGE_SURCHARGE,
        amount=amount,
        description=f"overage surcharge {percent_text(percent)} on {money_text(above, currency)} "
        f"above the {window_label(window.span, commitment)} minimum of {commitment.label}",
        service_period=period,
        commitment_key=commitment.key,
        window_index=window.index,
    )


def true_up_line(
    commitment: Commitment, window: Period, pool: Pool, amount: Decimal
) -> InvoiceLine:
    """The ``TRUE_UP`` line billing a window's shortfall (never drawn down)."""
    return InvoiceLine(
        type=LineType.TRUE_UP,
        amount=amount,
        description=f"true-up of {commitment.label} for {window_label(window.span, commitment)}",
        service_period=window.span,
        commitment_key=commitment.key,
        pool_key=pool.key,
        window_index=window.index,
    )


def close_window(
    commitment: Commitment,
    window: Period,
    next_window: Period | None,
    pools: Mapping[str, Pool],
    on: date,
    seq: int,
    currency: str,
    into: Commitment | None = None,
) -> WindowClose:
    """At the window's end: the tracking pool's remainder is the shortfall S. It expires; it is
    billed as ``TRUE_UP`` unless ``trueUp: false``; a billed true-up with rollover on issues
    ``min(S × fraction, cap)`` as a ROLLOVER credit for the next window of the commitment's term
    (or the first window of the renewing commitment ``into``, SPEC §15).

    New pools come back empty; the caller applies ``entries`` (in order) to fill them.
    """
    pool = tracking_pool(commitment, window, pools)
    shortfall = pool.balance
    if shortfall <= 0:
        return WindowClose()
    entries = [entry(pool, EntryKind.EXPIRE, shortfall, on, note="window end")]
    if not commitment.true_up:
        return WindowClose(entries=tuple(entries), expired=shortfall)
    line = true_up_line(commitment, window, pool, shortfall)
    rolled = rollover_amount(commitment, shortfall, currency) if next_window else ZERO
    new_pools: tuple[Pool, ...] = ()
    if rolled > 0 and next_window is not None:
        target = rollover_pool(into or commitment, next_window, seq)
        entries.append(entry(target, EntryKind.ISSUE, rolled, on, note=f"rollover of {pool.key}"))
        new_pools = (target,)
    return WindowClose(
        entries=tuple(entries),
        new_pools=new_pools,
        lines=(line,),
        true_up=shortfall,
        rolled_over=rolled,
        expired=shortfall,
    )
