"""User errors in the schema: the ErrorCode enum, the UserError type and the mutation runner."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import IntegrityError

from app.billing.errors import BillingError
from app.services.errors import (
    ERROR_CODE_DESCRIPTIONS,
    ErrorCode,
    InvalidInput,
    UserError,
    from_billing,
)

log = logging.getLogger(__name__)
P = TypeVar("P")

ErrorCodeEnum = strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="Stable error codes. Members are never renamed or removed. "
    + " ".join(f"{k}: {v}" for k, v in ERROR_CODE_DESCRIPTIONS.items()),
)


@strawberry.type(name="UserError", description="A problem with the input; nothing was written.")
class UserErrorType:
    code: ErrorCodeEnum = strawberry.field(description="Stable machine-readable code.")  # type: ignore[valid-type]
    field: str | None = strawberry.field(description="Dotted path of the offending input field, e.g. input.commitments.0.rampSteps.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_error(cls, error: UserError) -> UserErrorType:
        return cls(code=error.code, field=error.field, message=error.message)


async def run(make: Callable[[list[UserErrorType]], P], action: Callable[[], Awaitable[Any]],
              present: Callable[[Any], P | Awaitable[P]]) -> P:
    """Run a mutation's service call; map expected failures to ``userErrors`` of its payload."""
    try:
        result = await action()
    except InvalidInput as exc:
        return make([UserErrorType.from_error(e) for e in exc.errors])
    except BillingError as exc:
        return make([UserErrorType.from_error(from_billing(exc, "input"))])
    except IntegrityError as exc:
        log.info("integrity error in mutation: %s", exc)
        return make([UserErrorType(code=ErrorCode.DUPLICATE, field="input",
                                   message="conflicts with an existing object (unique key)")])
    out = present(result)
    return await out if inspect.isawaitable(out) else out  # type: ignore[return-value]
