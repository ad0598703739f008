"""Drawdown: which credit pools pay which charges of a billing period (SPEC §7).

Charges are taken in a fixed order (type, then product, then creation order); each draws from the
pools it may use, group by group in the account's drawdown order, until it is paid or they are
empty. Postpaid tracking pools never pay. The result is a list of ``Draw`` records; ledger entries
and invoice lines are made from them by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.charges import Charge
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import Pool, PoolKind, index_pools
from app.billing.measures import charge_is_eligible
from app.billing.terms import DRAWABLE_ORDER, DateRange, DrawdownOrder

ZERO = Decimal(0)

BALANCE_GROUP = "balance"
COMMITMENT_GROUP = "commitment"

GROUPS: dict[DrawdownOrder, tuple[str, ...]] = {
    DrawdownOrder.BALANCE_FIRST: (BALANCE_GROUP, COMMITMENT_GROUP),
    DrawdownOrder.COMMITMENT_FIRST: (COMMITMENT_GROUP, BALANCE_GROUP),
    DrawdownOrder.BALANCE_ONLY: (BALANCE_GROUP,),
    DrawdownOrder.COMMITMENT_ONLY: (COMMITMENT_GROUP,),
}
"""The pool groups each drawdown order uses, in order."""


@dataclass(frozen=True)
class Draw:
    """``amount`` (> 0, rounded) of charge ``charge_key`` paid by pool ``pool_key``."""

    charge_key: str
    pool_key: str
    amount: Decimal


def charge_order_key(charge: Charge) -> tuple[int, str, int, str]:
    """Sort key of the fixed charge order: type, product code, creation order (then key)."""
    return (DRAWABLE_ORDER.index(charge.type), charge.product, charge.seq, charge.key)


def ordered_charges(charges: Iterable[Charge]) -> tuple[Charge, ...]:
    """Charges in drawdown order."""
    return tuple(sorted(charges, key=charge_order_key))


def group_of(pool: Pool) -> str | None:
    """The drawdown group of a pool; ``None`` for tracking pools, which pay nothing."""
    if pool.kind is PoolKind.BALANCE:
        return BALANCE_GROUP
    if pool.kind.is_commitment_credit:
        return COMMITMENT_GROUP
    return None


def pool_order_key(pool: Pool) -> tuple[int, date, int, tuple[int, int], int, str]:
    """Order within a group: priority, earliest end, rolled-over first, fewer products, oldest.

    "All products" (an empty product set) ranks after any named list, however long.
    """
    products = (0, len(pool.eligible_products)) if pool.eligible_products else (1, 0)
    rolled = 0 if pool.rolled_over else 1
    return (pool.priority, pool.valid.end, rolled, products, pool.seq, pool.key)


def may_pay(pool: Pool, charge: Charge, period: DateRange) -> bool:
    """A paying pool may pay a charge it is eligible for if it is valid on a day of the period."""
    return (
        pool.kind.pays
        and pool.valid.overlaps(period)
        and charge_is_eligible(
            charge.type, charge.product, pool.eligible_charge_types, pool.eligible_products
        )
    )


def candidate_pools(
    pools: Iterable[Pool], charge: Charge, period: DateRange, order: DrawdownOrder
) -> tuple[Pool, ...]:
    """The pools that may pay ``charge``, in the order they are drawn (empty ones included)."""
    eligible = [pool for pool in pools if may_pay(pool, charge, period)]
    ranked: list[Pool] = []
    for group in GROUPS[order]:
        members = [pool for pool in eligible if group_of(pool) == group]
        ranked.extend(sorted(members, key=pool_order_key))
    return tuple(ranked)


def draw_down(
    charges: Sequence[Charge], pools: Sequence[Pool], order: DrawdownOrder, period: DateRange
) -> tuple[Draw, ...]:
    """Every draw of the period's charges on the pools, in the order they happen.

    Amounts are exact differences of rounded figures, so they are rounded too. Only positive
    charges draw; a draw never exceeds what the charge still owes or what the pool still holds.
    """
    left = {key: pool.balance for key, pool in index_pools(pools).items()}
    draws: list[Draw] = []
    for charge in ordered_charges(charges):
        owed = charge.amount
        for pool in candidate_pools(pools, charge, period, order):
            if owed <= 0:
                break
            amount = min(owed, left[pool.key])
            if amount > 0:
                draws.append(Draw(charge.key, pool.key, amount))
                left[pool.key] -= amount
                owed -= amount
    return tuple(draws)


def drawn_per_charge(draws: Iterable[Draw]) -> dict[str, Decimal]:
    """Total drawn for each charge key."""
    totals: dict[str, Decimal] = {}
    for draw in draws:
        totals[draw.charge_key] = totals.get(draw.charge_key, ZERO) + draw.amount
    return totals


def check_unique_charges(charges: Iterable[Charge]) -> None:
    """Refuse two charges with the same key (draws would be ambiguous)."""
    seen: set[str] = set()
    for charge in charges:
        if charge.key in seen:
            raise BillingError(
                BillingErrorCode.INVALID_AMOUNT, f"two charges share the key {charge.key!r}"
            )
        seen.add(charge.key)
