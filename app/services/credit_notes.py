"""Goodwill credit notes (SPEC §17): ``issueCreditNote`` credits part or all of issued positive lines.

A goodwill or dispute credit changes no measure, pool or window: it only writes a CREDIT_NOTE
(source GOODWILL) whose lines are negative copies of the credited lines (type, product, service
period, commitment, window, charge key) naming the invoice line they credit. A line can never be
credited beyond its amount net of earlier goodwill credits on it. One transaction with the
contract row locked, so two notes at once on one line cannot together exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tortoise.transactions import in_transaction

from app.billing.adjustments import AdjustmentSource, creditable
from app.billing.labels import money_text
from app.billing.money import round_money
from app.billing.terms import LineType
from app.clock import today
from app.db.models import Adjustment, AdjustmentLine, Contract, Invoice, InvoiceLine
from app.services.adjustments import AdjustmentLineSpec, write_adjustment
from app.services.checks import count_problem, decimal_problem, require, text_problem
from app.services.errors import ErrorCode, InvalidInput, UserError

MAX_CREDIT_LINES = 100
MAX_REASON = 500  # the width of adjustment.reason
_SMALLEST = Decimal("0.000000000001")


@dataclass(frozen=True)
class CreditRequest:
    """Credit ``amount`` (> 0) on invoice line ``invoice_line_id``."""

    invoice_line_id: int
    amount: Decimal


async def issue_credit_note(org_id: int, invoice_id: int, requests: Sequence[CreditRequest],
                            reason: str) -> Adjustment:
    """Write a GOODWILL credit note on invoice ``invoice_id``, or refuse with every problem found."""
    _check_input(requests, reason)
    async with in_transaction():
        invoice = await require(Invoice, org_id, invoice_id, "invoiceId")
        await require(Contract, org_id, invoice.contract_id, "invoiceId", for_update=True)
        lines = {line.id: line for line in await InvoiceLine.filter(
            organization_id=org_id, invoice_id=invoice.id, id__in=[r.invoice_line_id for r in requests])}
        credited = await _credited(org_id, list(lines))
        specs: list[AdjustmentLineSpec] = []
        problems: list[UserError] = []
        for i, request in enumerate(requests):
            line = lines.get(request.invoice_line_id)
            problem = _line_problem(i, request, line, invoice.currency, credited)
            if problem is not None:
                problems.append(problem)
                continue
            assert line is not None
            credited[line.id] = credited.get(line.id, Decimal(0)) + request.amount  # a line named twice
            specs.append(_credit_line(line, request.amount))
        if problems:
            raise InvalidInput(problems)
        return await write_adjustment(org_id, invoice, source=AdjustmentSource.GOODWILL.value, reason=reason,
                                      lines=specs, issued_on=today())


def _check_input(requests: Sequence[CreditRequest], reason: str) -> None:
    """The checks that need no lookup: the list's size, the amounts, the reason."""
    too_many = count_problem(requests, "lines", MAX_CREDIT_LINES)
    if too_many:
        raise InvalidInput([too_many])
    problems = [p for p in (decimal_problem(r.amount, f"lines.{i}.amount", minimum=_SMALLEST)
                            for i, r in enumerate(requests)) if p]
    if not requests:
        problems.append(UserError(ErrorCode.INVALID_INPUT, "name at least one invoice line to credit", "lines"))
    reason_problem = text_problem(reason, "reason", MAX_REASON, blank=False)
    if reason_problem:
        problems.append(reason_problem)
    if problems:
        raise InvalidInput(problems)


async def _credited(org_id: int, line_ids: list[int]) -> dict[int, Decimal]:
    """What earlier notes credited on each of ``line_ids`` (positive: credited; every adjustment line
    naming the invoice line counts with its sign), summed here: exact on both databases (SQLite's
    SUM is floating point), and a line has few adjustments."""
    credited: dict[int, Decimal] = {}
    if line_ids:
        for line_id, amount in await AdjustmentLine.filter(
                organization_id=org_id, invoice_line_id__in=line_ids).values_list("invoice_line_id", "amount"):
            credited[line_id] = credited.get(line_id, Decimal(0)) - Decimal(amount)
    return credited


def _line_problem(i: int, request: CreditRequest, line: InvoiceLine | None, currency: str,
                  credited: dict[int, Decimal]) -> UserError | None:
    if line is None:
        return UserError(ErrorCode.NOT_FOUND, "no line with this id on this invoice", f"lines.{i}.invoiceLineId")
    if line.amount <= 0:
        return UserError(ErrorCode.NOT_A_POSITIVE_LINE,
                         f"the {line.type} line is not positive: only positive lines can be credited",
                         f"lines.{i}.invoiceLineId")
    if request.amount != round_money(request.amount, currency):
        return UserError(ErrorCode.INVALID_AMOUNT, f"more decimals than {currency} allows", f"lines.{i}.amount")
    rest = creditable(line.amount, credited.get(line.id, Decimal(0)))
    if request.amount > rest:
        return UserError(ErrorCode.CREDIT_EXCEEDS_LINE,
                         f"at most {money_text(rest, currency)} of this line can still be credited",
                         f"lines.{i}.amount")
    return None


def _credit_line(line: InvoiceLine, amount: Decimal) -> AdjustmentLineSpec:
    return AdjustmentLineSpec(
        type=LineType(line.type), amount=-amount, description=f"Credit: {line.description}",
        service_start=line.service_start, service_end=line.service_end, product=line.product,
        charge_key=line.charge_key, commitment_id=line.commitment_id, window_number=line.window_number,
        invoice_line_id=line.id,
    )
