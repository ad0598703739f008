"""The usage insert on PostgreSQL has one statement text whatever the batch size (asyncpg caches
it), and a batch's statements run on one connection (one transaction)."""

from __future__ import annotations

from app.services import usage
from tests.api.helpers import count_queries
from tests.services.test_usage import World, ev, world  # noqa: F401 - fixture


async def test_the_insert_text_is_the_same_for_1_and_1000_events(postgres_only: None, world: World) -> None:
    texts = []
    for prefix, n in (("one", 1), ("many", 1000)):
        with count_queries() as statements:
            results = await usage.record_usage(world.org, [ev(world, f"{prefix}{i}") for i in range(n)])
        assert all(r.status.value == "ACCEPTED" for r in results)
        inserts = [s for s in statements if "INSERT INTO usage_event" in s]
        assert len(inserts) == 1
        texts.append(inserts[0].split(": [")[0])  # Tortoise logs "<sql>: <values>"
    assert "unnest(" in texts[0]
    assert texts[0] == texts[1]
