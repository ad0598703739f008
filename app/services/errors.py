"""The one enum of error codes the API reports, and the exception services raise with them.

Codes are part of the public API: a member is never renamed or removed. Every code of the billing
core (``BillingErrorCode``) is a member here too, with the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.billing.errors import BillingError, BillingErrorCode

SERVICE_CODES: tuple[str, ...] = (
    "NOT_FOUND",
    "INVALID_ID",
    "INVALID_INPUT",
    "DUPLICATE",
    "WRONG_PRODUCT_KIND",
    "CONTRACT_NOT_DRAFT",
    "IN_USE",
    "INTERNAL_ERROR",
    "CONTRACT_NOT_ACTIVE",
    "NO_OPEN_PERIOD",
    "EARLIER_PERIOD_OPEN",
    "PERIOD_CLOSED",
    "NOT_CONSUMED",
    "POOL_CLOSED",
    "NO_MATCHING_CONTRACT",
    "AMBIGUOUS_CONTRACT",
    "INVALID_TIMESTAMP",
    "PERIOD_NOT_ENDED",
    "NOT_A_CREDIT_POOL",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_KEY_IN_USE",
    "BAD_USER_INPUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COSTLY",
    "TIMEOUT",
    "BAD_REQUEST",
    "METHOD_NOT_ALLOWED",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "HEADERS_TOO_LARGE",
    "SERVICE_UNAVAILABLE",
    "ALREADY_RENEWED",
    "VERSION_CONFLICT",
    "INVALID_TERMINATION_DATE",
    "ALREADY_TERMINATED",
    "NOT_A_POSITIVE_LINE",
    "CREDIT_EXCEEDS_LINE",
)

# One enum: every code of the billing core, then the service's own. Built from both lists so that a
# code added to the core can never be missing here.
ErrorCode = Enum(  # type: ignore[misc]
    "ErrorCode",
    [(c.value, c.value) for c in BillingErrorCode] + [(c, c) for c in SERVICE_CODES],
    type=str,
)
ErrorCode.__doc__ = "Stable machine-readable error codes carried by ``userErrors``."


ERROR_CODE_DESCRIPTIONS: dict[str, str] = {
    "UNKNOWN_CURRENCY": "Not an ISO 4217 currency with a minor unit.",
    "INVALID_AMOUNT": "An amount or quantity has the wrong sign, too many digits or is not finite.",
    "INVALID_INTERVAL": "A date interval is empty or reversed (intervals are [start, end)).",
    "INVALID_RAMP": "Ramp steps must start at window 1, strictly increase and have amounts >= 0.",
    "INVALID_TIERS": "Tiers must ascend strictly with only the last one open.",
    "INVALID_PENALTY": "A penalty lacks what its kind needs or has a negative amount or rate.",
    "INVALID_PRICE": "A price lacks what its pricing model needs, or a usage class is priced twice.",
    "INVALID_COMMITMENT": "A commitment lacks a field its type needs, or has one it cannot use.",
    "MISALIGNED_COMMITMENT": "Commitment windows do not end on billing-period ends.",
    "INVALID_FEE_SCHEDULE": "Fee dates or first-bill/prepaid amounts do not add up to the commitment total.",
    "INVALID_ROLLOVER": "Rollover fraction outside [0, 1], negative cap, or rollover on a non-spend commitment.",
    "INVALID_SURCHARGE": "Overage surcharge below -100 %, or separate overage with a surcharge.",
    "DATE_OUTSIDE_TERM": "A date lies outside the contract's or commitment's term.",
    "INVALID_PERIOD": "The billing period named does not exist or cannot be used.",
    "INSUFFICIENT_BALANCE": "A pool would go negative.",
    "INVALID_LEDGER_ENTRY": "A ledger entry has the wrong sign for its kind or names no pool.",
    "MISSING_POOL": "A credit pool the operation needs does not exist.",
    "INVALID_SERVICE_LINE": "A service line has a negative quantity or price, or dates outside the term.",
    "INVALID_FREQUENCY": "TERM is a commitment frequency only: a contract's billing frequency and a package frequency are MONTHLY, QUARTERLY, SEMI_ANNUAL or ANNUAL.",
    "INVALID_EFFECTIVE_DATE": "An amendment's effective date must be the start of one of the contract's billing periods that is not closed.",
    "FEES_ALREADY_BILLED": "More commitment fees were billed than the amended total allows; amend with creditOverbilledFees: true to credit the difference.",
    "NOT_FOUND": "No such object in your organization.",
    "INVALID_ID": "The id is not a valid global id of the expected type.",
    "INVALID_INPUT": "The input is malformed (e.g. empty name).",
    "DUPLICATE": "An object with this unique key already exists.",
    "WRONG_PRODUCT_KIND": "The product is not of the kind this field needs.",
    "CONTRACT_NOT_DRAFT": "Only draft contracts can be edited or deleted.",
    "IN_USE": "The object is referenced by others and cannot be deleted.",
    "INTERNAL_ERROR": "An unexpected error; nothing was written.",
    "CONTRACT_NOT_ACTIVE": "The contract is not ACTIVE (draft, cancelled or ended) for this operation.",
    "ALREADY_RENEWED": "The contract already has a successor (a renewal that is not cancelled).",
    "VERSION_CONFLICT": "The contract has moved on since the version the amendment names: read Contract.version and amend that.",
    "INVALID_TERMINATION_DATE": "A termination date must be after the start of the contract's first open billing period and not after its current end.",
    "ALREADY_TERMINATED": "The contract is already terminated; it ends with the close of its final period.",
    "NOT_A_POSITIVE_LINE": "Only an invoice line with a positive amount can be credited by issueCreditNote (not a DRAWDOWN or a zero or negative line).",
    "CREDIT_EXCEEDS_LINE": "A credit note would credit more than the invoice line's amount net of earlier credit notes on it; nothing was written.",
    "NO_OPEN_PERIOD": "Every billing period of the contract is already closed.",
    "EARLIER_PERIOD_OPEN": "Billing periods close in order: an earlier period is still open.",
    "PERIOD_CLOSED": "The date falls in a billing period that is already closed.",
    "NOT_CONSUMED": "Only CONSUME ledger entries can be credited back, up to what they consumed.",
    "POOL_CLOSED": "The pool has expired or rolled over: nothing can be credited back to it.",
    "NO_MATCHING_CONTRACT": "No active contract of the account holds the date and prices or commits on the usage class (or the named contract does not).",
    "AMBIGUOUS_CONTRACT": "More than one active contract of the account matches the event: name the contract.",
    "INVALID_TIMESTAMP": "Not an ISO 8601 date-time (one without a UTC offset is taken as UTC).",
    "PERIOD_NOT_ENDED": "The billing period is not due yet: [start, end) may be closed from end + closeGraceDays (UTC).",
    "NOT_A_CREDIT_POOL": "The pool pays no charges (a postpaid tracking pool): credit cannot be given back to it.",
    "IDEMPOTENCY_KEY_REUSED": "The idempotencyKey was used in the last 7 days for another mutation or other arguments; nothing was written.",
    "IDEMPOTENCY_KEY_IN_USE": "A request with this idempotencyKey is still running; nothing was written: retry later.",
    "BAD_USER_INPUT": "(extensions.code) A variable's value, or a value written in the document, does not fit its type (a bad date, decimal, Int, enum value, a missing required variable); extensions.variable is the variable's path. Nothing ran.",
    "GRAPHQL_PARSE_FAILED": "(extensions.code) The document is not valid GraphQL syntax, or has more tokens than allowed. Nothing ran.",
    "GRAPHQL_VALIDATION_FAILED": "(extensions.code) The document does not fit the schema (an unknown field or argument, a missing argument, too deep...). Nothing ran.",
    "QUERY_TOO_COSTLY": "(extensions.code) The operation's calculated cost (extensions.cost.requested) is over the limit (extensions.cost.limit): ask for fewer objects. Nothing ran.",
    "TIMEOUT": "(extensions.code) The request ran longer than the execution timeout and was stopped; a mutation that was running was rolled back.",
    "BAD_REQUEST": "(extensions.code, HTTP 400) The HTTP request is not a GraphQL request: a body that is not UTF-8, not JSON, nested too deeply or not one JSON object; no query, or a query or variables of the wrong type. Nothing ran.",
    "METHOD_NOT_ALLOWED": "(extensions.code, HTTP 405) /graphql takes GET and POST only (see the Allow header). Nothing ran.",
    "UNSUPPORTED_MEDIA_TYPE": "(extensions.code, HTTP 415) A POST to /graphql must be Content-Type: application/json; one to /v1/usage application/x-ndjson or text/csv, optionally gzip. Nothing ran.",
    "PAYLOAD_TOO_LARGE": "(extensions.code, HTTP 413) The request body is over COMMITMENTS_MAX_BODY_BYTES (2 MiB by default). Nothing ran; the connection is closed. On POST /v1/usage: over COMMITMENTS_MAX_INGEST_BYTES or 100,000 events; the events before that point were stored and are counted in the answer.",
    "REQUEST_TIMEOUT": "(extensions.code, HTTP 408) The request body did not arrive within COMMITMENTS_BODY_TIMEOUT seconds. Nothing ran; the connection is closed.",
    "HEADERS_TOO_LARGE": "(extensions.code, HTTP 431) The request line and headers are over COMMITMENTS_MAX_HEADER_BYTES. Nothing ran; the connection is closed.",
    "SERVICE_UNAVAILABLE": "(extensions.code, HTTP 503) The database cannot be reached: retry after the Retry-After header's seconds. Nothing ran.",
}


@dataclass(frozen=True)
class UserError:
    """One problem with the input: a stable code, the input field (a path), a readable message."""

    code: ErrorCode
    message: str
    field: str | None = None


class InvalidInput(Exception):
    """Raised by a service when the request cannot be carried out; nothing has been written."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def fail(code: ErrorCode, message: str, field: str | None = None) -> InvalidInput:
    """Build a one-error ``InvalidInput`` (``raise fail(...)``)."""
    return InvalidInput([UserError(code, message, field)])


def from_billing(error: BillingError, prefix: str | None = None) -> UserError:
    """Map a billing-core error onto the API's code, prefixing its field with the input path."""
    field = error.field
    if prefix:
        field = f"{prefix}.{field}" if field else prefix
    return UserError(ErrorCode(error.code.value), error.message, field)
