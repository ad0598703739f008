"""Settings (README "Configuration (environment)"): every variable parses, keeps its default and
meaning; a bad value is refused with one line naming the variable and what it expects."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings, SettingsError, env_name, load_settings

ROOT = Path(__file__).resolve().parents[2]
SETTING_VARS = ("HOST", "PORT", "DATABASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the service from the test run's own environment."""
    for name in list(os.environ):
        if name.startswith("COMMITMENTS_") or name in SETTING_VARS:
            monkeypatch.delenv(name)


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    with pytest.raises(SettingsError) as refused:
        settings_with(monkeypatch, **env)
    return refused.value.lines


def test_the_defaults_are_the_readme_s() -> None:
    s = load_settings()
    assert (s.database_url, s.data_dir, s.host, s.port) == ("sqlite://data/commitments.sqlite3", Path("data"),
                                                            "127.0.0.1", 8000)
    assert (s.debug, s.demo, s.migrate_on_start) == (False, True, True)
    assert (s.introspection, s.field_suggestions) == (True, True)
    assert (s.max_query_depth, s.max_tokens, s.max_aliases, s.max_query_cost) == (12, 5000, 30, 50000)
    assert (s.request_timeout_seconds, s.api_key_cache_seconds) == (10, 30)
    assert (s.max_body_bytes, s.max_ingest_bytes, s.body_timeout, s.header_timeout) == (2 * 2**20, 64 * 2**20, 30, 10)
    assert (s.max_header_bytes, s.keep_alive_timeout, s.limit_concurrency, s.backlog) == (16384, 5, 200, 2048)
    assert (s.graceful_shutdown, s.workers, s.log_level) == (30, 1, "INFO")
    assert (s.close_schedule, s.job_retry_seconds, s.close_wait_seconds) == ("0 * * * *", 30, 300)
    assert (s.in_process_worker, s.worker_concurrency, s.cors_origins) == (True, 2, ())
    assert s.is_embedded


VALUES: list[tuple[str, str, str, Any]] = [
    ("DATABASE_URL", "postgres://u:p@db:5432/billing", "database_url", "postgres://u:p@db:5432/billing"),
    ("COMMITMENTS_DATA_DIR", "/var/lib/x", "data_dir", Path("/var/lib/x")),
    ("HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("PORT", "9000", "port", 9000),
    ("COMMITMENTS_DEBUG", "yes", "debug", True),
    ("COMMITMENTS_DEMO", "off", "demo", False),
    ("COMMITMENTS_MIGRATE_ON_START", "0", "migrate_on_start", False),
    ("COMMITMENTS_MAX_DEPTH", "7", "max_query_depth", 7),
    ("COMMITMENTS_MAX_TOKENS", "100", "max_tokens", 100),
    ("COMMITMENTS_MAX_ALIASES", "3", "max_aliases", 3),
    ("COMMITMENTS_MAX_QUERY_COST", "999", "max_query_cost", 999),
    ("COMMITMENTS_REQUEST_TIMEOUT_SECONDS", "2.5", "request_timeout_seconds", 2.5),
    ("COMMITMENTS_API_KEY_CACHE_SECONDS", "0", "api_key_cache_seconds", 0),
    ("COMMITMENTS_MAX_BODY_BYTES", "1024", "max_body_bytes", 1024),
    ("COMMITMENTS_MAX_INGEST_BYTES", "2048", "max_ingest_bytes", 2048),
    ("COMMITMENTS_BODY_TIMEOUT", "1.5", "body_timeout", 1.5),
    ("COMMITMENTS_HEADER_TIMEOUT", "3", "header_timeout", 3),
    ("COMMITMENTS_MAX_HEADER_BYTES", "4096", "max_header_bytes", 4096),
    ("COMMITMENTS_KEEP_ALIVE_TIMEOUT", "0", "keep_alive_timeout", 0),
    ("COMMITMENTS_LIMIT_CONCURRENCY", "10", "limit_concurrency", 10),
    ("COMMITMENTS_BACKLOG", "64", "backlog", 64),
    ("COMMITMENTS_GRACEFUL_SHUTDOWN", "0", "graceful_shutdown", 0),
    ("COMMITMENTS_WORKERS", "4", "workers", 4),
    ("COMMITMENTS_LOG_LEVEL", "warning", "log_level", "WARNING"),
    ("COMMITMENTS_INTROSPECTION", "false", "introspection", False),
    ("COMMITMENTS_FIELD_SUGGESTIONS", "FALSE", "field_suggestions", False),
    ("COMMITMENTS_CLOSE_SCHEDULE", "*/15 * * * *", "close_schedule", "*/15 * * * *"),
    ("COMMITMENTS_CLOSE_SCHEDULE", "off", "close_schedule", "off"),
    ("COMMITMENTS_JOB_RETRY_SECONDS", "5", "job_retry_seconds", 5),
    ("COMMITMENTS_CLOSE_WAIT_SECONDS", "0", "close_wait_seconds", 0),
    ("COMMITMENTS_IN_PROCESS_WORKER", "false", "in_process_worker", False),
    ("COMMITMENTS_WORKER_CONCURRENCY", "8", "worker_concurrency", 8),
    ("COMMITMENTS_CORS_ORIGINS", " https://a.example , https://b.example,", "cors_origins",
     ("https://a.example", "https://b.example")),
    ("COMMITMENTS_CORS_ORIGINS", "", "cors_origins", ()),
]


@pytest.mark.parametrize(("variable", "raw", "field", "expected"), VALUES)
def test_every_variable_parses(monkeypatch: pytest.MonkeyPatch, variable: str, raw: str, field: str,
                               expected: Any) -> None:
    assert env_name(field) == variable
    assert getattr(settings_with(monkeypatch, **{variable: raw}), field) == expected


def test_defaults_that_follow_other_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_with(monkeypatch, COMMITMENTS_DATA_DIR="/srv/state").database_url == \
        "sqlite:///srv/state/commitments.sqlite3"
    on_postgres = settings_with(monkeypatch, DATABASE_URL="postgres://u@h/db")
    assert (on_postgres.introspection, on_postgres.field_suggestions, on_postgres.migrate_on_start) == (False,) * 3
    assert not on_postgres.is_embedded
    forced = settings_with(monkeypatch, COMMITMENTS_INTROSPECTION="true", COMMITMENTS_MIGRATE_ON_START="true")
    assert (forced.introspection, forced.migrate_on_start) == (True, True)


def test_a_variable_has_one_name(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings_with(monkeypatch, COMMITMENTS_PORT="9", COMMITMENTS_DATABASE_URL="postgres://u@h/db",
                      COMMITMENTS_MAX_QUERY_DEPTH="3")
    assert (s.port, s.database_url, s.max_query_depth) == (8000, "sqlite://data/commitments.sqlite3", 12)


def test_settings_are_frozen() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        load_settings().port = 1  # type: ignore[misc]


BOOLEAN = "a boolean (true/false, 1/0, yes/no, on/off)"
REFUSED = [
    ({"PORT": "abc"}, "PORT: expected an integer from 1 to 65535, got 'abc'"),
    ({"PORT": "70000"}, "PORT: expected an integer from 1 to 65535, got '70000'"),
    ({"COMMITMENTS_DEBUG": "maybe"}, f"COMMITMENTS_DEBUG: expected {BOOLEAN}, got 'maybe'"),
    ({"COMMITMENTS_INTROSPECTION": ""}, f"COMMITMENTS_INTROSPECTION: expected {BOOLEAN}, got ''"),
    ({"COMMITMENTS_WORKERS": "0"}, "COMMITMENTS_WORKERS: expected an integer of at least 1, got '0'"),
    ({"COMMITMENTS_MAX_DEPTH": "-3"}, "COMMITMENTS_MAX_DEPTH: expected an integer of at least 1, got '-3'"),
    ({"COMMITMENTS_BODY_TIMEOUT": "-1"}, "COMMITMENTS_BODY_TIMEOUT: expected a number greater than 0, got '-1'"),
    ({"COMMITMENTS_REQUEST_TIMEOUT_SECONDS": "-0.5"},
     "COMMITMENTS_REQUEST_TIMEOUT_SECONDS: expected a number of at least 0, got '-0.5'"),
    ({"COMMITMENTS_CLOSE_WAIT_SECONDS": "soon"}, "COMMITMENTS_CLOSE_WAIT_SECONDS: expected a number of at least 0, "
                                                 "got 'soon'"),
    ({"COMMITMENTS_LOG_LEVEL": "loud"},
     "COMMITMENTS_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
    ({"COMMITMENTS_CLOSE_SCHEDULE": "every hour"},
     "COMMITMENTS_CLOSE_SCHEDULE: expected a cron expression (5 fields, UTC, e.g. '0 * * * *') or off, "
     "got 'every hour'"),
    ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL: expected a database URL: sqlite://PATH or "
                                         "postgres://user:pass@host:5432/db, got 'mysql://u@h/db'"),
]


@pytest.mark.parametrize(("env", "line"), REFUSED)
def test_a_bad_value_names_its_variable_and_what_it_expects(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                            line: str) -> None:
    assert refusal(monkeypatch, **env) == [line]


def test_every_bad_value_is_listed_not_only_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = refusal(monkeypatch, PORT="abc", COMMITMENTS_DEBUG="maybe", DATABASE_URL="postgres://u@h/db")
    assert [line.split(":")[0] for line in lines] == ["PORT", "COMMITMENTS_DEBUG"]


@pytest.mark.parametrize("field", [name for name, info in Settings.model_fields.items()
                                   if info.annotation in (int, float, bool)])
def test_every_number_and_boolean_refuses_text(monkeypatch: pytest.MonkeyPatch, field: str) -> None:
    assert refusal(monkeypatch, **{env_name(field): "not-a-value"}) == \
        [f"{env_name(field)}: expected {_kind(field)}, got 'not-a-value'"]


def _kind(field: str) -> str:
    from app.settings import _expects

    expects = _expects(field)
    assert expects.startswith(("an integer", "a number", "a boolean"))
    return expects


def test_every_variable_is_in_the_readme_table() -> None:
    text = (ROOT / "README.md").read_text()
    table = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`((?:COMMITMENTS_)?[A-Z][A-Z_]+)`", table))
    variables = {env_name(field) for field in Settings.model_fields}
    assert variables - documented == set(), "not in README's Configuration table"


@pytest.mark.parametrize(("env", "line"), [
    ({"PORT": "abc"}, "error: PORT: expected an integer from 1 to 65535, got 'abc'"),
    ({"COMMITMENTS_DEBUG": "maybe"}, f"error: COMMITMENTS_DEBUG: expected {BOOLEAN}, got 'maybe'"),
])
def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path, env: dict[str, str], line: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COMMITMENTS_") and k not in SETTING_VARS}
    done = subprocess.run([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT, capture_output=True, text=True,
                          env={**environ, "COMMITMENTS_DATA_DIR": str(tmp_path), **env}, timeout=60)
    assert (done.returncode, done.stderr, done.stdout) == (2, line + "\n", "")
    assert not (tmp_path / "commitments.sqlite3").exists()  # refused before doing anything
