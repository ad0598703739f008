"""Input checks shared by services: decimals that fit the database, names, owned references."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from tortoise.models import Model

from app.db import repo
from app.db.models.base import DECIMAL_DIGITS, DECIMAL_PLACES
from app.services.errors import ErrorCode, UserError, fail

M = TypeVar("M", bound=Model)
_MAX_INTEGER_DIGITS = DECIMAL_DIGITS - DECIMAL_PLACES


def decimal_problem(value: Decimal | None, field: str, *, minimum: Decimal | None = Decimal(0)) -> UserError | None:
    """Why ``value`` cannot be stored as money/quantity, or None if it can."""
    if value is None:
        return None
    if not value.is_finite():
        return UserError(ErrorCode.INVALID_AMOUNT, "must be a finite number", field)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > DECIMAL_PLACES and value != value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)):
        return UserError(ErrorCode.INVALID_AMOUNT, f"at most {DECIMAL_PLACES} decimal places", field)
    if value.adjusted() >= _MAX_INTEGER_DIGITS:
        return UserError(ErrorCode.INVALID_AMOUNT, f"at most {_MAX_INTEGER_DIGITS} integer digits", field)
    if minimum is not None and value < minimum:
        return UserError(ErrorCode.INVALID_AMOUNT, f"must be at least {minimum}", field)
    return None


def name_problem(value: str | None, field: str, *, max_length: int = 200) -> UserError | None:
    if value is None:
        return None
    if not value.strip():
        return UserError(ErrorCode.INVALID_INPUT, "must not be blank", field)
    if len(value) > max_length:
        return UserError(ErrorCode.INVALID_INPUT, f"at most {max_length} characters", field)
    return None


async def require(model: type[M], org_id: int, pk: int, field: str, *, for_update: bool = False) -> M:
    """The tenant's row or NOT_FOUND (another tenant's row is indistinguishable from none)."""
    row = await repo.get_owned(model, org_id, pk, for_update=for_update)
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"no {model.__name__} with this id", field)
    return row
