"""The end of a commitment window (SPEC §6, §8; §9 step 5).

For every window that ends with the billing period being closed: measure it, let its money
settlement (prepaid expiry / rollover, postpaid true-up / rollover credit) move its pool, and bill
each penalty on a shortfall as a ``PENALTY`` line. Penalties are never drawn down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.calendar import Period, commitment_windows
from app.billing.charges import Charge, UsageTotal
from app.billing.credit import WindowClose
from app.billing.invoice import InvoiceLine
from app.billing.ledger import Book
from app.billing.measures import Measurement, measure
from app.billing.money import round_money
from app.billing.penalties import penalty_amount
from app.billing.settlement import settlement_for
from app.billing.labels import money_text, quantity_text, window_label
from app.billing.make_good import (
    Carry,
    CarriedIn,
    carries,
    carry_into,
    left_measurement,
    own_shortfall,
    recover,
    release,
    tracking_pool_of,
)
from app.billing import postpaid
from app.billing.terms import Commitment, CommitmentType, ContractTerms, DateRange, LineType

ZERO = Decimal(0)


@dataclass(frozen=True)
class WindowResult:
    """A commitment window that ended with the period: what it measured and what it billed.

    ``penalties`` holds each of the commitment's penalties, rounded, in their order (0 if none);
    ``true_up``, ``rolled_over`` and ``expired`` are what its money pool did (0 without one).
    Make-good (SPEC §18): ``carried`` is the shortfall this window carried into the next window
    (then nothing of it is settled now), ``carried_in`` what became of the shortfall the previous
    window carried into this one (a window with one settles its own shortfall at its end too).
    """

    commitment_key: str
    window: Period
    measurement: Measurement
    true_up: Decimal
    penalties: tuple[Decimal, ...]
    rolled_over: Decimal
    expired: Decimal
    carried: Decimal = ZERO
    carried_in: CarriedIn | None = None


def ending_windows(commitment: Commitment, span: DateRange) -> list[tuple[Period, Period | None]]:
    """The commitment's windows ending inside ``span`` (ends are exclusive), each with the next
    window of the commitment's term (``None`` for the last: nothing rolls past the term).

    A commitment an amendment ended at ``e`` (SPEC §13) was cut there: its window in progress now
    ends on ``e``, the start of the first period billed by the amended terms, whose close settles
    it (the period ending on ``e`` was billed by the terms before the amendment, which did not end
    the window)."""
    windows = commitment_windows(commitment)
    cut_here = commitment.uncut_end is not None and commitment.term.end == span.start
    return [
        (w, windows[i + 1] if i + 1 < len(windows) else None)
        for i, w in enumerate(windows)
        if span.start < w.span.end <= span.end or (cut_here and w.span.end == span.start)
    ]


def window_charges_total(span: DateRange, charges: Iterable[Charge]) -> Decimal:
    """*B* of a CHARGE penalty: every drawable charge whose service period lies in the window
    (the same rule as a SPEND measure), at its rated amount, before any drawdown."""
    return sum(
        (
            c.amount
            for c in charges
            if span.start <= c.service_period.start and c.service_period.end <= span.end
        ),
        ZERO,
    )


def shortfall_text(commitment: Commitment, m: Measurement, currency: str) -> str:
    """The shortfall as a person reads it: money at the minor unit, else the exact quantity."""
    if commitment.type is CommitmentType.SPEND:
        return money_text(m.shortfall, currency)
    return quantity_text(m.shortfall)


def penalty_lines(
    commitment: Commitment, window: Period, m: Measurement, total: Decimal, currency: str
) -> tuple[tuple[Decimal, ...], list[InvoiceLine]]:
    """Each penalty's rounded amount, and a ``PENALTY`` line for each that is not zero."""
    amounts = tuple(
        round_money(penalty_amount(p, m, total), currency) for p in commitment.penalties
    )
    lines = [
        InvoiceLine(
            type=LineType.PENALTY,
            amount=amount,
            description=f"{p.kind.value.lower()} penalty of {commitment.label} for "
            f"{window_label(window.span, commitment)}: {shortfall_text(commitment, m, currency)} short",
            service_period=window.span,
            commitment_key=commitment.key,
            window_index=window.index,
        )
        for p, amount in zip(commitment.penalties, amounts, strict=True)
        if amount != 0
    ]
    return amounts, lines


def settle_window(
    terms: ContractTerms,
    commitment: Commitment,
    windows: tuple[Period, Period | None],
    *,
    usage: Sequence[UsageTotal],
    charges: Sequence[Charge],
    on: date,
    book: Book,
    into: Commitment | None = None,
    last: bool = True,
) -> tuple[WindowResult, list[InvoiceLine]]:
    """Settle one ending window: its money pool (posted to ``book``), then its penalties.

    ``charges`` are every drawable charge known (earlier periods' and this one's); ``windows`` is
    the ending window and the window its rollover goes to, of ``into`` (default: the same
    commitment; for a last window, the renewing commitment's first window, SPEC §15). ``last``:
    the window is the last of the commitment's term (a make-good commitment carries the shortfall
    of any other window, SPEC §18; the caller's default keeps every window settling at its end).
    """
    window, next_window = windows
    m = measure(
        commitment,
        window,
        usage=usage,
        service_lines=terms.service_lines,
        charges=charges,
        currency=terms.currency,
    )
    carry = carry_into(terms, commitment, window, usage=usage, charges=charges, pools=book.pools)
    carried_in: CarriedIn | None = None
    carried_lines: list[InvoiceLine] = []
    if carry is not None:
        carried_in, carried_lines = _settle_carried(terms, commitment, carry, m, charges, on, book)
    own = own_shortfall(m, tracking_pool_of(commitment, window, book.pools))
    if carries(commitment, last, own, carry):
        result = WindowResult(
            commitment.key, window, m, ZERO, tuple(ZERO for _ in commitment.penalties), ZERO, ZERO,
            carried=own, carried_in=carried_in,
        )
        return result, carried_lines
    settlement = settlement_for(commitment)
    done = WindowClose()
    if settlement is not None:
        done = settlement.close_window(
            commitment, window, next_window, book.pools, on, book.seq, terms.currency, into
        )
        book.post(done.entries, done.new_pools)
    total = window_charges_total(window.span, charges)
    amounts, lines = penalty_lines(commitment, window, m, total, terms.currency)
    result = WindowResult(
        commitment.key, window, m, done.true_up, amounts, done.rolled_over, done.expired,
        carried_in=carried_in,
    )
    return result, [*carried_lines, *done.lines, *lines]


def _settle_carried(
    terms: ContractTerms,
    commitment: Commitment,
    carry: Carry,
    current: Measurement,
    charges: Sequence[Charge],
    on: date,
    book: Book,
) -> tuple[CarriedIn, list[InvoiceLine]]:
    """The carried shortfall of window k at the end of window k + 1: recovered by its excess,
    the rest settled (true-up and penalties naming window k), its tracking pool released."""
    recovered, left = recover(carry, current)
    book.post(release(carry, recovered, on))
    lines: list[InvoiceLine] = []
    true_up = ZERO
    if left > 0 and carry.pool is not None and commitment.true_up:
        true_up = left
        lines.append(postpaid.true_up_line(commitment, carry.window, carry.pool, left))
    total = window_charges_total(carry.window.span, charges)
    amounts, penalties = penalty_lines(
        commitment, carry.window, left_measurement(carry, left), total, terms.currency
    )
    lines.extend(penalties)
    return CarriedIn(carry.window, carry.carried, recovered, left, true_up, amounts), lines
