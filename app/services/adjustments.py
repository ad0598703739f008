"""The one writer of adjustments (SPEC §17), used by corrections and goodwill credit notes alike.

``write_adjustment`` writes a credit or debit note on one invoice with its lines in order: the kind
follows the sign of the total (CREDIT_NOTE if <= 0), the number is the contract's next
ADJ-<contract>-<n>. The caller holds the contract row lock and the transaction, which makes the
per-contract numbering safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.adjustments import AdjustmentSource, adjustment_kind, adjustment_number, adjustment_total
from app.billing.terms import LineType
from app.db.models import Adjustment, AdjustmentLine, Invoice


@dataclass(frozen=True)
class AdjustmentLineSpec:
    """One line of a note, amount already rounded to the currency (negative on a credit)."""

    type: LineType
    amount: Decimal
    description: str
    service_start: date
    service_end: date
    product: str | None = None
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    charge_key: str | None = None
    commitment_id: int | None = None
    pool_id: int | None = None
    window_number: int | None = None
    invoice_line_id: int | None = None  # the invoice line a goodwill line credits
    held_back: bool = False  # credit a shared balance could not give (SPEC §17)


async def write_adjustment(org_id: int, invoice: Invoice, *, source: str, reason: str,
                           lines: Sequence[AdjustmentLineSpec], issued_on: date) -> Adjustment:
    """Write a note of ``lines`` on ``invoice`` (caller: contract locked, in a transaction)."""
    if not lines:
        raise ValueError("an adjustment has at least one line")
    AdjustmentSource(source)  # a CORRECTION or GOODWILL note, nothing else
    total = adjustment_total(line.amount for line in lines)
    sequence = await Adjustment.filter(organization_id=org_id, contract_id=invoice.contract_id).count() + 1
    note = await Adjustment.create(
        organization_id=org_id, invoice_id=invoice.id, contract_id=invoice.contract_id,
        kind=adjustment_kind(total).value, source=source,
        number=adjustment_number(invoice.contract_id, sequence), currency=invoice.currency, reason=reason, total=total,
        issued_on=issued_on,
    )
    await AdjustmentLine.bulk_create([
        AdjustmentLine(
            organization_id=org_id, adjustment_id=note.id, position=position, type=LineType(line.type).value,
            amount=line.amount, description=line.description[:300], product=line.product, quantity=line.quantity,
            unit_amount=line.unit_amount, service_start=line.service_start, service_end=line.service_end,
            charge_key=line.charge_key, commitment_id=line.commitment_id, pool_id=line.pool_id,
            window_number=line.window_number, invoice_line_id=line.invoice_line_id, held_back=line.held_back,
        )
        for position, line in enumerate(lines)
    ])
    return note
