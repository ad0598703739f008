"""Amending an active contract from an effective date (SPEC §13): the amended terms.

``amend`` takes the terms of the version being amended and the changes, and returns the terms of
the next version, checked with every draft rule (``activation.check_activation``). It is pure: the
services give it the new service lines' and commitments' keys (their rows' ids) and persist the
result as a new version. What the amendment does to money (pools re-issued or withdrawn, the
commitment fees re-planned) is ``amendment_money``.

From the effective date ``e`` (a billing-period start):
- prices are added, replaced or removed; the standing charge and the minimum spend replaced;
- an ended service line stops at ``e`` (one starting on or after ``e`` is dropped); added lines
  start on or after ``e``;
- an ended commitment is cut at ``e`` (``uncut_end`` keeps its old end, so the window in progress
  is partial against its uncut length); one starting on or after ``e`` is dropped; added
  commitments start at ``e``;
- new ramp steps apply from a window starting on or after ``e``: earlier windows, and the window
  in progress at ``e``, keep their amounts;
- a later end date extends the calendar: the contract and every commitment that ran to its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from app.billing.calendar import billing_periods, commitment_windows
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import (
    Commitment,
    ContractTerms,
    DateRange,
    FeeDate,
    Price,
    RampStep,
    ServiceLine,
)

CODE = BillingErrorCode.INVALID_EFFECTIVE_DATE


@dataclass(frozen=True)
class RampChange:
    """New ramp steps for commitment ``commitment_key``, from a window starting on or after ``e``."""

    commitment_key: str
    steps: tuple[RampStep, ...]


@dataclass(frozen=True)
class Amendment:
    """What an amendment changes, each from ``effective`` on (``None`` / empty: unchanged).

    ``fee_dates`` gives, per prepaid ``FEE_DATES`` commitment whose total changes, the new dates of
    the fees still to bill (on or after ``effective``, adding up to them exactly)."""

    effective: date
    standing_charge: Decimal | None = None
    minimum_spend: Decimal | None = None
    prices: tuple[Price, ...] = ()
    remove_prices: frozenset[str] = frozenset()
    add_lines: tuple[ServiceLine, ...] = ()
    end_lines: frozenset[str] = frozenset()
    add_commitments: tuple[Commitment, ...] = ()
    end_commitments: frozenset[str] = frozenset()
    ramps: tuple[RampChange, ...] = ()
    end_date: date | None = None
    fee_dates: dict[str, tuple[FeeDate, ...]] = field(default_factory=dict)
    credit_overbilled_fees: bool = False


def check_effective(terms: ContractTerms, effective: date) -> None:
    """``effective`` must be the start of one of the contract's billing periods
    (``INVALID_EFFECTIVE_DATE``); that it is not closed is the services' to check."""
    if effective not in {p.span.start for p in billing_periods(terms)}:
        raise BillingError(CODE, f"{effective} is not the start of a billing period of the contract",
                           "effectiveDate")


def first_window_from(commitment: Commitment, effective: date) -> int:
    """The number (from 1) of the commitment's first window starting on or after ``effective``."""
    for window in commitment_windows(commitment):
        if window.span.start >= effective:
            return window.number
    return len(commitment_windows(commitment)) + 1


def amend(terms: ContractTerms, change: Amendment) -> ContractTerms:
    """The terms of the next version (see the module docstring), checked like a draft's."""
    e = change.effective
    check_effective(terms, e)
    known = {c.key for c in terms.commitments}
    lines = {line.key for line in terms.service_lines}
    _known(change.end_commitments | {r.commitment_key for r in change.ramps}, known, "commitments",
           BillingErrorCode.INVALID_COMMITMENT)
    _known(change.end_lines, lines, "serviceLines", BillingErrorCode.INVALID_SERVICE_LINE)
    prices = {p.usage_class: p for p in terms.prices if p.usage_class not in change.remove_prices}
    prices.update({p.usage_class: p for p in change.prices})
    new = replace(
        terms,
        standing_charge=terms.standing_charge if change.standing_charge is None else change.standing_charge,
        minimum_spend=terms.minimum_spend if change.minimum_spend is None else change.minimum_spend,
        prices=tuple(prices.values()),
        service_lines=(*_lines(terms.service_lines, change.end_lines, e), *_starting(change.add_lines, e)),
        commitments=_commitments(terms, change),
    )
    if change.end_date is not None:
        new = _extended(new, terms.term.end, change.end_date)
    return new


def _known(keys: frozenset[str] | set[str], known: set[str], field_name: str, code: BillingErrorCode) -> None:
    for key in sorted(keys - known):
        raise BillingError(code, f"{key} is not one of the contract's {field_name}", f"changes.{field_name}")


def _lines(lines: tuple[ServiceLine, ...], ended: frozenset[str], e: date) -> list[ServiceLine]:
    out = []
    for line in lines:
        if line.key not in ended:
            out.append(line)
        elif line.active.start < e:
            out.append(replace(line, active=DateRange(line.active.start, min(line.active.end, e))))
    return out


def _starting(lines: tuple[ServiceLine, ...], e: date) -> tuple[ServiceLine, ...]:
    for line in lines:
        if line.active.start < e:
            raise BillingError(CODE, f"an added service line starts on or after {e}, not {line.active.start}",
                               "changes.addServiceLines")
    return lines


def _commitments(terms: ContractTerms, change: Amendment) -> tuple[Commitment, ...]:
    e = change.effective
    ramps = {r.commitment_key: r.steps for r in change.ramps}
    out = []
    for c in terms.commitments:
        if c.key in change.end_commitments:
            if c.term.start >= e:
                continue  # never started: dropped
            if c.term.end > e:
                c = replace(c, term=DateRange(c.term.start, e), uncut_end=c.uncut_end or c.term.end)
        elif c.key in ramps:
            c = replace(c, ramp=_new_ramp(c, ramps[c.key], e))
        out.append(c)
    for added in change.add_commitments:
        if added.term.start != e:
            raise BillingError(CODE, f"an added commitment starts on the effective date {e}", "changes.addCommitments")
        out.append(added)
    return tuple(out)


def _new_ramp(c: Commitment, steps: tuple[RampStep, ...], e: date) -> tuple[RampStep, ...]:
    """The old steps for the windows before the first new step, then the new steps."""
    first = first_window_from(c, e)
    if not steps:
        raise BillingError(BillingErrorCode.INVALID_RAMP, f"{c.label}: give at least one ramp step", "changes.ramps")
    start = min(s.from_window for s in steps)
    if start < first:
        raise BillingError(
            BillingErrorCode.INVALID_RAMP,
            f"{c.label}: window {start} starts before {e}; new amounts apply from window {first} on "
            "(a window in progress keeps its committed amount)", "changes.ramps")
    kept = [s for s in c.ramp if s.from_window < start]
    return (*kept, *sorted(steps, key=lambda s: s.from_window))


def _extended(terms: ContractTerms, old_end: date, end: date) -> ContractTerms:
    """The calendar extended from ``old_end`` to ``end``: refused unless ``old_end`` is a boundary
    of the billing periods and of the windows of the commitments that run to it (a period or window
    cut by the old end would change its amount mid-way)."""
    if end <= old_end:
        raise BillingError(BillingErrorCode.INVALID_INTERVAL,
                           f"an amendment extends the end date beyond {old_end}; to end earlier, terminate",
                           "changes.endDate")
    if billing_periods(terms)[-1].partial:
        raise BillingError(BillingErrorCode.INVALID_INTERVAL,
                           f"the last billing period is cut by {old_end}: the term cannot be extended", "changes.endDate")
    commitments = []
    for c in terms.commitments:
        if c.term.end == old_end and c.uncut_end is None:
            if commitment_windows(c)[-1].partial:
                raise BillingError(BillingErrorCode.INVALID_INTERVAL,
                                   f"{c.label}: its last window is cut by {old_end}: the term cannot be extended",
                                   "changes.endDate")
            c = replace(c, term=DateRange(c.term.start, end))
        commitments.append(c)
    lines = tuple(replace(line, active=DateRange(line.active.start, end)) if line.active.end == old_end else line
                  for line in terms.service_lines)
    return replace(terms, term=DateRange(terms.term.start, end), commitments=tuple(commitments),
                   service_lines=lines)
