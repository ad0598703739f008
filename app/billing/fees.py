"""The commitment fee of a prepaid commitment (SPEC §6).

The commitment's total *T* is the sum of its window pools, each rounded to the minor unit.
``amountPrepaid`` was paid outside the service and is never billed; ``amountFirstBill`` is billed
in the billing period where the commitment starts; the rest ``T − amountPrepaid −
amountFirstBill`` (never negative) is billed either in equal parts on every billing period of the
commitment (``BILLING_PLAN``) or on explicit fee dates (``FEE_DATES``). Every fee is a
``COMMITMENT_FEE`` line, billed whatever the usage; nothing draws it down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache

from app.billing.calendar import Period, billing_periods, commitment_windows
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.guards import require_non_negative
from app.billing.invoice import InvoiceLine
from app.billing.labels import day_label, money_text
from app.billing.money import exact, round_down_money, round_money
from app.billing.ramps import committed_amount
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    DateRange,
    FeeBilling,
    FeeSchedule,
    Frequency,
    LineType,
    PaymentTiming,
    RampStep,
)

ZERO = Decimal(0)
CODE = BillingErrorCode.INVALID_FEE_SCHEDULE


def is_prepaid(commitment: Commitment) -> bool:
    """True for a prepaid money commitment (the only kind with a commitment fee)."""
    return commitment.payment is PaymentTiming.PREPAID


def window_pool_amounts(commitment: Commitment, currency: str) -> tuple[Decimal, ...]:
    """The committed amount of every window, rounded to the minor unit (the pools' contents).

    Computed once per shape and kept (``_pool_amounts``, bounded): the amounts depend only on the
    type, term, frequency, ramp and proration, which many contracts share, and recomputing every
    window with Fractions on every close (for the fee schedule) was a cost of every close.
    """
    return _pool_amounts(
        commitment.type, commitment.term, commitment.frequency, commitment.ramp, commitment.prorate, currency,
        commitment.uncut_end,
    )


@lru_cache(maxsize=4096)
def _pool_amounts(
    kind: CommitmentType, term: DateRange, frequency: Frequency, ramp: tuple[RampStep, ...],
    prorate: bool, currency: str, uncut_end: date | None = None,
) -> tuple[Decimal, ...]:
    shape = Commitment(key="", type=kind, term=term, frequency=frequency, ramp=ramp, prorate=prorate,
                       uncut_end=uncut_end)
    return tuple(
        round_money(committed_amount(shape, window), currency) for window in commitment_windows(shape)
    )


def commitment_total(commitment: Commitment, currency: str) -> Decimal:
    """*T*: the sum of the commitment's rounded window pools."""
    return sum(window_pool_amounts(commitment, currency), ZERO)


def outstanding_fee(commitment: Commitment, currency: str) -> Decimal:
    """``T − amountPrepaid − amountFirstBill``; ``INVALID_FEE_SCHEDULE`` if negative."""
    fees = commitment.fees
    rest = commitment_total(commitment, currency) - fees.amount_prepaid - fees.amount_first_bill
    if rest < 0:
        raise BillingError(
            CODE,
            f"{commitment.label}: amountPrepaid + amountFirstBill exceed the "
            f"commitment's total {money_text(commitment_total(commitment, currency), currency)}",
            "fees",
        )
    return rest


def commitment_periods(terms: ContractTerms, commitment: Commitment) -> tuple[Period, ...]:
    """The contract's billing periods that overlap the commitment's term."""
    return tuple(p for p in billing_periods(terms) if p.span.overlaps(commitment.term))


def plan_parts(rest: Decimal, count: int, currency: str) -> tuple[Decimal, ...]:
    """``rest`` in ``count`` parts: each ``rest ÷ count`` rounded half up, the last taking the
    difference so the parts add up exactly.

    When rounding half up would leave the last part negative (a rest of a few minor units spread
    over many periods), the parts are rounded down instead, so no fee line is ever negative.
    """
    if count < 1:
        raise BillingError(CODE, "a billing plan needs at least one billing period", "fees")
    share = exact(rest) / count
    part = round_money(share, currency)
    if part * (count - 1) > rest:
        part = round_down_money(share, currency)
    return (part,) * (count - 1) + (rest - part * (count - 1),)


def _check_exact(amount: Decimal, currency: str, what: str) -> None:
    require_non_negative(amount, CODE, "fees", what)
    if amount != round_money(amount, currency):
        raise BillingError(
            CODE, f"{what} ({amount}) has more decimals than {currency} allows", "fees"
        )


def _check_fee_dates(
    commitment: Commitment, fees: FeeSchedule, rest: Decimal, currency: str
) -> None:
    if not fees.fee_dates:
        raise BillingError(
            CODE, f"{commitment.label}: FEE_DATES needs fee dates", "feeDates"
        )
    for item in fees.fee_dates:
        _check_exact(item.amount, currency, f"the fee on {item.date}")
        if not commitment.term.contains(item.date):
            raise BillingError(
                BillingErrorCode.DATE_OUTSIDE_TERM,
                f"{commitment.label}: fee date {item.date} is outside its term",
                "feeDates",
            )
    total = sum((item.amount for item in fees.fee_dates), ZERO)
    if total != rest:
        raise BillingError(
            CODE,
            f"{commitment.label}: the fee dates add up to {money_text(total, currency)}, "
            f"not to the outstanding fee {money_text(rest, currency)}",
            "feeDates",
        )


def validate_fee_schedule(terms: ContractTerms, commitment: Commitment) -> None:
    """Refuse a fee schedule that cannot be billed exactly (usable at draft time).

    Only prepaid commitments have one (any other commitment must keep the default schedule).
    Amounts are ≥ 0 and exact in the currency's minor unit; the outstanding fee is never negative;
    ``FEE_DATES`` needs dates inside the commitment's term adding up to it exactly;
    ``BILLING_PLAN`` takes no fee dates.
    """
    fees = commitment.fees
    if not is_prepaid(commitment):
        if fees != FeeSchedule():
            raise BillingError(
                CODE,
                f"{commitment.label}: only prepaid commitments have a fee schedule",
                "fees",
            )
        return
    _check_exact(fees.amount_prepaid, terms.currency, "amountPrepaid")
    _check_exact(fees.amount_first_bill, terms.currency, "amountFirstBill")
    rest = outstanding_fee(commitment, terms.currency)
    if fees.billing is FeeBilling.FEE_DATES:
        _check_fee_dates(commitment, fees, rest, terms.currency)
    elif fees.fee_dates:
        raise BillingError(
            CODE, f"{commitment.label}: a BILLING_PLAN takes no fee dates", "feeDates"
        )


def _fee_line(
    commitment: Commitment, period: Period, amount: Decimal, description: str
) -> InvoiceLine:
    return InvoiceLine(
        type=LineType.COMMITMENT_FEE,
        amount=amount,
        description=f"commitment fee of {commitment.label}: {description}",
        service_period=period.span,
        commitment_key=commitment.key,
    )


def fee_lines_for_period(
    terms: ContractTerms, commitment: Commitment, period: Period
) -> tuple[InvoiceLine, ...]:
    """The ``COMMITMENT_FEE`` lines of ``commitment`` due in billing ``period`` (none if zero).

    First bill, then the billing-plan part or the fee dates falling in the period (by date).
    """
    if not is_prepaid(commitment):
        return ()
    fees = commitment.fees
    lines: list[InvoiceLine] = []
    if period.span.contains(commitment.term.start) and fees.amount_first_bill > 0:
        lines.append(_fee_line(commitment, period, fees.amount_first_bill, "first bill"))
    if fees.billing is FeeBilling.BILLING_PLAN:
        lines.extend(_plan_lines(terms, commitment, period))
    else:
        for item in sorted(fees.fee_dates, key=lambda f: (f.date, f.amount)):
            if period.span.contains(item.date) and item.amount > 0:
                lines.append(_fee_line(commitment, period, item.amount, f"due {day_label(item.date)}"))
    return tuple(lines)


def _plan_lines(
    terms: ContractTerms, commitment: Commitment, period: Period
) -> Sequence[InvoiceLine]:
    periods = commitment_periods(terms, commitment)
    numbers = [p.index for p in periods]
    if period.index not in numbers:
        return ()
    parts = plan_parts(outstanding_fee(commitment, terms.currency), len(periods), terms.currency)
    position = numbers.index(period.index)
    amount = parts[position]
    if amount <= 0:
        return ()
    label = f"instalment {position + 1} of {len(periods)}"
    return (_fee_line(commitment, period, amount, label),)
