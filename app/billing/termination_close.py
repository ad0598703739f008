"""What the closes of a terminated contract bill (SPEC §14).

Periods before the final one bill the commitment fees of the agreed schedule: the termination
settles the difference once, on the final invoice (the close of the period ending at *t*):

- every prepaid commitment the termination cut or dropped gets ONE ``COMMITMENT_FEE`` line instead
  of its regular fee lines: ``T′ − amountPrepaid − the fees billed on earlier invoices`` (with
  ``chargeRemaining: true``, ``T`` instead of ``T′``); negative, it credits what was billed beyond;
- with ``chargeRemaining: true`` every removed window of another commitment is settled as if it
  measured 0: a postpaid money commitment bills its committed amount as ``TRUE_UP`` (unless
  ``trueUp: false``), and every commitment bills its penalties;
- an early termination fee above 0 (not waived) is one ``TERMINATION_FEE`` line, never drawn down.

``T′`` is the sum of the cut commitment's window pools: the windows that started before *t*, the
cut one prorated by days (unless ``prorate: false``) but never below the credit consumed from its
pool at termination. Fees billed on earlier invoices come from the close's input (what the
invoices really carried, whoever billed them).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from app.billing.calendar import Period, billing_periods
from app.billing.fee_timing import billed_fee_lines
from app.billing.fees import commitment_total, is_prepaid, window_pool_amounts
from app.billing.invoice import InvoiceLine
from app.billing.labels import day_label, money_text, window_label
from app.billing.measures import Measurement, measured_value
from app.billing.money import exact, round_money
from app.billing.ramps import committed_amount
from app.billing.termination import (
    affected,
    agreed_terms,
    consumed_of,
    cut_commitment,
    cut_window,
    removed_windows,
)
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    LineType,
    PaymentTiming,
    in_creation_order,
)
from app.billing.window_end import penalty_lines

ZERO = Decimal(0)


def is_final(terms: ContractTerms, period: Period) -> bool:
    """True for the close of the period ending at an early termination's date."""
    done = terms.termination
    return done is not None and done.early and period.span.end == terms.term.end


def fee_lines(terms: ContractTerms, period: Period, billed: Mapping[str, Decimal]) -> list[InvoiceLine]:
    """Every commitment's ``COMMITMENT_FEE`` lines of ``period``, in creation order (SPEC §6, §14)."""
    hit = {c.key for c in affected(terms)}
    if not hit or terms.termination is None:
        return [line for c in in_creation_order(terms.commitments)
                for line in billed_fee_lines(terms, c, period)]
    agreed = agreed_terms(terms)
    as_agreed = billing_periods(agreed)[period.index]
    final = is_final(terms, period)
    lines: list[InvoiceLine] = []
    for commitment in in_creation_order(terms.termination.agreed):
        if commitment.key not in hit:
            lines.extend(billed_fee_lines(terms, commitment, period))
        elif not final:
            lines.extend(billed_fee_lines(agreed, commitment, as_agreed))
        elif is_prepaid(commitment):
            line = _settlement_line(terms, commitment, period, billed.get(commitment.key, ZERO))
            if line is not None:
                lines.append(line)
    return lines


def settled_total(terms: ContractTerms, agreed: Commitment) -> Decimal:
    """What a terminated prepaid commitment is owed in all: ``T′``, or ``T`` with chargeRemaining."""
    done = terms.termination
    if done is None or done.charge_remaining:
        return commitment_total(agreed, terms.currency)
    cut = cut_commitment(terms, agreed.key)
    if cut is None:
        return ZERO
    amounts = list(window_pool_amounts(cut, terms.currency))
    if cut_window(cut) is not None:
        amounts[-1] = max(amounts[-1], consumed_of(done, agreed.key))
    return sum(amounts, ZERO)


def _settlement_line(
    terms: ContractTerms, agreed: Commitment, period: Period, billed: Decimal
) -> InvoiceLine | None:
    total = settled_total(terms, agreed)
    amount = total - agreed.fees.amount_prepaid - billed
    if amount == 0:
        return None
    done = terms.termination
    assert done is not None
    name = "T" if done.charge_remaining else "T′"
    cur = terms.currency
    return InvoiceLine(
        type=LineType.COMMITMENT_FEE,
        amount=amount,
        description=f"commitment fee of {agreed.label} on termination {day_label(done.on)}: "
        f"{name} {money_text(total, cur)} − prepaid {money_text(agreed.fees.amount_prepaid, cur)} "
        f"− billed {money_text(billed, cur)}",
        service_period=period.span,
        commitment_key=agreed.key,
    )


def final_lines(terms: ContractTerms, period: Period) -> list[InvoiceLine]:
    """The removed windows' settlement (chargeRemaining) and the termination fee of the final close."""
    done = terms.termination
    if done is None or not is_final(terms, period):
        return []
    lines: list[InvoiceLine] = []
    if done.charge_remaining:
        for agreed in in_creation_order(affected(terms)):
            if not is_prepaid(agreed):
                lines.extend(_removed_lines(terms, agreed))
    if done.fee > 0:
        lines.append(InvoiceLine(
            type=LineType.TERMINATION_FEE,
            amount=round_money(done.fee, terms.currency),
            description=f"early termination fee: contract ended {day_label(done.on)}",
            service_period=period.span,
        ))
    return lines


def _removed_lines(terms: ContractTerms, agreed: Commitment) -> list[InvoiceLine]:
    """Each removed window of ``agreed`` settled as if it measured 0 (SPEC §14, chargeRemaining)."""
    done = terms.termination
    assert done is not None
    lines: list[InvoiceLine] = []
    for window in removed_windows(agreed, cut_commitment(terms, agreed.key)):
        m = measured_as_zero(agreed, window, terms)
        if agreed.payment is PaymentTiming.POSTPAID and agreed.true_up and m.shortfall > 0:
            lines.append(InvoiceLine(
                type=LineType.TRUE_UP,
                amount=round_money(m.shortfall, terms.currency),
                description=f"true-up of {agreed.label} for {window_label(window.span, agreed)}: "
                f"removed by the termination {day_label(done.on)}",
                service_period=window.span,
                commitment_key=agreed.key,
                window_index=window.index,
            ))
        lines.extend(penalty_lines(agreed, window, m, ZERO, terms.currency)[1])
    return lines


def measured_as_zero(agreed: Commitment, window: Period, terms: ContractTerms) -> Measurement:
    """A removed window measured 0: C from the agreed ramp (money rounded), V the connections of
    the agreed service lines for AVERAGE_USAGE (1 otherwise)."""
    committed = committed_amount(agreed, window)
    if agreed.type is CommitmentType.SPEND:
        committed = exact(round_money(committed, terms.currency))
    volume = Fraction(1)
    if agreed.type is CommitmentType.AVERAGE_USAGE and terms.termination is not None:
        _, volume = measured_value(agreed, window.span, usage=(),
                                   service_lines=terms.termination.agreed_lines, charges=())
    return Measurement(committed, Fraction(0), committed * volume, volume, committed * volume)
