"""Closing one billing period: SPEC §9 steps 2–5 as one pure function.

``close_period`` rates the period, adds the commitment fees it bills (due in it, or in the next
period for fees billed in advance, SPEC §16), draws the charges down on the
credit pools, adds overage surcharges, and settles every commitment window that ends with the
period (expiry, rollover, true-up, penalties). It returns the invoice lines, the ledger entries,
the pools as they stand afterwards and what each ending window measured; the services layer
persists them (step 6). Same input, same output, whatever the order of the input tuples.

Ledger entries written by a close are dated on the period's end (the day it is over), except a
balance or rollover credit expiring at its own end date, which is dated on that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.billing import postpaid
from app.billing.calendar import Period, billing_periods, commitment_windows, period_containing
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.drawdown import Draw, check_unique_charges, draw_down, drawn_per_charge
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.invoice import Invoice, InvoiceLine, describe_charge, order_lines
from app.billing.labels import pool_label
from app.billing.ledger import Book, EntryKind, LedgerEntry, Pool, entry, sort_pools
from app.billing.prepaid import find_overages, overage_lines
from app.billing.rating import rate_period
from app.billing.renewal import Successor, by_renewed, roll_target
from app.billing.terms import (
    Commitment,
    ContractTerms,
    DateRange,
    LineType,
    PaymentTiming,
    in_creation_order,
)
from app.billing.termination_close import fee_lines, final_lines
from app.billing.window_end import WindowResult, ending_windows, settle_window

ZERO = Decimal(0)


@dataclass(frozen=True)
class CloseInput:
    """Everything one close needs. ``usage`` holds usage totals per class and billing period for
    this period and for the earlier periods of any window still open; ``prior_charges`` the rated
    charges of those earlier periods; ``pools`` the pools of the contract and its account's
    balances as they stand — all of them, or at least every pool valid on a day of the period and
    every paying pool that ended before it with something left (the only pools a close reads or
    moves: a pool valid only after the period is never drawn, expired or settled by it);
    ``next_seq`` the creation order of the next new pool when ``pools`` are not all of them (one
    past the highest ``seq`` of all), ``None`` to take it from ``pools``; ``successors`` the
    renewing commitments of an ACTIVE successor contract (SPEC §15), into whose first window the
    rollover of a last window goes; ``fees_billed`` the ``COMMITMENT_FEE`` total billed on the
    contract's earlier invoices per commitment key (read only when the contract is terminated: its
    final invoice settles the fees, SPEC §14)."""

    terms: ContractTerms
    period: Period
    usage: tuple[UsageTotal, ...] = ()
    one_time: tuple[OneTimeCharge, ...] = ()
    prior_charges: tuple[Charge, ...] = ()
    pools: tuple[Pool, ...] = ()
    next_seq: int | None = None
    successors: tuple[Successor, ...] = ()
    fees_billed: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class CloseResult:
    """The outcome of closing one billing period (nothing of it is persisted yet)."""

    currency: str
    period: Period
    lines: tuple[InvoiceLine, ...]
    entries: tuple[LedgerEntry, ...]
    pools: tuple[Pool, ...]
    charges: tuple[Charge, ...]
    draws: tuple[Draw, ...]
    windows: tuple[WindowResult, ...]

    @property
    def invoice(self) -> Invoice:
        """The period's invoice (its totals are sums of the rounded lines)."""
        return Invoice(self.currency, self.period.span, self.lines)

    @property
    def total(self) -> Decimal:
        """The amount due for the period."""
        return self.invoice.total


def check_period(terms: ContractTerms, period: Period) -> None:
    """Refuse a period that is not one of the contract's billing periods (``INVALID_PERIOD``)."""
    if period not in billing_periods(terms):
        raise BillingError(
            BillingErrorCode.INVALID_PERIOD,
            f"{period.span.start}–{period.span.end} is not a billing period of the contract",
            "period",
        )


def period_usage(usage: Iterable[UsageTotal], span: DateRange) -> dict[str, Decimal]:
    """Total quantity per usage class of the usage totals lying inside ``span``."""
    totals: dict[str, Decimal] = {}
    for total in usage:
        if span.start <= total.span.start and total.span.end <= span.end:
            totals[total.usage_class] = totals.get(total.usage_class, ZERO) + total.quantity
    return totals


def _drawdown_lines(
    draws: Sequence[Draw], charges: Sequence[Charge], book: Book, terms: ContractTerms
) -> list[InvoiceLine]:
    """One negative DRAWDOWN line per draw, naming the pool that paid."""
    by_key = {charge.key: charge for charge in charges}
    commitments = {c.key: c for c in terms.commitments}
    lines = []
    for draw in draws:
        charge, pool = by_key[draw.charge_key], book.pools[draw.pool_key]
        owner = commitments.get(pool.commitment_key or "")
        lines.append(
            InvoiceLine(
                type=LineType.DRAWDOWN,
                amount=-draw.amount,
                description=f"{describe_charge(charge)} paid from {pool_label(pool, owner)}",
                service_period=charge.service_period,
                product=charge.product or None,
                charge_key=charge.key,
                commitment_key=pool.commitment_key,
                pool_key=pool.key,
                window_index=pool.window_index,
            )
        )
    return lines


def _draw(
    inp: CloseInput, charges: Sequence[Charge], book: Book
) -> tuple[list[InvoiceLine], tuple[Draw, ...]]:
    """Step 4: drawdown, its CONSUME entries and lines, then prepaid overage and surcharges."""
    terms, span = inp.terms, inp.period.span
    draws = draw_down(charges, tuple(book.pools.values()), terms.drawdown_order, span)
    lines = _drawdown_lines(draws, charges, book, terms)
    book.post(
        [
            entry(
                book.pools[d.pool_key],
                EntryKind.CONSUME,
                d.amount,
                span.end,
                charge_key=d.charge_key,
            )
            for d in draws
        ]
    )
    overages = find_overages(
        _sorted(terms.commitments),
        charges,
        drawn_per_charge(draws),
        tuple(book.pools.values()),
        span,
    )
    return [*overage_lines(charges, overages, terms.currency), *lines], draws


def _track(inp: CloseInput, charges: Sequence[Charge], book: Book) -> list[InvoiceLine]:
    """Postpaid commitments: tracking consumption and the period's overage surcharge."""
    lines = []
    for commitment in _sorted(inp.terms.commitments):
        if commitment.payment is not PaymentTiming.POSTPAID:
            continue
        window = period_containing(commitment_windows(commitment), inp.period.span.start)
        if window is None:
            continue
        book.post(postpaid.track(commitment, window, charges, book.pools, inp.period.span.end))
        line = postpaid.surcharge_line(
            commitment, window, inp.prior_charges, charges, inp.period.span, inp.terms.currency
        )
        if line is not None:
            lines.append(line)
    return lines


def _expire_ended(span: DateRange, book: Book) -> None:
    """Every paying pool whose validity is over by the period's end loses what is left."""
    for pool in sort_pools(book.pools.values()):
        if pool.kind.pays and pool.balance > 0 and pool.valid.end <= span.end:
            book.post(
                [
                    entry(
                        pool, EntryKind.EXPIRE, pool.balance, pool.valid.end, note="end of validity"
                    )
                ]
            )


def _sorted(commitments: Iterable[Commitment]) -> list[Commitment]:
    return in_creation_order(commitments)


def close_period(inp: CloseInput) -> CloseResult:
    """Close ``inp.period``: SPEC §9 steps 2–5. See the module docstring."""
    terms, period = inp.terms, inp.period
    check_period(terms, period)
    charges = rate_period(terms, period, period_usage(inp.usage, period.span), inp.one_time)
    check_unique_charges(charges)
    book = Book(inp.pools, inp.next_seq)
    fees = fee_lines(terms, period, inp.fees_billed)
    drawn, draws = _draw(inp, charges, book)
    lines = [*drawn, *fees, *_track(inp, charges, book)]
    results = []
    every = (*inp.prior_charges, *charges)
    successors = by_renewed(inp.successors)
    for commitment in _sorted(terms.commitments):
        for window, next_window in ending_windows(commitment, period.span):
            target = roll_target(commitment, next_window, successors)
            result, more = settle_window(
                terms,
                commitment,
                (window, target.window),
                usage=inp.usage,
                charges=every,
                on=period.span.end,
                book=book,
                into=target.commitment,
                last=next_window is None,
            )
            results.append(result)
            lines.extend(more)
    lines.extend(final_lines(terms, period))
    _expire_ended(period.span, book)
    return CloseResult(
        currency=terms.currency,
        period=period,
        lines=order_lines(lines),
        entries=tuple(book.entries),
        pools=sort_pools(book.pools.values()),
        charges=charges,
        draws=draws,
        windows=tuple(results),
    )
