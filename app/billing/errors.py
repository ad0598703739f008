"""Errors raised by the billing core, each with a stable code the API maps to a user error."""

from __future__ import annotations

from enum import Enum


class BillingErrorCode(str, Enum):
    """Stable codes of the billing core. Members are never renamed or removed."""

    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_INTERVAL = "INVALID_INTERVAL"
    INVALID_RAMP = "INVALID_RAMP"
    INVALID_TIERS = "INVALID_TIERS"
    INVALID_PENALTY = "INVALID_PENALTY"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_COMMITMENT = "INVALID_COMMITMENT"
    MISALIGNED_COMMITMENT = "MISALIGNED_COMMITMENT"
    INVALID_FEE_SCHEDULE = "INVALID_FEE_SCHEDULE"
    INVALID_ROLLOVER = "INVALID_ROLLOVER"
    INVALID_SURCHARGE = "INVALID_SURCHARGE"
    DATE_OUTSIDE_TERM = "DATE_OUTSIDE_TERM"
    INVALID_PERIOD = "INVALID_PERIOD"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    INVALID_LEDGER_ENTRY = "INVALID_LEDGER_ENTRY"
    MISSING_POOL = "MISSING_POOL"
    INVALID_SERVICE_LINE = "INVALID_SERVICE_LINE"
    INVALID_FREQUENCY = "INVALID_FREQUENCY"
    INVALID_EFFECTIVE_DATE = "INVALID_EFFECTIVE_DATE"
    FEES_ALREADY_BILLED = "FEES_ALREADY_BILLED"


class BillingError(Exception):
    """A rule of SPEC.md refused the input. ``field`` names the offending input, if one does."""

    def __init__(self, code: BillingErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"BillingError({self.code.value}, {self.message!r}, field={self.field!r})"
