"""Input checks shared by services: text and decimals that fit the database, list sizes, references.

The limits below are the API's documented limits (README, "Limits"): the widest text each kind of
input field may hold (the width of its column in ``app/db/models``) and the most items each input
list may hold. Every check answers a ``UserError`` naming the input field, or None.
"""

from __future__ import annotations

import re
from collections.abc import Sized
from decimal import Decimal
from typing import TypeVar

from tortoise.models import Model

from app.db import repo
from app.db.models.base import DECIMAL_DIGITS, DECIMAL_PLACES
from app.services.errors import ErrorCode, UserError, fail

M = TypeVar("M", bound=Model)
MAX_INTEGER_DIGITS = DECIMAL_DIGITS - DECIMAL_PLACES

# Longest text per kind of field: the width of the columns that store it.
MAX_NAME = 200          # organizations, accounts, contracts, commitments, balances, products
MAX_CODE = 100          # product codes (a usage class named by code in recordUsage too)
MAX_UNIT = 50           # a product's unit of measure
MAX_CURRENCY = 3        # ISO 4217 codes
MAX_EXTERNAL_ID = 200   # an account's or a service line's external id
MAX_KEY = 200           # idempotency keys
MAX_CONNECTION_ID = 200  # a usage event's connection id
MAX_DESCRIPTION = 200   # a one-time charge's description

# Most items per input list (checked before any per-item work).
MAX_PRICES = 100
MAX_TIERS = 20           # of a price or of a penalty
MAX_SERVICE_LINES = 100
MAX_COMMITMENTS = 20
MAX_RAMP_STEPS = 100
MAX_FEE_DATES = 100
MAX_PENALTIES = 10
MAX_PRODUCT_IDS = 100    # eligible products of a commitment or a balance
MAX_CHARGE_TYPES = 20
MAX_PACKAGE_ITEMS = 100

# Text a column cannot store or a response cannot encode: NUL, and UTF-16 surrogates that are not
# part of a pair (a Python str from JSON may hold them; UTF-8 cannot).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str | None, field: str, max_length: int, *, blank: bool = True) -> UserError | None:
    """Why ``value`` cannot be stored as text of at most ``max_length`` characters, or None if it can.

    The message never repeats the value (it may be huge or unencodable)."""
    if value is None:
        return None
    if len(value) > max_length:
        return UserError(ErrorCode.INVALID_INPUT, f"at most {max_length} characters", field)
    if _UNSTORABLE.search(value):
        return UserError(ErrorCode.INVALID_INPUT, "must not contain NUL characters or unpaired UTF-16 surrogates",
                         field)
    if not blank and not value.strip():
        return UserError(ErrorCode.INVALID_INPUT, "must not be blank", field)
    return None


def name_problem(value: str | None, field: str, *, max_length: int = MAX_NAME) -> UserError | None:
    """A name or code: text that must not be blank."""
    return text_problem(value, field, max_length, blank=False)


def count_problem(items: Sized | None, field: str, max_items: int) -> UserError | None:
    if items is not None and len(items) > max_items:
        return UserError(ErrorCode.INVALID_INPUT, f"at most {max_items} items", field)
    return None


def _decimal_places(value: Decimal) -> int:
    """Places after the point once trailing zeros are dropped (no context arithmetic: any size)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + zeros))


def decimal_problem(value: Decimal | None, field: str, *, minimum: Decimal | None = Decimal(0)) -> UserError | None:
    """Why ``value`` cannot be stored as money/quantity (NUMERIC(32, 12)), or None if it can.

    Works on the digits alone, so a value of any size or precision gets an answer (never
    ``decimal.InvalidOperation``)."""
    if value is None:
        return None
    if not value.is_finite():
        return UserError(ErrorCode.INVALID_AMOUNT, "must be a finite number", field)
    if value.is_zero():
        return None if minimum is None or minimum <= 0 else UserError(
            ErrorCode.INVALID_AMOUNT, f"must be at least {minimum}", field)
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return UserError(ErrorCode.INVALID_AMOUNT, f"at most {MAX_INTEGER_DIGITS} integer digits", field)
    if _decimal_places(value) > DECIMAL_PLACES:
        return UserError(ErrorCode.INVALID_AMOUNT, f"at most {DECIMAL_PLACES} decimal places", field)
    if minimum is not None and value < minimum:
        return UserError(ErrorCode.INVALID_AMOUNT, f"must be at least {minimum}", field)
    return None


async def require(model: type[M], org_id: int, pk: int, field: str, *, for_update: bool = False) -> M:
    """The tenant's row or NOT_FOUND (another tenant's row is indistinguishable from none)."""
    row = await repo.get_owned(model, org_id, pk, for_update=for_update)
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"no {model.__name__} with this id", field)
    return row
