"""The command line (typer): progress as rich's bar on a terminal and as plain lines in a log or a
pipe; `serve` migrates only when told to; an embedded database folder it cannot write is refused
with one line, exit code 2."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.progress import progress

ROOT = Path(__file__).resolve().parents[2]
SEED = """
import asyncio, sys
from app.db.config import close_db, init_db
from app.db.migrate import apply_migrations
from tests.jobs.builders import org_with_contracts

async def main(url):
    await apply_migrations(url)
    await init_db(url)
    try:
        await org_with_contracts(12)
    finally:
        await close_db()

asyncio.run(main(sys.argv[1]))
"""


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a command whose output is a pipe, as in a log collector: nothing of the
    service's own variables, nothing that would make rich take the pipe for a terminal."""
    drop = ("COMMITMENTS_", "DATABASE_URL", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_close_due_periods_writes_plain_progress_lines_into_a_pipe(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'closing.sqlite3'}"
    env = plain_env(DATABASE_URL=url, COMMITMENTS_DATA_DIR=str(tmp_path))
    seeded = run("-c", SEED, url, env=env)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    done = run("-m", "app.cli", "close-due-periods", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"^organization 1: 24 closed, 0 failed \(due by \d{4}-\d\d-\d\d\)$", done.stdout, re.M)
    lines = done.stderr.splitlines()
    assert lines and all(re.fullmatch(r"close organization 1: \d+/24 periods", line) for line in lines), done.stderr
    assert lines[-1] == "close organization 1: 24/24 periods"
    assert "\r" not in done.stderr + done.stdout and "\x1b" not in done.stderr + done.stdout


def test_plain_lines_come_one_per_tenth_of_the_work_and_at_the_end() -> None:
    out = io.StringIO()
    with progress("ingest usage.csv", 5_000_000, in_bytes=True, stream=out) as update:
        for done in range(0, 5_000_001, 250_000):
            update(done, note=f"{done // 50} events")
    lines = out.getvalue().splitlines()
    assert lines[0] == "ingest usage.csv: 0 bytes/5.0 MB 0 events"
    assert lines[-1] == "ingest usage.csv: 5.0 MB/5.0 MB 100000 events"
    assert len(lines) == 11


def test_a_terminal_gets_rich_s_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich's switch: this stream is a terminal
    monkeypatch.delenv("TERM", raising=False)
    out = io.StringIO()
    with progress("close organization 1", 0, "periods", stream=out) as update:
        update(3, total=4)
    drawn = out.getvalue()
    assert "\x1b[" in drawn and "3/4" in drawn and "━" in drawn


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder the service cannot write to: mode 0555, and for root (who writes anywhere) the
    immutable attribute, as a read-only filesystem would refuse."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = _writable(folder) and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if _writable(folder):
            pytest.skip("no way to make a folder read-only for this user here")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_an_embedded_database_in_a_read_only_folder_is_refused(read_only_dir: Path, command: str) -> None:
    done = run("-m", "app.cli", command, env=plain_env(COMMITMENTS_DATA_DIR=str(read_only_dir / "data")))
    assert done.returncode == 2, done.stdout + done.stderr
    folder = re.escape(str(read_only_dir / "data"))
    assert re.fullmatch(f"error: the embedded database's folder '{folder}' is not writable "
                        r"\((Permission denied|Operation not permitted|Read-only file system)\): set DATABASE_URL "
                        "to a PostgreSQL database, or COMMITMENTS_DATA_DIR to a writable folder\n", done.stderr)
    assert list(read_only_dir.iterdir()) == []


@pytest.mark.parametrize(("env", "migrates"), [({}, True),
                                               ({"DATABASE_URL": "postgres://u@127.0.0.1:1/db"}, False),
                                               ({"DATABASE_URL": "postgres://u@127.0.0.1:1/db",
                                                 "COMMITMENTS_MIGRATE_ON_START": "true"}, True),
                                               ({"COMMITMENTS_MIGRATE_ON_START": "false"}, False)])
def test_serve_migrates_only_when_told_to(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path, env: dict[str, str], migrates: bool) -> None:
    import uvicorn

    from app import cli, demo
    from app.db import migrate

    for name in [n for n in os.environ if n.startswith("COMMITMENTS_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COMMITMENTS_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    calls: list[str] = []

    async def fake_migrate(url: str) -> None:
        calls.append(url)

    async def fake_org(_settings: object) -> str:
        return "cmt_test"

    monkeypatch.setattr(migrate, "apply_migrations", fake_migrate)
    monkeypatch.setattr(demo, "ensure_embedded_org", fake_org)
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: None)
    cli.main(["serve"])
    assert bool(calls) is migrates
    said = "run `commitments migrate` before the rollout" in capsys.readouterr().out
    assert said is not migrates


def test_the_commands_and_their_options(capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    cli.main(["--help"])
    listed = capsys.readouterr().out
    for command in ("serve", "migrate", "create-org", "close-due-periods", "worker", "ingest"):
        assert re.search(rf"│ {command} ", listed), command
    cli.main(["ingest", "--help"])
    options = capsys.readouterr().out
    assert all(option in options for option in ("FILE", "--url", "--key", "--batch"))


def test_a_bad_argument_is_a_usage_error_exit_2() -> None:
    done = run("-m", "app.cli", "close-due-periods", "--as-of", "2026-13-01", env=plain_env())
    assert done.returncode == 2
    assert "Invalid value for '--as-of': expected a date YYYY-MM-DD, got '2026-13-01'" in done.stderr
    assert "Traceback" not in done.stderr
