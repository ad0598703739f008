"""Renewal carry-over (SPEC §15): where the rollover of a commitment's last window goes.

Inside the term, a window's rollover goes to the next window of the same commitment (SPEC §6).
The last window has no next window, so its remainder expires — unless the contract has an ACTIVE
successor whose commitment renews this one: then the rolled amount is issued into the *first
window of the renewing commitment*, as that commitment's rolled-over credit. The services pass
the successor (its renewing commitment and that commitment's first window) in the close's input;
this module only decides, it reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.billing.calendar import Period
from app.billing.terms import Commitment


@dataclass(frozen=True)
class Successor:
    """The commitment renewing ``renews`` (a commitment key of the contract being closed), in an
    ACTIVE successor contract, with its first window (window 1, ``index`` 0)."""

    renews: str
    commitment: Commitment
    first_window: Period


@dataclass(frozen=True)
class RollTarget:
    """Where a window's rollover goes: ``window`` of ``commitment`` (None: nowhere, it expires)."""

    commitment: Commitment
    window: Period | None


def by_renewed(successors: Iterable[Successor]) -> dict[str, Successor]:
    """Successors by the key of the commitment they renew."""
    return {s.renews: s for s in successors}


def roll_target(
    commitment: Commitment, next_window: Period | None, successors: Mapping[str, Successor]
) -> RollTarget:
    """The next window of the same commitment if there is one; for the last window, the first
    window of the renewing commitment if the close was given one; else nowhere."""
    if next_window is not None:
        return RollTarget(commitment, next_window)
    successor = successors.get(commitment.key)
    if successor is None:
        return RollTarget(commitment, None)
    return RollTarget(successor.commitment, successor.first_window)
