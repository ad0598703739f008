"""The one place that reads the environment, once, with casts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    max_query_cost: int  # README "Query cost and limits"
    request_timeout_seconds: float
    api_key_cache_seconds: float  # README "Authentication and tenancy": a revoked key's delay
    # HTTP transport and server limits (README "Server limits"), logs, production switches
    max_body_bytes: int
    body_timeout: float
    header_timeout: float
    max_header_bytes: int
    keep_alive_timeout: int
    limit_concurrency: int
    backlog: int
    graceful_shutdown: int
    workers: int
    log_level: str
    introspection: bool
    field_suggestions: bool
    max_ingest_bytes: int = 64 * 1024 * 1024  # POST /v1/usage's body (README "Bulk ingest")
    # Jobs (README "Workers"): the due-close schedule, PgQueuer's retry delay, waits, consumers
    close_schedule: str = "0 * * * *"
    job_retry_seconds: float = 30.0
    close_wait_seconds: float = 300.0
    in_process_worker: bool = True
    worker_concurrency: int = 2
    # Browsers on other origins allowed to call the API (README "Browsers and CORS"); none by default
    cors_origins: tuple[str, ...] = ()

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


def _server_settings(embedded: bool) -> dict[str, Any]:
    """Transport limits, logs and production switches (introspection and suggestions: on by
    default in the embedded SQLite mode, off by default on PostgreSQL, i.e. in production)."""
    env = os.environ.get
    return {
        "max_body_bytes": int(env("COMMITMENTS_MAX_BODY_BYTES", str(2 * 1024 * 1024))),
        "max_ingest_bytes": int(env("COMMITMENTS_MAX_INGEST_BYTES", str(64 * 1024 * 1024))),
        "body_timeout": float(env("COMMITMENTS_BODY_TIMEOUT", "30")),
        "header_timeout": float(env("COMMITMENTS_HEADER_TIMEOUT", "10")),
        "max_header_bytes": int(env("COMMITMENTS_MAX_HEADER_BYTES", str(16 * 1024))),
        "keep_alive_timeout": int(env("COMMITMENTS_KEEP_ALIVE_TIMEOUT", "5")),
        "limit_concurrency": int(env("COMMITMENTS_LIMIT_CONCURRENCY", "200")),
        "backlog": int(env("COMMITMENTS_BACKLOG", "2048")),
        "graceful_shutdown": int(env("COMMITMENTS_GRACEFUL_SHUTDOWN", "30")),
        "workers": int(env("COMMITMENTS_WORKERS", "1")),
        "log_level": env("COMMITMENTS_LOG_LEVEL", "INFO").upper(),
        "introspection": _bool(env("COMMITMENTS_INTROSPECTION"), embedded),
        "field_suggestions": _bool(env("COMMITMENTS_FIELD_SUGGESTIONS"), embedded),
        **_job_settings(),
    }


def _job_settings() -> dict[str, Any]:
    """README "Workers": the schedule (cron, UTC; ``off``), the delay after which a job whose
    worker stopped (SIGKILL, lost machine) is retried, how long closeDuePeriods(wait: true) waits,
    the server's own consumer on PostgreSQL, jobs at once per process."""
    env = os.environ.get
    return {
        "close_schedule": env("COMMITMENTS_CLOSE_SCHEDULE", "0 * * * *"),
        "job_retry_seconds": float(env("COMMITMENTS_JOB_RETRY_SECONDS", "30")),
        "close_wait_seconds": float(env("COMMITMENTS_CLOSE_WAIT_SECONDS", "300")),
        "in_process_worker": _bool(env("COMMITMENTS_IN_PROCESS_WORKER"), True),
        "worker_concurrency": int(env("COMMITMENTS_WORKER_CONCURRENCY", "2")),
        "cors_origins": tuple(o.strip() for o in env("COMMITMENTS_CORS_ORIGINS", "").split(",") if o.strip()),
    }


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("COMMITMENTS_DATA_DIR", str(DEFAULT_DATA_DIR)))
    default_db = f"sqlite://{data_dir / 'commitments.sqlite3'}"
    database_url = os.environ.get("DATABASE_URL", default_db)
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        debug=_bool(os.environ.get("COMMITMENTS_DEBUG"), False),
        demo=_bool(os.environ.get("COMMITMENTS_DEMO"), True),
        max_query_depth=int(os.environ.get("COMMITMENTS_MAX_DEPTH", "12")),
        max_tokens=int(os.environ.get("COMMITMENTS_MAX_TOKENS", "5000")),
        max_aliases=int(os.environ.get("COMMITMENTS_MAX_ALIASES", "30")),
        max_query_cost=int(os.environ.get("COMMITMENTS_MAX_QUERY_COST", "50000")),
        request_timeout_seconds=float(os.environ.get("COMMITMENTS_REQUEST_TIMEOUT_SECONDS", "10")),
        api_key_cache_seconds=float(os.environ.get("COMMITMENTS_API_KEY_CACHE_SECONDS", "30")),
        **_server_settings(database_url.startswith("sqlite")),
    )
