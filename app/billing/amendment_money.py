"""What an amendment does to money (SPEC §13): window pools and commitment fees.

``money_effects(old, new, pools, e)`` compares the windows of every money commitment before and
after the amendment effective ``e``:
- a window that no longer exists (a commitment ended or dropped) loses what its pool holds (``VOID``);
- the window in progress at ``e`` of a commitment cut at ``e`` keeps its pool at the new (prorated)
  amount, never below what it already used: the rest is withdrawn (``VOID``), and the pool's
  validity ends at ``e``;
- a window starting on or after ``e`` whose committed amount changed is re-issued (``VOID`` of what
  its pool holds, ``ISSUE`` of the new amount);
- a new window (an added commitment, an extended term) gets its pool, issued as activation does.

Fees: for a prepaid commitment that started before ``e`` and whose total *T* changed, the fees
still to bill are re-planned so that the fees of the periods before ``e`` (as they were scheduled)
plus those still to bill equal ``T − amountPrepaid``. The re-planned schedule is written as explicit
fee dates: the fees of the periods before ``e`` where they were due, then the rest — in equal parts
over the commitment's billing periods from ``e`` (``BILLING_PLAN``, the last part taking the
rounding difference) or on the dates the amendment gives (``FEE_DATES``). If the periods before
``e`` hold more than the new total allows, the amendment is refused (``FEES_ALREADY_BILLED``)
unless it credits the difference: one negative fee on the period starting at ``e``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.billing.activation import check_activation, window_plans
from app.billing.amendment import Amendment, amend
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.calendar import billing_periods
from app.billing.fee_timing import bills_in_advance
from app.billing.fees import commitment_periods, commitment_total, is_prepaid, plan_parts
from app.billing.labels import money_text
from app.billing.ledger import EntryKind, LedgerEntry, Pool, entry, issue
from app.billing.settlement import settlement_for
from app.billing.terms import (
    Commitment,
    ContractTerms,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    in_creation_order,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class MoneyEffects:
    """The amended terms with their fees re-planned, and the pools' movements to write."""

    terms: ContractTerms
    entries: tuple[LedgerEntry, ...]
    new_pools: tuple[Pool, ...]
    validity: dict[str, DateRange]  # existing pool key → its new validity


def replan_needed(old: ContractTerms, new: ContractTerms, e: date) -> frozenset[str]:
    """Keys of the prepaid commitments that started before ``e`` and whose total changed."""
    before = {c.key: c for c in old.commitments}
    return frozenset(
        c.key for c in new.commitments
        if c.key in before and is_prepaid(c) and c.term.start < e
        and commitment_total(c, new.currency) != commitment_total(before[c.key], old.currency)
    )


def money_effects(old: ContractTerms, new: ContractTerms, pools: Mapping[str, Pool], e: date, *,
                  first_seq: int, fee_dates: Mapping[str, tuple[FeeDate, ...]] | None = None,
                  credit_overbilled_fees: bool = False) -> MoneyEffects:
    """See the module docstring. ``pools`` holds (at least) the contract's window pools by key;
    new pools are numbered from ``first_seq``."""
    replan = replan_needed(old, new, e)
    commitments = tuple(
        replace(c, fees=_replanned(old, new, c, e, (fee_dates or {}).get(c.key), credit_overbilled_fees))
        if c.key in replan else c
        for c in new.commitments
    )
    new_terms = replace(new, commitments=commitments)
    entries: list[LedgerEntry] = []
    new_pools: list[Pool] = []
    validity: dict[str, DateRange] = {}
    before = {c.key: c for c in old.commitments}
    after = {c.key: c for c in commitments}
    for key in [c.key for c in in_creation_order([*old.commitments, *(c for c in commitments if c.key not in before)])]:
        was, now = before.get(key), after.get(key)
        owner = now or was
        assert owner is not None
        settlement = settlement_for(owner)
        if settlement is None:
            continue
        old_plans = {p.window.index: p for p in window_plans(was, old.currency)} if was else {}
        new_plans = {p.window.index: p for p in window_plans(now, new.currency)} if now else {}
        for index, plan in old_plans.items():
            pool = pools.get(settlement.new_window_pool(owner, plan.window, 0).key)
            if pool is None:
                continue
            target = new_plans.get(index)
            if target is None:
                entries += _void(pool, pool.balance, e, "the window was removed by an amendment")
            elif target.window.span.start < e:
                if target.window.span != plan.window.span or target.committed != plan.committed:
                    used = max(ZERO, plan.committed - pool.balance)
                    keep = max(ZERO, target.committed - used)
                    entries += _void(pool, pool.balance - keep, e, "the window was cut by an amendment")
                    if pool.kind.pays:  # no longer drawn after e (a tracking pool pays nothing anyway)
                        validity[pool.key] = target.window.span
            elif target.committed != plan.committed:
                entries += _void(pool, pool.balance, e, "re-issued by an amendment")
                entries.append(entry(pool, EntryKind.ISSUE, target.committed, target.window.span.start,
                                     note="amendment"))
        for index, plan in new_plans.items():
            if index in old_plans:
                continue
            empty = settlement.new_window_pool(owner, plan.window, first_seq + len(new_pools))
            pool, first = issue(empty, plan.committed, plan.window.span.start, note="amendment")
            new_pools.append(pool)
            entries.append(first)
    return MoneyEffects(new_terms, tuple(entries), tuple(new_pools), validity)


def _void(pool: Pool, amount: Decimal, on: date, note: str) -> list[LedgerEntry]:
    return [entry(pool, EntryKind.VOID, amount, on, note=note)] if amount > 0 else []


def first_unbilled(terms: ContractTerms, c: Commitment, e: date) -> date:
    """The start of the first billing period whose fee no invoice before ``e`` bills: ``e`` in
    arrears; in advance (SPEC §16) the period after ``e``, whose fee the invoice closing the period
    starting at ``e`` bills (the term's end if there is none)."""
    if not bills_in_advance(c):
        return e
    return next((p.span.start for p in billing_periods(terms) if p.span.start > e), terms.term.end)


def scheduled_before(terms: ContractTerms, c: Commitment, cut: date) -> tuple[FeeDate, ...]:
    """The fees (first bill excepted) ``c``'s schedule puts in its billing periods before ``cut``,
    each dated where it was due (a plan part on its period's start)."""
    if c.fees.billing is FeeBilling.FEE_DATES:
        return tuple(d for d in c.fees.fee_dates if d.date < cut)
    periods = commitment_periods(terms, c)
    rest = commitment_total(c, terms.currency) - c.fees.amount_prepaid - c.fees.amount_first_bill
    parts = plan_parts(rest, len(periods), terms.currency)
    return tuple(FeeDate(p.span.start, part) for p, part in zip(periods, parts) if p.span.start < cut and part != 0)


def _replanned(old: ContractTerms, new: ContractTerms, c: Commitment, e: date,
               given: tuple[FeeDate, ...] | None, credit: bool) -> FeeSchedule:
    was = next(o for o in old.commitments if o.key == c.key)
    e = first_unbilled(new, c, e)  # in advance, the fee due in the period starting at e is billed already
    past = scheduled_before(old, was, e)
    billed = c.fees.amount_first_bill + sum((d.amount for d in past), ZERO)
    total = commitment_total(c, new.currency)
    rest = total - c.fees.amount_prepaid - billed
    if rest < 0 and not credit:
        raise BillingError(
            BillingErrorCode.FEES_ALREADY_BILLED,
            f"{c.label}: {money_text(billed, new.currency)} of fees are billed or due before {e}, more than "
            f"the amended total {money_text(total, new.currency)} less amountPrepaid allows; "
            "set creditOverbilledFees to credit the difference", "creditOverbilledFees")
    return replace(c.fees, billing=FeeBilling.FEE_DATES, fee_dates=(*past, *_future(new, c, e, rest, given)))


def _future(terms: ContractTerms, c: Commitment, e: date, rest: Decimal,
            given: tuple[FeeDate, ...] | None) -> tuple[FeeDate, ...]:
    if e >= terms.term.end:
        if rest:  # in advance, amended on the last period: every invoice that could bill it is written
            raise BillingError(BillingErrorCode.INVALID_FEE_SCHEDULE,
                               f"{c.label}: its fees are billed in advance and no invoice is left to bill "
                               f"{money_text(rest, terms.currency)} after this amendment", "effectiveDate")
        return ()
    if rest < 0:
        return (FeeDate(e, rest),)  # the credit, on the invoice of the period starting at e
    if c.fees.billing is FeeBilling.FEE_DATES:
        return _given(c, e, rest, given, terms.currency)
    periods = [p for p in commitment_periods(terms, c) if p.span.start >= e]
    if not periods:
        return (FeeDate(e, rest),) if rest else ()
    return tuple(FeeDate(p.span.start, part) for p, part in
                 zip(periods, plan_parts(rest, len(periods), terms.currency)) if part != 0)


def _given(c: Commitment, e: date, rest: Decimal, given: tuple[FeeDate, ...] | None,
           currency: str) -> tuple[FeeDate, ...]:
    code = BillingErrorCode.INVALID_FEE_SCHEDULE
    if given is None:
        raise BillingError(code, f"{c.label}: its total changes, so give the new fee dates of the "
                                 f"{money_text(rest, currency)} still to bill", "changes.feeDates")
    for item in given:
        if not (e <= item.date < c.term.end) or item.amount < 0:
            raise BillingError(code, f"{c.label}: a new fee date falls on or after {e} inside the commitment, "
                                     f"with an amount ≥ 0 (got {item.date}: {item.amount})", "changes.feeDates")
    if sum((d.amount for d in given), ZERO) != rest:
        raise BillingError(code, f"{c.label}: the new fee dates must add up to the "
                                 f"{money_text(rest, currency)} still to bill", "changes.feeDates")
    return tuple(sorted(given, key=lambda d: d.date))


def amended(old: ContractTerms, change: Amendment, pools: Mapping[str, Pool], *, first_seq: int) -> MoneyEffects:
    """The next version of ``old`` under ``change`` with its money effects: the terms amended
    (``amendment.amend``), checked with every draft and activation rule (a re-planned fee schedule
    is checked by its own rules here), then the pools and fees."""
    e = change.effective
    new = amend(old, change)
    fresh = {key: dates for key, dates in change.fee_dates.items()}
    new = replace(new, commitments=tuple(
        replace(c, fees=replace(c.fees, fee_dates=fresh[c.key])) if c.key in fresh and c.term.start >= e else c
        for c in new.commitments))
    replan = replan_needed(old, new, e)
    check_activation(replace(new, commitments=tuple(
        replace(c, fees=FeeSchedule()) if c.key in replan else c for c in new.commitments)))
    return money_effects(old, new, pools, e, first_seq=first_seq, fee_dates=fresh,
                         credit_overbilled_fees=change.credit_overbilled_fees)
