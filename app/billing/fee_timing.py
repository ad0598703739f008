"""Which invoice carries a prepaid commitment's fee (SPEC §16): in arrears or in advance.

``fees.fee_lines_for_period`` answers the one question of the schedule: the fee *due* in billing
period *p* (its plan part, its fee dates falling in *p*, and ``amountFirstBill`` where the
commitment starts). This module only moves those lines to the invoice that bills them:

- ``IN_ARREARS`` (the default): the invoice closing *p* carries the fee due in *p*;
- ``IN_ADVANCE``: the invoice closing *p* carries the fee due in *p + 1* (none on the last
  period's invoice: there is no next period), and the fee due in the contract's first period is
  carried by the *activation invoice* (``activation_fee_lines``).

An advance line keeps the service period of the period it pays for (*p + 1*), so a reader sees
which period it bills, and its description says it is billed in advance.
"""

from __future__ import annotations

from dataclasses import replace

from app.billing.calendar import Period, billing_periods
from app.billing.fees import fee_lines_for_period, is_prepaid
from app.billing.invoice import InvoiceLine
from app.billing.terms import Commitment, ContractTerms, FeeTiming, in_creation_order


def bills_in_advance(commitment: Commitment) -> bool:
    """True for a prepaid commitment whose fees are billed before the period they are due in."""
    return is_prepaid(commitment) and commitment.fees.timing is FeeTiming.IN_ADVANCE


def _in_advance(lines: tuple[InvoiceLine, ...]) -> tuple[InvoiceLine, ...]:
    return tuple(replace(line, description=f"{line.description} (billed in advance)") for line in lines)


def billed_fee_lines(
    terms: ContractTerms, commitment: Commitment, period: Period
) -> tuple[InvoiceLine, ...]:
    """The ``COMMITMENT_FEE`` lines of ``commitment`` that the invoice closing ``period`` carries."""
    if not bills_in_advance(commitment):
        return fee_lines_for_period(terms, commitment, period)
    periods = billing_periods(terms)
    following = period.index + 1
    if following >= len(periods):
        return ()
    return _in_advance(fee_lines_for_period(terms, commitment, periods[following]))


def activation_fee_lines(terms: ContractTerms) -> tuple[InvoiceLine, ...]:
    """The lines of the activation invoice: the advance fees due in the contract's first billing
    period, commitments in creation order (empty when no commitment bills in advance)."""
    periods = billing_periods(terms)
    if not periods:
        return ()
    return tuple(
        line
        for commitment in in_creation_order(terms.commitments)
        if bills_in_advance(commitment)
        for line in _in_advance(fee_lines_for_period(terms, commitment, periods[0]))
    )
