"""User errors in the schema: the ErrorCode enum and the UserError type (mutations run through
app.api.mutation_guard, which maps failures onto them)."""

from __future__ import annotations

import strawberry

from app.api.enums import described_enum
from app.services.errors import ERROR_CODE_DESCRIPTIONS, ErrorCode, UserError

ErrorCodeEnum = described_enum(
    ErrorCode,
    name="ErrorCode",
    description="Stable error codes, in userErrors and in errors[].extensions.code. Members are never renamed "
    "or removed; each value says when it is answered.",
    values=ERROR_CODE_DESCRIPTIONS,
)


@strawberry.type(name="UserError", description="A problem with the input; nothing was written.")
class UserErrorType:
    code: ErrorCodeEnum = strawberry.field(description="Stable machine-readable code.")  # type: ignore[valid-type]
    field: str | None = strawberry.field(description="Dotted path of the offending input field, e.g. input.commitments.0.rampSteps.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_error(cls, error: UserError) -> UserErrorType:
        return cls(code=error.code, field=error.field, message=error.message)
