"""Draft-time validation of contract terms and commitments, for the API's create/update mutations.

Every problem is a ``BillingError`` with a code and a ``field``: the camelCase name of the GraphQL
input field, as a dotted path from the object validated (``currency``,
``commitments.0.usageClass``, ``prices.1.tiers``, ``serviceLines.2.unitPrice``,
``commitments.0.penalties.1.rate``).

Two ways in:

- ``commitment_errors`` / ``contract_errors`` return *all* problems found (one per independent
  check; a check stops at its first problem), in a stable order, so the API can report them
  together as ``userErrors``;
- ``validate_commitment`` / ``validate_contract_terms`` raise them: a ``ValidationErrors`` (a
  ``BillingError`` whose code, message and field are those of the first problem) carrying them all
  in ``errors``.

Activation (``app.billing`` activation, owned elsewhere) additionally checks the calendar
alignment (``calendar.check_alignment``). The fee schedule of a prepaid commitment is checked here
through ``fees.validate_fee_schedule`` once the commitment is otherwise valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial

from app.billing.calendar import check_billing_frequency
from app.billing.commitment_checks import CHECKS
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.fees import validate_fee_schedule
from app.billing.guards import require_non_negative
from app.billing.money import minor_unit
from app.billing.penalties import validate_penalty
from app.billing.rating import validate_price
from app.billing.terms import (
    Commitment,
    ContractTerms,
    DateRange,
    PaymentTiming,
    Price,
    ProductKind,
    ServiceLine,
)


class ValidationErrors(BillingError):
    """Several problems at once; ``code``, ``message`` and ``field`` are the first one's."""

    def __init__(self, errors: Sequence[BillingError]) -> None:
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self.errors: tuple[BillingError, ...] = tuple(errors)


def _prefixed(error: BillingError, prefix: str) -> BillingError:
    field = f"{prefix}{error.field}" if error.field else prefix.rstrip(".") or None
    return BillingError(error.code, error.message, field)


def _run(checks: Iterable[Callable[[], object]], prefix: str = "") -> list[BillingError]:
    """Run every check; collect what each raises, its field prefixed with ``prefix``."""
    errors: list[BillingError] = []
    for check in checks:
        try:
            check()
        except ValidationErrors as many:
            errors.extend(_prefixed(e, prefix) for e in many.errors)
        except BillingError as error:
            errors.append(_prefixed(error, prefix))
    return errors


def _raise_if_any(errors: list[BillingError]) -> None:
    if errors:
        raise ValidationErrors(errors)


def commitment_errors(commitment: Commitment, contract_term: DateRange) -> list[BillingError]:
    """Every problem of ``commitment`` on a contract of term ``contract_term``."""
    errors = _run(partial(check, commitment, contract_term) for check in CHECKS)
    for index, penalty in enumerate(commitment.penalties):
        errors += _run([partial(validate_penalty, penalty)], f"penalties.{index}.")
    return errors


def validate_commitment(commitment: Commitment, contract_term: DateRange) -> None:
    """Raise ``ValidationErrors`` if ``commitment`` has any problem (see ``commitment_errors``)."""
    _raise_if_any(commitment_errors(commitment, contract_term))


def _check_contract_amounts(terms: ContractTerms) -> list[BillingError]:
    def term() -> None:
        if terms.term.end <= terms.term.start:
            raise BillingError(
                BillingErrorCode.INVALID_INTERVAL,
                f"the contract's end {terms.term.end} must be after its start {terms.term.start}",
                "endDate",
            )

    code = BillingErrorCode.INVALID_AMOUNT
    return _run(
        [
            partial(minor_unit, terms.currency),
            term,
            partial(check_billing_frequency, terms.billing_frequency),
            partial(
                require_non_negative,
                terms.standing_charge,
                code,
                "standingCharge",
                "the standing charge",
            ),
            partial(
                require_non_negative, terms.minimum_spend, code, "minimumSpend", "the minimum spend"
            ),
        ]
    )


def _duplicates(
    keys: Sequence[str], code: BillingErrorCode, what: str, field: str, prefix: str
) -> list[BillingError]:
    """One error per repeated key, on the later occurrence."""
    seen: set[str] = set()
    errors = []
    for index, key in enumerate(keys):
        if key in seen:
            errors.append(
                BillingError(
                    code, f"{what} {key!r} appears more than once", f"{prefix}.{index}.{field}"
                )
            )
        seen.add(key)
    return errors


def _price_errors(prices: Sequence[Price]) -> list[BillingError]:
    errors: list[BillingError] = []
    for index, price in enumerate(prices):
        errors += _run([partial(validate_price, price)], f"prices.{index}.")
    return errors + _duplicates(
        [p.usage_class for p in prices],
        BillingErrorCode.INVALID_PRICE,
        "a price for usage class",
        "usageClass",
        "prices",
    )


def check_service_line(line: ServiceLine, contract_term: DateRange) -> None:
    """A service line bills a service or package, in a non-negative quantity and price, while it
    is active: a non-empty interval inside the contract's term."""
    code = BillingErrorCode.INVALID_SERVICE_LINE
    if not line.product or line.kind is ProductKind.USAGE_CLASS:
        raise BillingError(code, "a service line is a service or a package", "product")
    if line.package_frequency is not None and line.package is None:
        raise BillingError(code, "packageFrequency needs a package", "packageFrequency")
    if line.package_frequency is not None:
        check_billing_frequency(line.package_frequency, "packageFrequency")
    require_non_negative(line.quantity, BillingErrorCode.INVALID_AMOUNT, "quantity", "the quantity")
    require_non_negative(
        line.unit_price, BillingErrorCode.INVALID_AMOUNT, "unitPrice", "the unit price"
    )
    if line.active.end <= line.active.start:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL,
            "a service line's end must be after its start",
            "endDate",
        )
    if contract_term.end <= contract_term.start:
        return  # the contract's own term is reported; nothing to compare with
    if line.active.start < contract_term.start or line.active.end > contract_term.end:
        raise BillingError(
            BillingErrorCode.DATE_OUTSIDE_TERM,
            "a service line is active only inside the contract's term",
            "startDate" if line.active.start < contract_term.start else "endDate",
        )


def _line_errors(terms: ContractTerms) -> list[BillingError]:
    errors: list[BillingError] = []
    for index, line in enumerate(terms.service_lines):
        errors += _run([partial(check_service_line, line, terms.term)], f"serviceLines.{index}.")
    return errors + _duplicates(
        [line.key for line in terms.service_lines],
        BillingErrorCode.INVALID_SERVICE_LINE,
        "service line",
        "key",
        "serviceLines",
    )


def _commitments_errors(terms: ContractTerms, currency_ok: bool) -> list[BillingError]:
    errors: list[BillingError] = []
    for index, commitment in enumerate(terms.commitments):
        prefix = f"commitments.{index}."
        own = [_prefixed(e, prefix) for e in commitment_errors(commitment, terms.term)]
        if not own and currency_ok and commitment.payment is PaymentTiming.PREPAID:
            own = _run([partial(validate_fee_schedule, terms, commitment)], prefix)
        errors += own
    return errors + _duplicates(
        [c.key for c in terms.commitments],
        BillingErrorCode.INVALID_COMMITMENT,
        "commitment",
        "key",
        "commitments",
    )


def contract_errors(terms: ContractTerms) -> list[BillingError]:
    """Every problem of ``terms``: currency, term, amounts, prices (one per usage class), service
    lines and commitments (each as ``commitment_errors``, then its fee schedule)."""
    errors = _check_contract_amounts(terms)
    currency_ok = not any(e.code is BillingErrorCode.UNKNOWN_CURRENCY for e in errors)
    return (
        errors
        + _price_errors(terms.prices)
        + _line_errors(terms)
        + _commitments_errors(terms, currency_ok)
    )


def validate_contract_terms(terms: ContractTerms) -> None:
    """Raise ``ValidationErrors`` carrying every problem of ``terms`` (see ``contract_errors``)."""
    _raise_if_any(contract_errors(terms))
