"""Building credit pools: window pools, rollover credits and account balances (SPEC §6, §7).

Pool keys are stable and readable, so the services layer can store them as they are:

- ``prepaid:<commitment>:<window index>`` — a prepaid commitment's window pool;
- ``tracking:<commitment>:<window index>`` — a postpaid commitment's tracking pool;
- ``rollover:<commitment>:<window index>`` — credit rolled into window ``index`` (one per window,
  since rolled credit never rolls again);
- balances keep the key the API gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.billing.calendar import Period
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.invoice import InvoiceLine
from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind, apply, entry, issue
from app.billing.money import exact, round_money
from app.billing.terms import ChargeType, Commitment, DateRange

ZERO = Decimal(0)


@dataclass(frozen=True)
class WindowClose:
    """What closing one money commitment's window produced."""

    entries: tuple[LedgerEntry, ...] = ()
    new_pools: tuple[Pool, ...] = ()
    lines: tuple[InvoiceLine, ...] = ()
    true_up: Decimal = ZERO
    rolled_over: Decimal = ZERO
    expired: Decimal = ZERO


def pool_key(kind: PoolKind, commitment_key: str, window_index: int) -> str:
    """The key of a commitment's pool of ``kind`` for window ``window_index`` (from 0)."""
    return f"{kind.value.lower()}:{commitment_key}:{window_index}"


def window_pool(commitment: Commitment, kind: PoolKind, window: Period, seq: int) -> Pool:
    """An empty pool of ``kind`` for ``window``, eligible as the commitment is (fill via ISSUE)."""
    return Pool(
        key=pool_key(kind, commitment.key, window.index),
        kind=kind,
        valid=window.span,
        balance=ZERO,
        priority=commitment.priority,
        eligible_charge_types=commitment.eligible_charge_types,
        eligible_products=commitment.eligible_products,
        commitment_key=commitment.key,
        window_index=window.index,
        rolled_over=False,
        seq=seq,
    )


def rollover_pool(commitment: Commitment, next_window: Period, seq: int) -> Pool:
    """An empty rollover credit valid for ``next_window`` (it never rolls again)."""
    return replace(window_pool(commitment, PoolKind.ROLLOVER, next_window, seq), rolled_over=True)


def rollover_amount(commitment: Commitment, remainder: Decimal, currency: str) -> Decimal:
    """``min(remainder × rolloverFraction, rolloverCap)``, rounded half up (never > remainder)."""
    if commitment.rollover_fraction <= 0 or remainder <= 0:
        return ZERO
    amount = exact(remainder) * exact(commitment.rollover_fraction)
    if commitment.rollover_cap is not None:
        amount = min(amount, exact(commitment.rollover_cap))
    return min(round_money(amount, currency), remainder)


def new_balance(
    key: str,
    amount: Decimal,
    valid: DateRange,
    on: date,
    currency: str,
    *,
    seq: int,
    priority: int = 0,
    eligible_charge_types: frozenset[ChargeType] = frozenset(ChargeType),
    eligible_products: frozenset[str] = frozenset(),
) -> tuple[Pool, LedgerEntry]:
    """A new account balance (top-up credit) holding ``amount`` from one ISSUE entry.

    ``amount`` must be > 0 and exact in the currency's minor unit; ``valid`` must not be empty.
    """
    _check_top_up(amount, currency)
    if valid.end <= valid.start:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL, "a balance needs a non-empty validity"
        )
    pool = Pool(
        key=key,
        kind=PoolKind.BALANCE,
        valid=valid,
        balance=ZERO,
        priority=priority,
        eligible_charge_types=eligible_charge_types,
        eligible_products=eligible_products,
        seq=seq,
    )
    return issue(pool, amount, on, note="balance")


def top_up(pool: Pool, amount: Decimal, on: date, currency: str) -> tuple[Pool, LedgerEntry]:
    """Add ``amount`` to an existing balance with an ISSUE entry."""
    if pool.kind is not PoolKind.BALANCE:
        raise BillingError(BillingErrorCode.INVALID_LEDGER_ENTRY, "only balances can be topped up")
    _check_top_up(amount, currency)
    item = entry(pool, EntryKind.ISSUE, amount, on, note="top-up")
    return apply(pool, item), item


def _check_top_up(amount: Decimal, currency: str) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT, "a balance amount must be > 0", "amount"
        )
    if amount != round_money(amount, currency):
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT,
            f"{amount} has more decimals than {currency} allows",
            "amount",
        )
