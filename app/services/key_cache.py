"""An in-process cache of API keys: key hash → organization id, for a short time.

Checking a key was one query per request (27 % of the CPU of a ``{ __typename }`` over HTTP). A
valid key is remembered for ``ttl`` seconds (``COMMITMENTS_API_KEY_CACHE_SECONDS``, default 30;
0 turns the cache off), so a request with a known key runs no query.

Decisions:

- **Revocation delay.** A key revoked in the database (``api_key.revoked_at`` set) keeps working
  for at most ``ttl`` seconds on each process that has seen it; ``forget`` evicts a key from this
  process at once (whatever revokes or rotates keys in the service calls it). The README states the
  delay ("Authentication and tenancy").
- **Only valid keys are cached.** An unknown or revoked key is looked up again on every request, so
  a key issued a moment ago works at once, and random keys sent by a stranger cannot fill the cache.
- **Bounded.** At most ``maxsize`` keys; when full, the entry stored first goes (valid keys are few,
  so this only matters to bound memory).
- **Time is ``time.monotonic``**, not the application clock (``app.clock``): the cache's freshness
  is about elapsed seconds on this machine, and tests freeze the application clock. ``timer`` is
  injectable for tests.

A tiny dict rather than ``cachetools.TTLCache``: it needs no dependency and only does what this
needs (positive entries, expiry on read, a size bound).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class KeyCache:
    """Key hash → organization id, each entry valid for ``ttl`` seconds after it was stored."""

    def __init__(self, ttl: float, maxsize: int = 10_000, timer: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self.timer = timer
        self._entries: dict[str, tuple[int, float]] = {}

    def get(self, key_hash: str) -> int | None:
        """The organization of a key stored less than ``ttl`` seconds ago, else None."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        org_id, expires = entry
        if self.timer() >= expires:
            del self._entries[key_hash]
            return None
        return org_id

    def put(self, key_hash: str, org_id: int) -> None:
        """Remember a valid key (a no-op when the cache is off)."""
        if self.ttl <= 0:
            return
        self._entries.pop(key_hash, None)
        while len(self._entries) >= self.maxsize:
            del self._entries[next(iter(self._entries))]
        self._entries[key_hash] = (org_id, self.timer() + self.ttl)

    def forget(self, key_hash: str) -> None:
        """Drop one key from this process now (after revoking or rotating it)."""
        self._entries.pop(key_hash, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
