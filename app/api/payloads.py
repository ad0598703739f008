"""Mutation payloads: every mutation answers its own type, named ``<MutationName>Payload``
(createContract → CreateContractPayload, deleteAccount → DeleteAccountPayload), holding its result
fields and ``userErrors`` (README "Errors"; tests/api/test_schema_lint.py checks the rule).

Mutations that answer the same shape (create, update and cancel of a contract; every delete) share
one base class, ``<Noun>PayloadFields``, that holds the fields and their descriptions; each
mutation's payload is a subclass that adds only its name and description. A base is a Strawberry
type that no field returns, so it is not in the schema. A payload used by one mutation only
(``UpdateOrganizationPayload``, ``CloseDuePeriodsPayload``...) declares its fields itself.

The payload's class is its GraphQL type; an idempotency record stores the class (payload_codec) and a
replay builds the mutation's own payload type again (mutation_guard).
"""

from __future__ import annotations

import dataclasses
from typing import Self

import strawberry

from app.api.errors import UserErrorType


class Refusable:
    """``refused(errors)``: the payload of a call that wrote nothing, every result field null."""

    @classmethod
    def refused(cls, errors: list[UserErrorType]) -> Self:
        empty = {f.name: None for f in dataclasses.fields(cls) if f.init and f.name != "user_errors"}  # type: ignore[arg-type]
        return cls(**empty, user_errors=errors)


@strawberry.type
class DeletePayloadFields(Refusable):
    """The fields of every delete mutation's payload."""

    deleted_id: strawberry.ID | None = strawberry.field(
        description="Global id of the deleted object; null when nothing was deleted.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was deleted; empty on success.")

    @classmethod
    def deleted(cls, global_id: str) -> Self:
        return cls(deleted_id=strawberry.ID(global_id), user_errors=[])
