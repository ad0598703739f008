"""How invoice lines and messages name things for a finance reader.

Amounts at the currency's minor unit (``1,250.00``-style grouping is left to the reader's client:
``1250.00``), percents without trailing zeros (``10%``, ``12.5%``), commitments by their names,
windows and validities by their dates (``Q1 2026``, ``January 2026``, ``2026``,
``15 Jan 2026 – 31 Mar 2026``, and a ``TERM`` window as ``term 1 Jan 2026 – 31 Dec 2027``), pools by what they are (``Q1 2026 credit of "Annual prepaid"``).
Structured fields (pool, commitment, window number) stay on the lines for programs; these words
are for people.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from app.billing.ledger import Pool, PoolKind
from app.billing.money import Exact, as_quantity, round_money
from app.billing.terms import Commitment, DateRange

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``10``, ``12.5``, ``0.001``."""
    return format(value.normalize(), "f")


def money_text(amount: Exact, currency: str) -> str:
    """``amount`` at the currency's minor unit with its code: ``250.00 GBP``, ``1500 JPY``."""
    return f"{round_money(amount, currency)} {currency}"


def percent_text(percent: Decimal) -> str:
    """A percent without trailing zeros: ``10%``, ``-12.5%``."""
    return f"{plain(percent)}%"


def quantity_text(value: Exact) -> str:
    """A quantity as a person reads it (exact to 12 places, no trailing zeros)."""
    return plain(as_quantity(value))


def day_label(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def span_label(span: DateRange) -> str:
    """A calendar month, quarter, half or year by its name; any other span by its first and last
    days (``15 Jan 2026 – 14 Feb 2026``)."""
    start, end = span.start, span.end
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        if months == 1:
            return f"{MONTHS[start.month - 1]} {start.year}"
        if months == 3 and start.month % 3 == 1:
            return f"Q{start.month // 3 + 1} {start.year}"
        if months == 6 and start.month in (1, 7):
            return f"H{1 if start.month == 1 else 2} {start.year}"
        if months == 12 and start.month == 1:
            return str(start.year)
    return f"{day_label(start)} – {day_label(end - timedelta(days=1))}"


def window_label(span: DateRange, commitment: Commitment | None = None) -> str:
    """A commitment window by its dates: as ``span_label``, except that the one window of a
    ``TERM`` commitment always says so and gives its first and last days (``term 1 Jan 2026 –
    31 Dec 2027``), however many years it spans (a one-year term is not mistaken for ``2026``)."""
    if commitment is not None and commitment.frequency.is_term:
        return f"term {day_label(span.start)} – {day_label(span.end - timedelta(days=1))}"
    return span_label(span)


def commitment_label(commitment: Commitment | None, key: str | None) -> str:
    """A commitment by its name in quotes, else by its key."""
    if commitment is not None:
        return commitment.label
    return f"commitment {key}" if key else "a commitment"


def pool_label(pool: Pool, commitment: Commitment | None = None) -> str:
    """What a pool is, for a line that draws on it: ``Q1 2026 credit of "Annual prepaid"``,
    ``credit rolled into February 2026 from "Monthly minimum"``, ``balance "Welcome credit"``."""
    owner = commitment_label(commitment, pool.commitment_key)
    when = span_label(pool.valid) if pool.kind is PoolKind.ROLLOVER else window_label(pool.valid, commitment)
    if pool.kind is PoolKind.BALANCE:
        return f'balance "{pool.name}"' if pool.name else f"account balance ({when})"
    if pool.kind is PoolKind.ROLLOVER:
        return f"credit rolled into {when} from {owner}"
    if pool.kind is PoolKind.TRACKING:
        return f"{when} minimum of {owner}"
    return f"{when} credit of {owner}"
