"""The embedded default's demo data: created once, with invoices to explore."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.clock import SystemClock
from app.db.models import Contract, Invoice
from app.demo import ensure_embedded_org
from app.settings import load_settings


@pytest.mark.parametrize("real_clock", [False, True])
async def test_demo_organization_has_contracts_and_invoices(db: str, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                            real_clock: bool) -> None:
    if real_clock:  # the demo's quarter is due by the machine's clock too (its as-of lies in the past)
        monkeypatch.setattr("app.clock._clock", SystemClock())
    monkeypatch.setenv("COMMITMENTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", db)
    settings = load_settings()
    from app.db import config

    monkeypatch.setattr(config, "init_db", _noop)
    monkeypatch.setattr(config, "close_db", _noop)
    import app.demo as demo

    monkeypatch.setattr(demo, "init_db", _noop)
    monkeypatch.setattr(demo, "close_db", _noop)
    key = await ensure_embedded_org(settings)
    assert key.startswith("cmt_")
    assert await ensure_embedded_org(settings) == key  # the second start reuses the stored key
    assert await Contract.filter(status="ACTIVE").count() == 2
    assert await Contract.filter(status="DRAFT").count() == 2
    assert await Invoice.all().count() == 6


async def _noop(*_: object) -> None:
    return None
