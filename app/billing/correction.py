"""Corrections (SPEC §17): the closed periods recomputed with all the data now known.

A correction is a replay, not a second billing engine: ``recompute`` runs the same ``close_period``
over the contract's closed periods in order, each with the terms of its version and the usage and
one-time charges now known, starting from the pools' shells and replaying, before each close, the
movements the service made between closes (activation's issues, top-ups, credit-backs, amendments'
and terminations' withdrawals, other contracts' draws on shared balances) in the order they
happened. ``differences`` compares a recomputed period with what was issued for it (its invoice plus
earlier adjustments), line by line on (type, product, commitment, window, pool); ``pool_moves``
gives each pool's ``ADJUST``: what the replayed closes move on it less what the issued closes (and
earlier corrections) moved, so that every pool ends at its recomputed balance. A shared account
balance gives a correction no more than it holds now: what the replay would draw beyond that stays
billed (``held_back``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from app.billing.calendar import Period
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.close import CloseInput, CloseResult, close_period
from app.billing.invoice import InvoiceLine
from app.billing.ledger import LedgerEntry, Pool, apply
from app.billing.renewal import Successor
from app.billing.terms import ContractTerms, LineType

ZERO = Decimal(0)
LineKey = tuple[LineType, str | None, str | None, int | None, str | None]


@dataclass(frozen=True)
class PeriodData:
    """One closed period to recompute: its terms (of its version), the period, its usage totals and
    one-time charges as now known, the movements made before its close (``before``, in order), the
    commitment fees billed before it (a terminated contract's final close settles them), and the
    renewal its close rolled a last window's credit into (``successors``, SPEC §15)."""

    terms: ContractTerms
    period: Period
    usage: tuple[UsageTotal, ...] = ()
    one_time: tuple[OneTimeCharge, ...] = ()
    before: tuple[LedgerEntry, ...] = ()
    fees_billed: Mapping[str, Decimal] = field(default_factory=dict)
    successors: tuple[Successor, ...] = ()


@dataclass(frozen=True)
class Recomputed:
    """The replayed closes, in order, and every pool as the replay leaves it."""

    results: tuple[CloseResult, ...]
    pools: dict[str, Pool]


def recompute(periods: Sequence[PeriodData], shells: Iterable[Pool], *, born: Mapping[str, int] | None = None,
              next_seq: int | None = None) -> Recomputed:
    """Replay ``periods`` in order from ``shells`` (the pools that exist before the first close,
    empty: their movements come in ``before``). ``born`` gives the creation order of pools a close
    creates (their rows keep it); ``next_seq`` the creation order of any other new pool."""
    pools = {p.key: replace(p, balance=ZERO) for p in shells}
    usage: list[UsageTotal] = []
    charges: list[Charge] = []
    results = []
    for data in periods:
        for movement in data.before:
            if movement.pool_key not in pools:  # a pool the replay no longer creates takes nothing
                continue
            movement = _capped(pools[movement.pool_key], movement)
            if movement.amount != 0:  # a draw on a replayed pool that holds nothing takes nothing
                pools[movement.pool_key] = apply(pools[movement.pool_key], movement)
        result = close_period(CloseInput(
            terms=data.terms, period=data.period, usage=(*usage, *data.usage), one_time=data.one_time,
            prior_charges=tuple(charges), pools=tuple(pools.values()), next_seq=next_seq,
            fees_billed=data.fees_billed, successors=data.successors,
        ))
        pools = {p.key: p if p.key not in (born or {}) else replace(p, seq=born[p.key]) for p in result.pools}
        if next_seq is not None:
            next_seq = max([next_seq, *(p.seq + 1 for p in pools.values())])
        usage.extend(data.usage)
        charges.extend(result.charges)
        results.append(result)
    return Recomputed(tuple(results), pools)


def _capped(pool: Pool, movement: LedgerEntry) -> LedgerEntry:
    """A movement taking more than the replayed pool holds takes what it holds (a withdrawal sized
    on the pool as it stood then, or another contract's draw on a shared balance): zero if empty."""
    if movement.amount < 0 and -movement.amount > pool.balance:
        return replace(movement, amount=-pool.balance)
    return movement


def line_key(line: InvoiceLine) -> LineKey:
    return (line.type, line.product, line.commitment_key, line.window_index, line.pool_key)


def differences(issued: Sequence[InvoiceLine], recomputed: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """One line per (type, product, commitment, window, pool) whose recomputed amount differs from
    the issued one: the difference, described after the line it corrects."""
    totals: dict[LineKey, Decimal] = {}
    first: dict[LineKey, InvoiceLine] = {}
    for line in recomputed:
        totals[line_key(line)] = totals.get(line_key(line), ZERO) + line.amount
        first.setdefault(line_key(line), line)
    for line in issued:
        totals[line_key(line)] = totals.get(line_key(line), ZERO) - line.amount
        first.setdefault(line_key(line), line)
    out = []
    for key, amount in totals.items():
        if amount != 0:
            model = first[key]
            out.append(replace(model, amount=amount, description=f"correction of {model.description}",
                               quantity=None, unit_amount=None))
    return out


@dataclass(frozen=True)
class PoolMoves:
    """Each pool's ``ADJUST`` (key → delta, never zero), and what a shared balance could not give
    (key → amount that stays billed)."""

    deltas: dict[str, Decimal]
    held_back: dict[str, Decimal]


def pool_moves(issued: Mapping[str, Decimal], replayed: Iterable[CloseResult], balances: Mapping[str, Decimal],
               shared: frozenset[str]) -> PoolMoves:
    """``issued``: per pool, what the contract's issued closes and earlier corrections moved;
    ``replayed``: the recomputed closes; ``balances``: each existing pool's balance now; ``shared``:
    the keys of pools other contracts draw on too (account balances, and the credit the contract's
    last close rolled into its renewal)."""
    moved: dict[str, Decimal] = {}
    for result in replayed:
        for movement in result.entries:
            moved[movement.pool_key] = moved.get(movement.pool_key, ZERO) + movement.amount
    deltas, held = {}, {}
    for key in sorted(set(moved) | set(issued)):
        delta = moved.get(key, ZERO) - issued.get(key, ZERO)
        now = balances.get(key, ZERO)
        if now + delta < 0:  # a shared balance others drew on since: it gives what it holds
            held[key] = -(now + delta)
            delta = -now
        if delta != 0:
            deltas[key] = delta
    return PoolMoves(deltas, held)
