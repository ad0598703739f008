"""Invoice lines and totals (SPEC §5, §9).

Every line amount is already rounded to the currency's minor unit when the line is made; totals
are plain sums of those rounded amounts, so an invoice always adds up to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from app.billing.charges import Charge
from app.billing.terms import DateRange, LineType

ZERO = Decimal(0)


class InvoiceKind(str, Enum):
    """What wrote an invoice: a period's close, or (fees billed in advance, SPEC §16) activation."""

    PERIOD = "PERIOD"
    ACTIVATION = "ACTIVATION"

CHARGE_LINE_TYPES: frozenset[LineType] = frozenset(
    {
        LineType.USAGE,
        LineType.RECURRING,
        LineType.STANDING,
        LineType.MINIMUM_SPEND,
        LineType.ONE_TIME,
        LineType.OVERAGE,
    }
)
"""Lines that carry the period's drawable charges (an OVERAGE line is the split-off part of one)."""

LINE_ORDER: tuple[LineType, ...] = (
    LineType.USAGE,
    LineType.RECURRING,
    LineType.STANDING,
    LineType.MINIMUM_SPEND,
    LineType.ONE_TIME,
    LineType.OVERAGE,
    LineType.COMMITMENT_FEE,
    LineType.OVERAGE_SURCHARGE,
    LineType.DRAWDOWN,
    LineType.TRUE_UP,
    LineType.PENALTY,
    LineType.TERMINATION_FEE,
)
"""The order in which line types appear on an invoice."""


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice. ``amount`` is rounded; DRAWDOWN lines are negative."""

    type: LineType
    amount: Decimal
    description: str
    service_period: DateRange
    product: str | None = None
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    charge_key: str | None = None
    commitment_key: str | None = None
    pool_key: str | None = None
    window_index: int | None = None


@dataclass(frozen=True)
class Invoice:
    """The lines of one closed billing period, with totals that are sums of those lines."""

    currency: str
    period: DateRange
    lines: tuple[InvoiceLine, ...]

    def total_of(self, *types: LineType) -> Decimal:
        """Sum of the lines of the given types."""
        return sum_lines(line for line in self.lines if line.type in types)

    @property
    def charges_subtotal(self) -> Decimal:
        """The period's drawable charges as billed (including split-off OVERAGE lines)."""
        return self.total_of(*CHARGE_LINE_TYPES)

    @property
    def drawdown_total(self) -> Decimal:
        """What credit pools paid (a negative figure)."""
        return self.total_of(LineType.DRAWDOWN)

    @property
    def total(self) -> Decimal:
        """The amount due: the sum of every rounded line."""
        return sum_lines(self.lines)


def sum_lines(lines: Iterable[InvoiceLine]) -> Decimal:
    """Sum of line amounts (each already rounded)."""
    return sum((line.amount for line in lines), ZERO)


def charge_line(charge: Charge, amount: Decimal | None = None) -> InvoiceLine:
    """The invoice line of a drawable charge (``amount`` overrides when overage is split off)."""
    return InvoiceLine(
        type=LineType(charge.type.value),
        amount=charge.amount if amount is None else amount,
        description=describe_charge(charge),
        service_period=charge.service_period,
        product=charge.product or None,
        quantity=charge.quantity,
        unit_amount=charge.unit_amount,
        charge_key=charge.key,
    )


def describe_charge(charge: Charge) -> str:
    """A short human description of a charge line."""
    label = charge.type.value.replace("_", " ").lower()
    if charge.product in ("standing", "minimum_spend") or not charge.product:
        return {"standing": "standing charge", "minimum_spend": "minimum spend top-up"}.get(
            charge.product, label
        )
    return f"{label}: {charge.product}"


def order_lines(lines: Sequence[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    """Lines grouped by type in ``LINE_ORDER``, keeping their (canonical) order within a type."""
    rank = {line_type: index for index, line_type in enumerate(LINE_ORDER)}
    return tuple(sorted(lines, key=lambda line: rank[line.type]))
