"""The one place that asks for "now". Everything else is handed a clock.

Every reader of the time (``utc_now()``, ``today()``) asks the module's current clock: the
system's in production, a fixed one in tests. ``frozen_clock(day)`` sets "today" for a block::

    with frozen_clock(date(2026, 12, 1)):
        await close_period(org_id, contract_id)   # on 1 December, by the clock in UTC
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (tests, replays)."""

    at: datetime

    def now(self) -> datetime:
        return self.at


_clock: Clock = SystemClock()


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _clock.now().astimezone(UTC)


def today() -> date:
    """Today's date in UTC."""
    return utc_now().date()


def instant(when: date | datetime) -> datetime:
    """``when`` as an aware UTC instant: a date is its midnight UTC, a naive datetime is taken as UTC."""
    if not isinstance(when, datetime):
        return datetime.combine(when, time(), UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def set_clock(clock: Clock) -> Clock:
    """Make ``clock`` the one everything asks; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def frozen_clock(when: date | datetime) -> Iterator[FixedClock]:
    """Within the block, "now" is ``when`` (a date: its midnight UTC); the previous clock comes back after."""
    clock = FixedClock(instant(when))
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
