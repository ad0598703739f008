"""Activating a contract: every check, then the calendar and the money commitments' pools.

``activate`` refuses terms that could not be billed exactly (SPEC §2, §3, §6) and returns the
contract's billing periods, every commitment's windows with their committed amounts, and the pools
a money commitment starts with: one PREPAID pool per window of a prepaid commitment and one
TRACKING pool per window of a postpaid one, all issued at activation (SPEC §6: "activation issues
one pool per window" / "each window's committed amount into a tracking pool"). Each pool's ISSUE
entry is dated on its window's start. Balances are made separately (``credit.new_balance``).
``fee_lines`` are the lines of the activation invoice: the fees billed in advance that are due in
the contract's first billing period (SPEC §16); empty when no commitment bills in advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.billing.calendar import Period, billing_periods, check_alignment, commitment_windows
from app.billing.fee_timing import activation_fee_lines
from app.billing.invoice import InvoiceLine
from app.billing.ledger import LedgerEntry, Pool, issue
from app.billing.money import as_quantity, round_money
from app.billing.ramps import committed_amount
from app.billing.settlement import settlement_for
from app.billing.terms import Commitment, CommitmentType, ContractTerms, in_creation_order
from app.billing.validation import validate_contract_terms


@dataclass(frozen=True)
class WindowPlan:
    """One window of one commitment and its committed amount *C* (rounded for SPEND; for the other
    types shown with ``QUANTITY_PLACES`` decimals: the close recomputes it exactly from the ramp)."""

    commitment_key: str
    window: Period
    committed: Decimal


@dataclass(frozen=True)
class Activation:
    """What activating a contract produces (every tuple in a canonical order)."""

    periods: tuple[Period, ...]
    windows: tuple[WindowPlan, ...]
    pools: tuple[Pool, ...]
    entries: tuple[LedgerEntry, ...]
    fee_lines: tuple[InvoiceLine, ...] = ()  # the activation invoice's lines (SPEC §16), if any


def check_activation(terms: ContractTerms) -> None:
    """Every check activation runs, raising the first problem as a ``BillingError``.

    Draft validation (``validation.validate_contract_terms``: amounts, prices, service lines, each
    commitment with its ramp against its windows and its fee schedule) and then the calendar
    alignment of every commitment (``calendar.check_alignment``), which drafts do not need.
    """
    validate_contract_terms(terms)
    for commitment in in_creation_order(terms.commitments):
        check_alignment(terms, commitment)


def window_plans(commitment: Commitment, currency: str) -> tuple[WindowPlan, ...]:
    """Every window of ``commitment`` with its committed amount (money rounded half up)."""
    plans = []
    for window in commitment_windows(commitment):
        exact_amount = committed_amount(commitment, window)
        if commitment.type is CommitmentType.SPEND:
            amount = round_money(exact_amount, currency)
        else:
            amount = as_quantity(exact_amount)
        plans.append(WindowPlan(commitment.key, window, amount))
    return tuple(plans)


def activate(terms: ContractTerms, *, first_seq: int = 0) -> Activation:
    """Check ``terms`` and build what activation writes.

    Pools are numbered (``seq``, their creation order) from ``first_seq``, by commitment creation order then
    window, so the result does not depend on the order of ``terms.commitments``.
    """
    check_activation(terms)
    plans: list[WindowPlan] = []
    pools: list[Pool] = []
    entries: list[LedgerEntry] = []
    for commitment in in_creation_order(terms.commitments):
        own = window_plans(commitment, terms.currency)
        plans.extend(own)
        settlement = settlement_for(commitment)
        if settlement is None:
            continue
        for plan in own:
            empty = settlement.new_window_pool(commitment, plan.window, first_seq + len(pools))
            pool, first = issue(empty, plan.committed, plan.window.span.start, note="activation")
            pools.append(pool)
            entries.append(first)
    return Activation(
        billing_periods(terms), tuple(plans), tuple(pools), tuple(entries), activation_fee_lines(terms)
    )
