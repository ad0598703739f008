"""The one place that reads the environment, once, with casts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("data")


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. ``database_url`` is a Tortoise URL (sqlite:// or postgres://)."""

    database_url: str
    data_dir: Path
    host: str
    port: int
    debug: bool
    demo: bool
    max_query_depth: int
    max_tokens: int
    max_aliases: int

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("COMMITMENTS_DATA_DIR", str(DEFAULT_DATA_DIR)))
    default_db = f"sqlite://{data_dir / 'commitments.sqlite3'}"
    return Settings(
        database_url=os.environ.get("DATABASE_URL", default_db),
        data_dir=data_dir,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        debug=_bool(os.environ.get("COMMITMENTS_DEBUG"), False),
        demo=_bool(os.environ.get("COMMITMENTS_DEMO"), True),
        max_query_depth=int(os.environ.get("COMMITMENTS_MAX_DEPTH", "12")),
        max_tokens=int(os.environ.get("COMMITMENTS_MAX_TOKENS", "5000")),
        max_aliases=int(os.environ.get("COMMITMENTS_MAX_ALIASES", "30")),
    )
