"""Adjustments (SPEC §17): credit and debit notes on an issued invoice, and the bounds of a goodwill credit.

Pure: the services hand in the issued line and what was already credited on it, and get back the
kind of the note or the problem with a requested credit.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class AdjustmentKind(str, Enum):
    """A note's kind follows the sign of its total: a credit note lowers the amount due."""

    CREDIT_NOTE = "CREDIT_NOTE"
    DEBIT_NOTE = "DEBIT_NOTE"


class AdjustmentSource(str, Enum):
    """What issued a note: a correction's recomputation, or a goodwill (or dispute) credit."""

    CORRECTION = "CORRECTION"
    GOODWILL = "GOODWILL"


def adjustment_kind(total: Decimal) -> AdjustmentKind:
    """CREDIT_NOTE when ``total`` <= 0 (a zero total is a credit note), else DEBIT_NOTE."""
    return AdjustmentKind.CREDIT_NOTE if total <= ZERO else AdjustmentKind.DEBIT_NOTE


def adjustment_total(amounts: Iterable[Decimal]) -> Decimal:
    """The total of a note: the plain sum of its lines (each already rounded to the currency)."""
    return sum(amounts, ZERO)


def creditable(line_amount: Decimal, credited: Decimal) -> Decimal:
    """What a goodwill note may still credit on an issued line of ``line_amount`` (> 0), given what
    earlier notes credited on it (``credited`` >= 0): never below zero."""
    return max(ZERO, line_amount - credited)


def adjustment_number(contract_id: int, sequence: int) -> str:
    """ADJ-<contract>-<n, 3 digits>: one sequence per contract, from 1."""
    return f"ADJ-{contract_id}-{sequence:03d}"
