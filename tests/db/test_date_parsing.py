"""SQLite stores dates and datetimes as text; Tortoise parses them on every row read back. With
``ciso8601`` installed (a dependency: Tortoise's "accel" extra) it uses that C parser instead of the
pure-Python ``iso8601`` (which was about a third of a large nested read's time). The values read
back must be the same either way."""

from __future__ import annotations

from datetime import UTC, datetime

import ciso8601
import tortoise.fields.data as tortoise_fields

from app.db.models import Organization
from tests.api.helpers import new_org


def test_tortoise_parses_dates_with_ciso8601() -> None:
    assert tortoise_fields.parse_datetime is ciso8601.parse_datetime


def test_the_c_parser_reads_what_sqlite_stores_as_iso8601_did() -> None:
    import functools

    from iso8601 import parse_date

    python_parser = functools.partial(parse_date, default_timezone=None)
    for text in ("2026-01-31", "2026-12-03 17:00:37.179141+00:00", "2026-12-03T17:00:37+00:00",
                 "2026-12-03 17:00:37", "2026-03-29 01:30:00+02:00"):
        assert ciso8601.parse_datetime(text) == python_parser(text)
        assert ciso8601.parse_datetime(text).utcoffset() == python_parser(text).utcoffset()


async def test_dates_and_datetimes_read_back_unchanged(db: str) -> None:
    org = await Organization.get(id=await new_org("Dates"))
    assert isinstance(org.created_at, datetime) and org.created_at.tzinfo is not None
    assert org.created_at.utcoffset() == UTC.utcoffset(None)
