"""The Docker image (Docker is not needed: the Dockerfile is read): a non-root user, no bytecode
written at run time, `commitments serve` that does not migrate on PostgreSQL, migrations documented
as their own step."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in instructions():
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def test_the_image_runs_as_a_non_root_user_and_writes_no_bytecode() -> None:
    users = [args for instruction, args in instructions() if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert users[-1].isdigit()  # numeric: Kubernetes' runAsNonRoot can check it
    assert environment()["PYTHONDONTWRITEBYTECODE"] == "1"


def test_the_image_serves_without_migrating_in_every_container() -> None:
    commands = [args for instruction, args in instructions() if instruction in ("CMD", "ENTRYPOINT")]
    assert commands == ['["commitments", "serve"]']
    assert environment().get("COMMITMENTS_MIGRATE_ON_START", "false").lower() in ("false", "0", "no", "off")
    assert "DATABASE_URL" not in environment()  # given at run time; the embedded default is refused
    text = (ROOT / "Dockerfile").read_text()
    assert "commitments migrate" in text and "/ready" in text  # the one-off step, documented


def test_the_readme_documents_migrations_as_a_step() -> None:
    readme = (ROOT / "README.md").read_text()
    production = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    for needle in ("initContainers", "commitments migrate", "service_completed_successfully", "--read-only",
                   "/ready", "/health", "COMMITMENTS_MIGRATE_ON_START"):
        assert needle in production, needle
