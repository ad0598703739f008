"""Ending a contract early (SPEC §14): the terms as if the term had always ended at *t*, and the
credit the termination withdraws.

``terminated`` is the one place the cut is made: the services layer builds the terms as agreed and
applies it, so every close, preview and read sees the same cut terms. What the final close bills
is in ``termination_close``.

Choices where SPEC.md is silent (also in docs/billing-rules.md, "Termination"):

- A commitment that would start on or after *t* is dropped from the terms: it has no window left.
  With ``chargeRemaining: false`` it owes nothing (a prepaid one's final fee line credits what was
  billed for it); with ``chargeRemaining: true`` every one of its windows is a removed window.
- A service line starting on or after *t* is dropped; the others end at *t* at the latest.
- With ``chargeRemaining: true`` the cut window is settled unprorated: the cut commitment reads
  ``prorate: false``, so its measure, penalties and surcharge use the whole window's amount.
- A rollover credit valid for the cut window keeps what it holds with its validity cut at *t*
  (what is left expires at the final close); one valid only for a removed window is withdrawn
  (``VOID``) with the removed windows' pools. A pool holding the cut window is valid to *t*.
- A termination on the contract's current end cuts nothing and bills no termination fee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.billing.calendar import Period, commitment_windows
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import EntryKind, LedgerEntry, Pool, PoolKind, entry
from app.billing.money import round_money
from app.billing.ramps import committed_amount
from app.billing.terms import Commitment, ContractTerms, DateRange, ServiceLine, Termination

ZERO = Decimal(0)


def terminated(terms: ContractTerms, termination: Termination) -> ContractTerms:
    """``terms`` as if the term had always ended at ``termination.on`` (*t*): term ``[start, t)``,
    commitments running past *t* cut there (``uncut_end`` = their old end), service lines clipped,
    commitments and lines starting on or after *t* dropped; ``termination`` recorded with the
    agreed end, commitments and lines. ``INVALID_INTERVAL`` unless start < t ≤ end."""
    t = termination.on
    if not terms.term.start < t <= terms.term.end:
        raise BillingError(
            BillingErrorCode.INVALID_INTERVAL,
            f"a termination date must be after {terms.term.start} and not after {terms.term.end}",
            "endDate",
        )
    kept = replace(termination, agreed_end=terms.term.end, agreed=terms.commitments,
                   agreed_lines=terms.service_lines)
    if t == terms.term.end:
        return replace(terms, termination=kept)
    return replace(
        terms,
        term=DateRange(terms.term.start, t),
        service_lines=tuple(_clip(line, t) for line in terms.service_lines if line.active.start < t),
        commitments=tuple(
            _cut(c, t, termination.charge_remaining) for c in terms.commitments if c.term.start < t
        ),
        termination=kept,
    )


def _clip(line: ServiceLine, t: date) -> ServiceLine:
    if line.active.end <= t:
        return line
    return replace(line, active=DateRange(line.active.start, t))


def _cut(commitment: Commitment, t: date, charge_remaining: bool) -> Commitment:
    if commitment.term.end <= t:
        return commitment
    return replace(
        commitment,
        term=DateRange(commitment.term.start, t),
        uncut_end=commitment.uncut_end or commitment.term.end,
        prorate=commitment.prorate and not charge_remaining,
    )


def affected(terms: ContractTerms) -> tuple[Commitment, ...]:
    """The agreed commitments the termination cuts or drops (those running past *t*)."""
    done = terms.termination
    if done is None or not done.early:
        return ()
    return tuple(c for c in done.agreed if c.term.end > done.on)


def cut_commitment(terms: ContractTerms, key: str) -> Commitment | None:
    """The commitment ``key`` as the cut terms hold it; ``None`` if it was dropped."""
    return next((c for c in terms.commitments if c.key == key), None)


def cut_window(commitment: Commitment) -> Period | None:
    """The window of a cut commitment that the cut shortened; ``None`` if *t* fell on a window end."""
    windows = commitment_windows(commitment)
    if commitment.uncut_end is None or not windows:
        return None
    return windows[-1] if windows[-1].partial else None


def removed_windows(agreed: Commitment, cut: Commitment | None) -> tuple[Period, ...]:
    """The agreed windows the termination removed (all of a dropped commitment's)."""
    kept = len(commitment_windows(cut)) if cut is not None else 0
    return commitment_windows(agreed)[kept:]


@dataclass(frozen=True)
class Withdrawal:
    """What a termination does to the contract's pools at termination time: the ``VOID`` entries,
    the credit consumed from each cut window's pool (commitment key → amount, kept with the
    termination: ``Termination.consumed``) and the pools whose validity now ends at *t*."""

    entries: tuple[LedgerEntry, ...]
    consumed: tuple[tuple[str, Decimal], ...]
    cut_validity: tuple[str, ...]


def withdraw(terms: ContractTerms, pools: Iterable[Pool], on: date) -> Withdrawal:
    """The ``VOID`` entries (dated ``on``) of terminated ``terms`` on the contract's ``pools``.

    A cut window's pool (prepaid or tracking) keeps ``max(its new amount, what was consumed)`` and
    loses the rest of its unused credit; the pools of removed windows, and rollover credits valid
    only for them, lose all they hold."""
    done = terms.termination
    if done is None:
        return Withdrawal((), (), ())
    by_key = {c.key: c for c in affected(terms)}
    entries: list[LedgerEntry] = []
    consumed: list[tuple[str, Decimal]] = []
    validity: list[str] = []
    for pool in sorted(pools, key=lambda p: (p.seq, p.key)):
        agreed = by_key.get(pool.commitment_key or "")
        if agreed is None or pool.window_index is None:
            continue
        cut = cut_commitment(terms, agreed.key)
        kept = commitment_windows(cut) if cut is not None else ()
        if pool.window_index >= len(kept):
            if pool.balance > 0:
                entries.append(entry(pool, EntryKind.VOID, pool.balance, on, note="termination: removed window"))
            continue
        if pool.valid.end > done.on:
            validity.append(pool.key)
        if pool.kind is PoolKind.ROLLOVER or cut is None:
            continue
        window = cut_window(cut)
        if window is None or window.index != pool.window_index:
            continue
        used, void = _cut_pool(agreed, cut, window, pool, terms.currency)
        consumed.append((agreed.key, used))
        if void > 0:
            entries.append(entry(pool, EntryKind.VOID, void, on, note="termination: cut window"))
    return Withdrawal(tuple(entries), tuple(consumed), tuple(validity))


def _cut_pool(agreed: Commitment, cut: Commitment, window: Period, pool: Pool, currency: str) -> tuple[Decimal, Decimal]:
    """(credit consumed, credit withdrawn) of the pool of the cut ``window``."""
    issued = round_money(committed_amount(agreed, commitment_windows(agreed)[window.index]), currency)
    used = max(ZERO, issued - pool.balance)
    keep = max(round_money(committed_amount(cut, window), currency), used)
    return used, max(ZERO, min(pool.balance, pool.balance - (keep - used)))


def consumed_of(termination: Termination, key: str) -> Decimal:
    """The credit consumed from commitment ``key``'s cut window pool at termination (0 if none)."""
    return dict(termination.consumed).get(key, ZERO)


def agreed_terms(terms: ContractTerms) -> ContractTerms:
    """The terms as agreed (before the cut): the fee schedule of periods before the final one."""
    done = terms.termination
    if done is None or done.agreed_end is None:
        return terms
    return replace(terms, term=DateRange(terms.term.start, done.agreed_end), commitments=done.agreed,
                   service_lines=done.agreed_lines, termination=None)
