"""Mutation issueCreditNote: a goodwill or dispute credit of issued invoice lines (SPEC §17)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.adjustments.types import Adjustment
from app.api.context import org_of
from app.api.errors import UserErrorType
from app.api.input_limits import limited
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import Refusable
from app.services import credit_notes
from app.services.checks import count_problem
from app.services.errors import InvalidInput


@strawberry.input(description="One invoice line to credit, and how much.")
class CreditNoteLineInput:
    invoice_line_id: strawberry.ID = strawberry.field(description="Global id of a positive line of the invoice (InvoiceLine.id).")
    amount: Decimal = strawberry.field(description="Amount credited: > 0, in the currency's minor unit, at most the "
                                                   "line's amount net of earlier credit notes on it.")


@strawberry.type(description="Result of issueCreditNote.")
class IssueCreditNotePayload(Refusable):
    adjustment: Adjustment | None = strawberry.field(
        description="The CREDIT_NOTE written (source GOODWILL); null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


CreditLines = Annotated[list[CreditNoteLineInput], strawberry.argument(**limited(
    "The lines credited, in the order the note lists them.", max_items=credit_notes.MAX_CREDIT_LINES))]


def _requests(lines: list[CreditNoteLineInput]) -> list[credit_notes.CreditRequest]:
    too_many = count_problem(lines, "lines", credit_notes.MAX_CREDIT_LINES)
    if too_many:  # before any per-item work
        raise InvalidInput([too_many])
    return [credit_notes.CreditRequest(ids.decode(line.invoice_line_id, "InvoiceLine", f"lines.{i}.invoiceLineId"),
                                       line.amount) for i, line in enumerate(lines)]


@strawberry.type
class AdjustmentMutations:
    @strawberry.mutation(description="Credit part or all of issued positive lines of an invoice (SPEC §17): a goodwill "
                                     "or dispute credit, written as a CREDIT_NOTE (source GOODWILL) whose negative "
                                     "lines name the lines they credit. It changes no measure, pool or window: to "
                                     "change what a commitment measured, record the corrected usage and let a "
                                     "correction recompute. A line is never credited beyond its amount net of "
                                     "earlier credit notes on it (CREDIT_EXCEEDS_LINE).")
    async def issue_credit_note(
        self, info: Info,
        invoice_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the invoice credited.")],
        lines: CreditLines,
        reason: Annotated[str, strawberry.argument(**limited("Why the credit is given (required).",
                                                             max_length=credit_notes.MAX_REASON))],
        idempotency_key: IdempotencyKey = None,
    ) -> IssueCreditNotePayload:
        org_id = org_of(info)
        return await guard(
            info,
            IssueCreditNotePayload.refused,
            lambda: credit_notes.issue_credit_note(org_id, ids.decode(invoice_id, "Invoice", "invoiceId"),
                                                   _requests(lines), reason),
            lambda row: IssueCreditNotePayload(adjustment=Adjustment.from_row(row), user_errors=[]),
            key=idempotency_key,
        )
