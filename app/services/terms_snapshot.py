"""A contract version's terms as JSON and back (``ContractVersion.terms``, SPEC §13).

The billing core's ``ContractTerms`` is frozen plain data (dataclasses of ``Decimal``, ``date``,
enums, tuples, frozensets), so one generic walk over the dataclass fields, guided by their type
hints, writes and reads all of it: decimals as strings (exact), dates as ISO text, enums by value,
tuples as lists, frozensets as sorted lists. Reading back gives an equal ``ContractTerms``
(tests/services/test_terms_snapshot.py checks the round trip on generated terms).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from app.billing.terms import ContractTerms


def dump_terms(terms: ContractTerms) -> dict[str, Any]:
    """``terms`` as a JSON-ready dict."""
    return _dump(terms)


def load_terms_json(data: dict[str, Any]) -> ContractTerms:
    """The ``ContractTerms`` written by ``dump_terms``."""
    return _load(ContractTerms, data)


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(_dump(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_dump(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _load(hint: Any, raw: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        return _load(next(a for a in args if a is not type(None)), raw)
    if origin is tuple:
        return tuple(_load(args[0], v) for v in raw)
    if origin is frozenset:
        return frozenset(_load(args[0], v) for v in raw)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(**{name: _load(hints[name], value) for name, value in raw.items() if name in hints})
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint is Decimal:
        return Decimal(raw)
    if hint is date:
        return date.fromisoformat(raw)
    return raw
