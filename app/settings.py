"""The one place that reads the environment, once, validated (pydantic-settings).

Every setting is a field of ``Settings``: its environment variable is ``COMMITMENTS_`` + the field's
name in capitals, unless the field names another (``validation_alias``: ``HOST``, ``PORT``,
``DATABASE_URL``, ``COMMITMENTS_MAX_DEPTH``). A value that does not parse, or is out of range, is
refused by ``load_settings()`` with ``SettingsError``: one line per variable, naming it and what it
expects (README "Configuration (environment)").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
DATABASE_SCHEMES = ("sqlite://", "postgres://", "postgresql://", "asyncpg://")
SCHEDULE_OFF = {"", "off", "false", "none"}


def _default_database(data: dict[str, Any]) -> str:
    return f"sqlite://{data.get('data_dir', DEFAULT_DATA_DIR) / 'commitments.sqlite3'}"


def _embedded(data: dict[str, Any]) -> bool:
    """Defaults that differ between the embedded SQLite mode and PostgreSQL (production)."""
    return str(data.get("database_url", "")).startswith("sqlite")


def _log_format(data: dict[str, Any]) -> str:
    """Lines for people in the embedded mode, JSON for log shippers on PostgreSQL (production)."""
    return "text" if _embedded(data) else "json"


class SettingsError(ValueError):
    """The environment holds values that do not parse; ``lines``: one per variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Runtime configuration. ``database_url`` is a Tortoise URL (sqlite:// or postgres://).
    Fields are read in order: a default computed from earlier fields (``data``) sees their values."""

    # Only the variable of each field is read (no second name): a field with its own variable
    # (validation_alias) is not also read under the prefix
    model_config = SettingsConfigDict(env_prefix="COMMITMENTS_", frozen=True, extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = Field(default_factory=_default_database, validation_alias="DATABASE_URL")
    host: str = Field("127.0.0.1", validation_alias="HOST")
    port: int = Field(8000, ge=1, le=65535, validation_alias="PORT")
    debug: bool = False
    demo: bool = True
    # Apply migrations in `commitments serve` (README "Running in production": on PostgreSQL they
    # are a step of their own, `commitments migrate`, run once before the rollout)
    migrate_on_start: bool = Field(default_factory=_embedded)
    max_query_depth: int = Field(12, ge=1, validation_alias="COMMITMENTS_MAX_DEPTH")
    max_tokens: int = Field(5000, ge=1)
    max_aliases: int = Field(30, ge=1)
    max_query_cost: int = Field(50000, ge=1)  # README "Query cost and limits"
    request_timeout_seconds: float = Field(10.0, ge=0)  # 0: no execution timeout
    api_key_cache_seconds: float = Field(30.0, ge=0)  # README "Authentication and tenancy": a revoked key's delay
    # HTTP transport and server limits (README "Server limits"), logs, production switches
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1)
    max_ingest_bytes: int = Field(64 * 1024 * 1024, ge=1)  # POST /v1/usage's body (README "Bulk ingest")
    body_timeout: float = Field(30.0, gt=0)
    header_timeout: float = Field(10.0, gt=0)
    max_header_bytes: int = Field(16 * 1024, ge=1)
    keep_alive_timeout: int = Field(5, ge=0)
    limit_concurrency: int = Field(200, ge=1)
    backlog: int = Field(2048, ge=1)
    graceful_shutdown: int = Field(30, ge=0)
    workers: int = Field(1, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # on by default in the embedded SQLite mode, off by default on PostgreSQL, i.e. in production
    introspection: bool = Field(default_factory=_embedded)
    field_suggestions: bool = Field(default_factory=_embedded)
    # Jobs (README "Workers"): the due-close schedule (cron, UTC; ``off``), PgQueuer's retry delay,
    # how long closeDuePeriods(wait: true) waits, the server's own consumer, jobs at once per process
    close_schedule: str = "0 * * * *"
    job_retry_seconds: float = Field(30.0, gt=0)
    close_wait_seconds: float = Field(300.0, ge=0)
    in_process_worker: bool = True
    worker_concurrency: int = Field(2, ge=1)
    # Browsers on other origins allowed to call the API (README "Browsers and CORS"); comma-separated
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Observability: README "Request ids and logs" (text or json), "Metrics" (GET /metrics), "Tracing"
    # (also on when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set: app/observability/tracing.py)
    log_format: Literal["text", "json"] = Field(default_factory=_log_format)
    metrics: bool = True
    tracing: bool = False

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return self.database_url.startswith("sqlite")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(DATABASE_SCHEMES):
            raise ValueError("a database URL: sqlite://PATH or postgres://user:pass@host:5432/db")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_name(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() not in ("text", "json"):
            raise ValueError("text or json")
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("close_schedule")
    @classmethod
    def _close_schedule(cls, value: str) -> str:
        from croniter import croniter

        if value.strip().lower() not in SCHEDULE_OFF and not croniter.is_valid(value):
            raise ValueError("a cron expression (5 fields, UTC, e.g. '0 * * * *') or off")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value


def env_name(field: str) -> str:
    """The environment variable of a field."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"COMMITMENTS_{field.upper()}"


def _expects(field: str) -> str:
    """What a field accepts, in words, from its type and bounds."""
    info = Settings.model_fields[field]
    kind = {int: "an integer", float: "a number", bool: "a boolean (true/false, 1/0, yes/no, on/off)",
            Path: "a path"}.get(info.annotation, "a text")  # type: ignore[call-overload]
    if get_origin(info.annotation) is Literal:
        return "one of " + ", ".join(get_args(info.annotation))
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in info.metadata
              if type(m).__name__ in ("Ge", "Gt", "Le")}
    if "Ge" in bounds and "Le" in bounds:
        return f"{kind} from {bounds['Ge']} to {bounds['Le']}"
    if "Gt" in bounds:
        return f"{kind} greater than {bounds['Gt']:g}"
    if "Ge" in bounds:
        return f"{kind} of at least {bounds['Ge']:g}"
    return kind


def _field_of(loc: str) -> str | None:
    for name, info in Settings.model_fields.items():
        if loc.lower() in (name, env_name(name).lower()):
            return name
    return None


def _error_lines(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        if error["type"] == "default_factory_not_called":  # a default computed from a refused value
            continue
        field = _field_of(str(error["loc"][0])) if error["loc"] else None
        if field is None:
            lines.append(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
            continue
        ctx_error = (error.get("ctx") or {}).get("error")
        expects = str(ctx_error) if error["type"] == "value_error" and ctx_error else _expects(field)
        lines.append(f"{env_name(field)}: expected {expects}, got {error['input']!r}")
    return lines


def load_settings() -> Settings:
    """The settings of the environment; ``SettingsError`` names every variable that does not parse."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_error_lines(exc)) from None
