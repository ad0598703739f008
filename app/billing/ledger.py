"""Credit pools and their append-only ledger (SPEC §1, §6, §7).

A pool is money (or, for postpaid commitments, a tracking figure) that charges are measured or
paid against. Every movement on a pool is a signed ``LedgerEntry``; a pool's balance is the sum of
its entries and is never negative. ``Pool.balance`` is a cached fold of those entries that the
billing core carries from one close to the next; ``balances`` recomputes it from the entries.

Signs: ``ISSUE``, ``ROLLOVER_IN`` and ``CREDIT_BACK`` add (≥ 0); ``CONSUME``, ``EXPIRE`` and
``ROLLOVER_OUT`` take away (≤ 0). Only an ``ISSUE`` may be zero (it records a pool's creation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import ChargeType, DateRange

ZERO = Decimal(0)


class EntryKind(str, Enum):
    """What a ledger entry does to its pool."""

    ISSUE = "ISSUE"
    CONSUME = "CONSUME"
    EXPIRE = "EXPIRE"
    ROLLOVER_OUT = "ROLLOVER_OUT"
    ROLLOVER_IN = "ROLLOVER_IN"
    CREDIT_BACK = "CREDIT_BACK"
    VOID = "VOID"  # an amendment or a termination withdrew unused credit (SPEC §13–§14)
    ADJUST = "ADJUST"  # a correction brought the pool to its recomputed balance (SPEC §17): either sign

    @property
    def sign(self) -> int:
        """+1 for the kinds that add to a pool, -1 for those that take away, 0 for ``ADJUST`` (either)."""
        if self is EntryKind.ADJUST:
            return 0
        adds = (EntryKind.ISSUE, EntryKind.ROLLOVER_IN, EntryKind.CREDIT_BACK)
        return 1 if self in adds else -1


class PoolKind(str, Enum):
    """``PREPAID``: one per window of a prepaid commitment. ``TRACKING``: one per window of a
    postpaid commitment (pays nothing). ``ROLLOVER``: credit rolled into the next window (counts as
    commitment credit). ``BALANCE``: an account top-up credit."""

    PREPAID = "PREPAID"
    TRACKING = "TRACKING"
    ROLLOVER = "ROLLOVER"
    BALANCE = "BALANCE"

    @property
    def pays(self) -> bool:
        """Tracking pools measure spend but never pay a charge."""
        return self is not PoolKind.TRACKING

    @property
    def is_commitment_credit(self) -> bool:
        """Prepaid pools and rollover credits form the drawdown's commitment group."""
        return self is PoolKind.PREPAID or self is PoolKind.ROLLOVER


@dataclass(frozen=True)
class Pool:
    """A credit pool as it stands. ``seq`` is its creation order (the last drawdown tie-break);
    ``name`` is a balance's name, for the lines that draw on it."""

    key: str
    kind: PoolKind
    valid: DateRange
    balance: Decimal
    priority: int = 0
    eligible_charge_types: frozenset[ChargeType] = frozenset(ChargeType)
    eligible_products: frozenset[str] = frozenset()
    commitment_key: str | None = None
    window_index: int | None = None
    rolled_over: bool = False
    seq: int = 0
    name: str = ""


@dataclass(frozen=True)
class LedgerEntry:
    """An immutable signed movement on pool ``pool_key``, effective on ``on``."""

    pool_key: str
    kind: EntryKind
    amount: Decimal
    on: date
    charge_key: str | None = None
    note: str = ""


def entry(
    pool: Pool,
    kind: EntryKind,
    magnitude: Decimal,
    on: date,
    *,
    charge_key: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """An entry of ``kind`` moving ``magnitude`` (≥ 0) on ``pool``, signed by its kind."""
    if magnitude < 0:
        raise BillingError(
            BillingErrorCode.INVALID_LEDGER_ENTRY, f"entry magnitude must be ≥ 0, got {magnitude}"
        )
    return LedgerEntry(pool.key, kind, magnitude * kind.sign, on, charge_key, note)


def adjust(pool: Pool, delta: Decimal, on: date, note: str = "correction") -> LedgerEntry:
    """An ``ADJUST`` entry moving ``pool`` by ``delta`` (either sign, never zero: SPEC §17)."""
    if delta == 0:
        raise BillingError(BillingErrorCode.INVALID_LEDGER_ENTRY, "an ADJUST entry cannot be zero")
    return LedgerEntry(pool.key, EntryKind.ADJUST, delta, on, None, note)


def check_entry(item: LedgerEntry) -> None:
    """Refuse an entry whose sign does not match its kind, or a zero entry other than ISSUE."""
    if not item.amount.is_finite():
        raise BillingError(BillingErrorCode.INVALID_LEDGER_ENTRY, "entry amount must be finite")
    if item.amount == 0 and item.kind is not EntryKind.ISSUE:
        raise BillingError(
            BillingErrorCode.INVALID_LEDGER_ENTRY, f"a {item.kind.value} entry cannot be zero"
        )
    if item.amount * item.kind.sign < 0:
        raise BillingError(
            BillingErrorCode.INVALID_LEDGER_ENTRY,
            f"a {item.kind.value} entry must be {'≥' if item.kind.sign > 0 else '≤'} 0, "
            f"got {item.amount}",
        )


def apply(pool: Pool, item: LedgerEntry) -> Pool:
    """``pool`` after ``item``; raises ``INSUFFICIENT_BALANCE`` if it would go negative."""
    if item.pool_key != pool.key:
        raise BillingError(
            BillingErrorCode.INVALID_LEDGER_ENTRY,
            f"entry for pool {item.pool_key!r} applied to pool {pool.key!r}",
        )
    check_entry(item)
    balance = pool.balance + item.amount
    if balance < 0:
        raise BillingError(
            BillingErrorCode.INSUFFICIENT_BALANCE,
            f"pool {pool.key!r} holds {pool.balance}, cannot take {-item.amount}",
        )
    return replace(pool, balance=balance)


def apply_all(pools: Iterable[Pool], entries: Iterable[LedgerEntry]) -> tuple[Pool, ...]:
    """Every pool after applying ``entries`` in order, sorted by ``(seq, key)``.

    Raises ``INVALID_LEDGER_ENTRY`` for an entry naming no pool or for duplicate pool keys.
    """
    by_key = index_pools(pools)
    for item in entries:
        if item.pool_key not in by_key:
            raise BillingError(
                BillingErrorCode.INVALID_LEDGER_ENTRY, f"no pool {item.pool_key!r} for entry"
            )
        by_key[item.pool_key] = apply(by_key[item.pool_key], item)
    return sort_pools(by_key.values())


def index_pools(pools: Iterable[Pool]) -> dict[str, Pool]:
    """Pools by key; raises ``INVALID_LEDGER_ENTRY`` if two pools share a key."""
    by_key: dict[str, Pool] = {}
    for pool in pools:
        if pool.key in by_key:
            raise BillingError(
                BillingErrorCode.INVALID_LEDGER_ENTRY, f"two pools share the key {pool.key!r}"
            )
        by_key[pool.key] = pool
    return by_key


def sort_pools(pools: Iterable[Pool]) -> tuple[Pool, ...]:
    """Pools in creation order (``seq``, then key): a canonical order independent of input."""
    return tuple(sorted(pools, key=lambda p: (p.seq, p.key)))


def balances(entries: Iterable[LedgerEntry]) -> dict[str, Decimal]:
    """Each pool's balance as the fold (sum) of its entries."""
    totals: dict[str, Decimal] = {}
    for item in entries:
        totals[item.pool_key] = totals.get(item.pool_key, ZERO) + item.amount
    return totals


def running_balances_ok(entries: Sequence[LedgerEntry]) -> bool:
    """True if, replayed in order, no pool's balance ever dips below zero."""
    running: dict[str, Decimal] = {}
    for item in entries:
        running[item.pool_key] = running.get(item.pool_key, ZERO) + item.amount
        if running[item.pool_key] < 0:
            return False
    return True


def issue(pool: Pool, amount: Decimal, on: date, note: str = "") -> tuple[Pool, LedgerEntry]:
    """Create ``pool`` (its ``balance`` ignored) holding ``amount`` via one ``ISSUE`` entry."""
    first = entry(pool, EntryKind.ISSUE, amount, on, note=note)
    return apply(replace(pool, balance=ZERO), first), first


def next_seq(pools: Iterable[Pool]) -> int:
    """The creation order for the next new pool: one past the highest ``seq`` seen."""
    return max((pool.seq for pool in pools), default=-1) + 1


class Book:
    """A working copy of the pools while one close moves them (local to that close).

    Every entry is applied as soon as it is posted, so each step sees the balances the previous
    steps left; a pool never goes negative (``INSUFFICIENT_BALANCE``). ``seq`` is the creation
    order the next new pool gets: one past the highest of ``pools``, or ``seq`` if given (when
    ``pools`` are not all the pools there are).
    """

    def __init__(self, pools: Iterable[Pool], seq: int | None = None) -> None:
        self.pools: dict[str, Pool] = index_pools(pools)
        self.entries: list[LedgerEntry] = []
        self.seq = next_seq(self.pools.values()) if seq is None else max(seq, next_seq(self.pools.values()))

    def post(self, entries: Iterable[LedgerEntry], new_pools: Iterable[Pool] = ()) -> None:
        """Add ``new_pools`` (created empty), then apply ``entries`` in order."""
        for pool in new_pools:
            if pool.key in self.pools:
                raise BillingError(
                    BillingErrorCode.INVALID_LEDGER_ENTRY, f"pool {pool.key!r} already exists"
                )
            self.pools[pool.key] = pool
            self.seq = max(self.seq, pool.seq + 1)
        for item in entries:
            if item.pool_key not in self.pools:
                raise BillingError(
                    BillingErrorCode.INVALID_LEDGER_ENTRY, f"no pool {item.pool_key!r} for entry"
                )
            self.pools[item.pool_key] = apply(self.pools[item.pool_key], item)
            self.entries.append(item)
