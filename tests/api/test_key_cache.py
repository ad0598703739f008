"""The API-key cache: a known key runs no query, a revoked key stops working after the TTL, a new
key works at once, and the cache stays bounded."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.clock import utc_now
from app.db.models import ApiKey
from app.main import create_app
from app.services import organizations
from app.services.key_cache import KeyCache
from app.services.organizations import create_organization, hash_key, issue_api_key
from tests.api.helpers import count_queries

QUERY = {"query": "{ __typename }"}
ORG_QUERY = {"query": "{ organization { name } }"}


class Ticks:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ticks]:
    timer = Ticks()
    monkeypatch.setattr(organizations, "KEYS", KeyCache(ttl=30, timer=timer))
    yield timer


def client() -> httpx.AsyncClient:
    app = create_app(manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_known_key_runs_no_query_until_the_ttl_has_passed(db: str, ticks: Ticks) -> None:
    _, key = await create_organization("Cached", "GBP")
    async with client() as http:
        with count_queries() as first:
            assert (await http.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 200
        with count_queries() as second:
            assert (await http.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 200
        ticks.now += 30
        with count_queries() as after_ttl:
            assert (await http.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 200
    assert [s for s in first if "api_key" in s], first
    assert second == []  # `{ __typename }` with a remembered key: no statement at all
    assert [s for s in after_ttl if "api_key" in s], after_ttl  # re-read after the TTL


async def test_a_revoked_key_works_at_most_the_ttl(db: str, ticks: Ticks) -> None:
    org, key = await create_organization("Revoked", "GBP")
    async with client() as http:
        assert (await http.post("/graphql", json=ORG_QUERY, headers=bearer(key))).json()["data"] == {
            "organization": {"name": "Revoked"}}
        await ApiKey.filter(key_hash=hash_key(key)).update(revoked_at=utc_now())
        ticks.now += 29.9
        within = (await http.post("/graphql", json=ORG_QUERY, headers=bearer(key))).json()
        ticks.now += 0.1
        after = (await http.post("/graphql", json=ORG_QUERY, headers=bearer(key))).json()
    assert within["data"] == {"organization": {"name": "Revoked"}}  # the documented delay
    assert after["data"] is None and after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_forget_ends_a_key_on_this_process_at_once(db: str, ticks: Ticks) -> None:
    _, key = await create_organization("Forgotten", "GBP")
    assert await organizations.authenticate(key) is not None
    await ApiKey.filter(key_hash=hash_key(key)).update(revoked_at=utc_now())
    organizations.KEYS.forget(hash_key(key))
    assert await organizations.authenticate(key) is None


async def test_unknown_keys_are_not_remembered_so_a_new_key_works_at_once(db: str, ticks: Ticks) -> None:
    org, _ = await create_organization("Fresh", "GBP")
    for i in range(50):
        assert await organizations.authenticate(f"cmt_stranger_{i}") is None
    assert len(organizations.KEYS) == 0  # strangers' keys do not fill the cache
    new_key = await issue_api_key(org.id)
    assert await organizations.authenticate(new_key) == org.id


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    timer = Ticks()
    cache = KeyCache(ttl=30, maxsize=3, timer=timer)
    for i in range(5):
        cache.put(f"h{i}", i)
    assert len(cache) == 3 and cache.get("h0") is None and cache.get("h4") == 4
    off = KeyCache(ttl=0, timer=timer)
    off.put("h", 1)
    assert off.get("h") is None
