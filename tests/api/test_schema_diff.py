"""Issue 10, "Conventions drift": contributors get a breaking-change check of the schema
(`python -m app.api.schema_diff`, README "Changing the schema")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.api.schema_diff import diff, main

OLD = '''
"""Root."""
type Query {
  """A contract."""
  contract(id: ID!): Contract
}

"""A contract."""
type Contract {
  """Its id."""
  id: ID!
  """Its name."""
  name: String!
  """Its status."""
  status: Status!
}

"""Lifecycle."""
enum Status { DRAFT ACTIVE }

"""Mutations."""
type Mutation {
  """Delete a contract."""
  deleteContract(id: ID!): DeletePayload!
}

"""Result of a delete."""
type DeletePayload {
  """The id."""
  deletedId: ID
}
'''


def _changed(old: str, new: str) -> str:
    assert old in OLD
    return OLD.replace(old, new)


def test_the_same_schema_has_no_changes() -> None:
    assert diff(OLD, OLD).breaking == [] and diff(OLD, OLD).dangerous == []


def test_a_removed_field_or_a_new_required_argument_is_breaking() -> None:
    removed = _changed('  """Its name."""\n  name: String!\n', "")
    assert diff(OLD, removed).breaking == ["FIELD_REMOVED: Field Contract.name was removed."]
    required = _changed("contract(id: ID!)", "contract(id: ID!, at: String!)")
    assert [c.split(":")[0] for c in diff(OLD, required).breaking] == ["REQUIRED_ARG_ADDED"]


def test_renaming_a_payload_type_is_breaking_for_clients_that_name_it() -> None:
    renamed = OLD.replace("DeletePayload", "DeleteContractPayload")
    assert diff(OLD, renamed).breaking == [
        "TYPE_REMOVED: DeletePayload was removed.",
        "FIELD_CHANGED_KIND: Field Mutation.deleteContract changed type from DeletePayload! to DeleteContractPayload!.",
    ]


def test_an_added_field_is_safe_and_an_added_enum_value_only_dangerous() -> None:
    added = _changed("  id: ID!\n", '  id: ID!\n  """A note."""\n  note: String\n')
    assert diff(OLD, added).breaking == [] and diff(OLD, added).dangerous == []
    value = _changed("enum Status { DRAFT ACTIVE }", "enum Status { DRAFT ACTIVE ENDED }")
    assert diff(OLD, value).breaking == []
    assert diff(OLD, value).dangerous == ["VALUE_ADDED_TO_ENUM: Enum value Status.ENDED was added."]


def test_the_command_exits_1_on_breaking_changes_and_0_otherwise(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.graphql", tmp_path / "new.graphql"
    old.write_text(OLD)
    new.write_text(_changed("enum Status { DRAFT ACTIVE }", "enum Status { DRAFT ACTIVE ENDED }"))
    assert main([str(old), str(new)]) == 0
    assert "dangerous VALUE_ADDED_TO_ENUM" in capsys.readouterr().out
    new.write_text(_changed("  status: Status!\n", "  status: Status\n"))
    assert main([str(old), str(new)]) == 1
    assert "BREAKING  FIELD_CHANGED_KIND: Field Contract.status changed type from Status! to Status." in \
        capsys.readouterr().out
    assert main([str(old), str(tmp_path / "missing.graphql")]) == 2
    new.write_text("type {")
    assert main([str(old), str(new)]) == 2


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True, timeout=30)


def test_without_files_it_compares_the_working_tree_with_the_last_release_tag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _git(tmp_path, "init", "-q")
    schema = tmp_path / "schema.graphql"
    schema.write_text(OLD)
    _git(tmp_path, "add", "schema.graphql")
    _git(tmp_path, "commit", "-q", "-m", "0.1.0")
    _git(tmp_path, "tag", "v0.1.0")
    schema.write_text(_changed('  """Its name."""\n  name: String!\n', ""))
    _git(tmp_path, "commit", "-q", "-am", "drop name")  # HEAD has the change too: only the tag shows it
    assert main(["--repo", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("v0.1.0:schema.graphql -> ") and "FIELD_REMOVED: Field Contract.name was removed." in out
    assert main(["--repo", str(tmp_path), "--against", "HEAD"]) == 0
    assert main(["--repo", str(tmp_path), "--against", "no-such-ref"]) == 2
