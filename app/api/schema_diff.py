"""Breaking changes of the GraphQL schema since the last release (README "Changing the schema").

    python -m app.api.schema_diff                     # schema.graphql against the last release tag
    python -m app.api.schema_diff --against origin/main
    python -m app.api.schema_diff OLD.graphql NEW.graphql

Compares two SDL texts with graphql-core's ``find_breaking_changes`` and ``find_dangerous_changes``
(the port of graphql-js's, the checks GraphQL tooling agrees on). Without files, the old schema is
``git show <ref>:schema.graphql`` and the new one the working tree's ``schema.graphql``; ``<ref>`` is
``--against``, else the newest tag (``git describe --tags --abbrev=0``), else ``HEAD`` when the
repository has no tag yet. Prints every change; exit status 1 if any is breaking, 0 if none is
(dangerous changes only warn), 2 if a schema cannot be read.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

SCHEMA_FILE = "schema.graphql"


@dataclass(frozen=True)
class SchemaDiff:
    """The changes from one schema to the next, as ``TYPE: description`` lines."""

    breaking: list[str]
    dangerous: list[str]


class SchemaUnavailable(Exception):
    """A schema could not be read: no such file or git ref, or not valid SDL."""


def diff(old_sdl: str, new_sdl: str) -> SchemaDiff:
    old, new = _build(old_sdl, "old"), _build(new_sdl, "new")
    return SchemaDiff(
        breaking=[f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)],
        dangerous=[f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)],
    )


def _build(sdl: str, which: str) -> GraphQLSchema:
    try:
        return build_schema(sdl)
    except GraphQLError as exc:
        raise SchemaUnavailable(f"the {which} schema is not valid SDL: {exc.message}") from exc


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchemaUnavailable(f"git {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        raise SchemaUnavailable(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def last_release(repo: Path) -> str:
    """The newest tag reachable from HEAD, or HEAD when there is none."""
    try:
        return _git(repo, "describe", "--tags", "--abbrev=0").strip()
    except SchemaUnavailable:
        return "HEAD"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaUnavailable(f"{path}: {exc.strerror}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.api.schema_diff", description=__doc__.split("\n")[0])
    parser.add_argument("old", nargs="?", help="the old schema's SDL file (default: from git, see --against)")
    parser.add_argument("new", nargs="?", help=f"the new schema's SDL file (default: {SCHEMA_FILE})")
    parser.add_argument("--against", metavar="REF", help="git ref of the old schema (default: the newest tag)")
    parser.add_argument("--repo", default=".", help="the repository (default: the current directory)")
    args = parser.parse_args(argv)
    repo = Path(args.repo)
    try:
        if args.old is not None:
            old_sdl, old_name = _read(args.old), args.old
        else:
            ref = args.against or last_release(repo)
            old_sdl, old_name = _git(repo, "show", f"{ref}:{SCHEMA_FILE}"), f"{ref}:{SCHEMA_FILE}"
        new_name = args.new or str(repo / SCHEMA_FILE)
        changes = diff(old_sdl, _read(new_name))
    except SchemaUnavailable as exc:
        print(f"schema_diff: {exc}", file=sys.stderr)
        return 2
    print(f"{old_name} -> {new_name}")
    for line in changes.breaking:
        print(f"BREAKING  {line}")
    for line in changes.dangerous:
        print(f"dangerous {line}")
    print(f"{len(changes.breaking)} breaking, {len(changes.dangerous)} dangerous change(s)")
    return 1 if changes.breaking else 0


if __name__ == "__main__":
    sys.exit(main())
