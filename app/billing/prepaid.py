"""Prepaid money commitments (SPEC §6, prepaid): window pools, overage and window-end rollover.

A prepaid commitment holds one PREPAID pool per window. Charges draw it down (``drawdown``);
what an eligible charge still owes once every pool of every prepaid commitment it is eligible for
is empty for the period is *overage*: it stays on the invoice and carries an ``OVERAGE_SURCHARGE``
(or, with ``separateOverage``, is split off as its own ``OVERAGE`` line). At the window's end the
pool's remainder expires, or part of it rolls into a ROLLOVER pool for the next window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.calendar import Period
from app.billing.charges import Charge
from app.billing.credit import WindowClose, pool_key, rollover_amount, rollover_pool, window_pool
from app.billing.drawdown import ordered_charges, pool_order_key
from app.billing.invoice import InvoiceLine, charge_line
from app.billing.ledger import EntryKind, Pool, PoolKind, entry
from app.billing.measures import is_eligible
from app.billing.labels import money_text, percent_text
from app.billing.money import exact, round_money
from app.billing.terms import Commitment, DateRange, LineType, PaymentTiming

ZERO = Decimal(0)
POOL_KIND = PoolKind.PREPAID


def new_window_pool(commitment: Commitment, window: Period, seq: int) -> Pool:
    """The (empty) PREPAID pool of ``window``; activation fills it with an ISSUE entry."""
    return window_pool(commitment, POOL_KIND, window, seq)


@dataclass(frozen=True)
class Overage:
    """``amount`` of charge ``charge`` left unpaid with its prepaid commitments empty.

    ``commitment`` is the first qualifying commitment in drawdown order: it sets the surcharge.
    """

    charge: Charge
    amount: Decimal
    commitment: Commitment

    @property
    def separate(self) -> bool:
        """Shown as its own OVERAGE line (only when no surcharge applies)."""
        return self.commitment.separate_overage and self.commitment.overage_surcharge_percent == 0


def _commitment_pools(pools: Sequence[Pool], commitment: Commitment, span: DateRange) -> list[Pool]:
    return [
        p
        for p in pools
        if p.commitment_key == commitment.key
        and p.kind.is_commitment_credit
        and p.valid.overlaps(span)
    ]


def _first_in_drawdown_order(
    qualifying: Sequence[Commitment], pools: Sequence[Pool], span: DateRange
) -> Commitment:
    """The commitment whose first pool (valid this period) comes first in drawdown order."""

    def rank(commitment: Commitment) -> tuple[int, object, int, str]:
        own = sorted(_commitment_pools(pools, commitment, span), key=pool_order_key)
        first = pool_order_key(own[0]) if own else ()
        return (0 if own else 1, first, commitment.seq, commitment.key)

    return min(qualifying, key=rank)


def find_overages(
    commitments: Sequence[Commitment],
    charges: Sequence[Charge],
    drawn: Mapping[str, Decimal],
    pools_after: Sequence[Pool],
    span: DateRange,
) -> tuple[Overage, ...]:
    """The overage of every charge, in charge order (``pools_after`` are after the drawdown).

    A charge has overage when it still owes something, it is eligible for at least one prepaid
    commitment in force this period, and every pool of those commitments valid this period is
    empty.
    """
    prepaid = [
        c for c in commitments if c.payment is PaymentTiming.PREPAID and c.term.overlaps(span)
    ]
    result: list[Overage] = []
    for charge in ordered_charges(charges):
        owed = charge.amount - drawn.get(charge.key, ZERO)
        qualifying = [c for c in prepaid if is_eligible(c, charge)]
        if owed <= 0 or not qualifying:
            continue
        if any(p.balance > 0 for c in qualifying for p in _commitment_pools(pools_after, c, span)):
            continue
        result.append(
            Overage(charge, owed, _first_in_drawdown_order(qualifying, pools_after, span))
        )
    return tuple(result)


def overage_lines(
    charges: Sequence[Charge], overages: Sequence[Overage], currency: str
) -> tuple[InvoiceLine, ...]:
    """The charge lines (overage split off where separate), OVERAGE and OVERAGE_SURCHARGE lines."""
    by_charge = {o.charge.key: o for o in overages}
    lines: list[InvoiceLine] = []
    for charge in ordered_charges(charges):
        found = by_charge.get(charge.key)
        if found is None:
            lines.append(charge_line(charge))
        elif found.separate:
            lines.append(charge_line(charge, charge.amount - found.amount))
            lines.append(_overage_line(found, LineType.OVERAGE, found.amount, "overage beyond prepaid credit"))
        else:
            lines.append(charge_line(charge))
            percent = found.commitment.overage_surcharge_percent
            surcharge = round_money(exact(found.amount) * exact(percent) / 100, currency)
            if surcharge != 0:
                label = (f"overage surcharge {percent_text(percent)} on "
                         f"{money_text(found.amount, currency)} of overage")
                lines.append(_overage_line(found, LineType.OVERAGE_SURCHARGE, surcharge, label))
    return tuple(lines)


def _overage_line(found: Overage, type_: LineType, amount: Decimal, label: str) -> InvoiceLine:
    return InvoiceLine(
        type=type_,
        amount=amount,
        description=f"{label}: {found.charge.product or found.charge.type.value.lower()}",
        service_period=found.charge.service_period,
        product=found.charge.product or None,
        charge_key=found.charge.key,
        commitment_key=found.commitment.key,
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
    """At the window's end: roll ``min(remainder × fraction, cap)`` into a ROLLOVER pool for the
    next window (if there is one in the commitment's term, or the first window of the renewing
    commitment ``into``, SPEC §15) and expire the rest.

    New pools come back empty; the caller applies ``entries`` (in order) to fill them.
    """
    pool = pools.get(pool_key(POOL_KIND, commitment.key, window.index))
    if pool is None or pool.balance <= 0:
        return WindowClose()
    remainder = pool.balance
    rolled = rollover_amount(commitment, remainder, currency) if next_window else ZERO
    entries = []
    new_pools: tuple[Pool, ...] = ()
    if rolled > 0 and next_window is not None:
        entries.append(entry(pool, EntryKind.ROLLOVER_OUT, rolled, on, note="rollover"))
        target = rollover_pool(into or commitment, next_window, seq)
        entries.append(entry(target, EntryKind.ROLLOVER_IN, rolled, on, note=f"from {pool.key}"))
        new_pools = (target,)
    if remainder - rolled > 0:
        entries.append(entry(pool, EntryKind.EXPIRE, remainder - rolled, on, note="window end"))
    return WindowClose(
        entries=tuple(entries), new_pools=new_pools, rolled_over=rolled, expired=remainder - rolled
    )
