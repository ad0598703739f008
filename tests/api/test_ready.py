"""``/ready``: 200 once the database answers and every committed migration is applied, else 503
with the pending ones (an orchestrator's readiness probe; ``/health`` only says the process is up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
import httpx
from tortoise import connections
from app.db.config import close_db, init_db
from app.db.migrate import apply_migrations
from app.main import create_app
from app.settings import load_settings

async def main(url):
    await apply_migrations(url)
    await init_db(url)
    app = create_app(load_settings().model_copy(update={"database_url": url}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        ok = await http.get("/ready")
        assert ok.status_code == 200 and ok.json()["pendingMigrations"] == [], ok.text
        await connections.get("default").execute_script(
            "DELETE FROM tortoise_migrations WHERE name = '0008_usage_event_without_organization_index'")
        pending = await http.get("/ready")
        assert pending.status_code == 503, pending.text
        assert pending.json()["pendingMigrations"] == ["0008_usage_event_without_organization_index"]
        assert (await http.get("/health")).status_code == 200  # alive all the same
    await close_db()
    print("ok")

asyncio.run(main(sys.argv[1]))
"""


def test_ready_waits_for_every_migration(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite://{tmp_path / 'ready.sqlite3'}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
