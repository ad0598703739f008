"""JSON for mutation payloads and arguments: what an idempotency key stores, replays and fingerprints.

A payload is a tree of Strawberry types (dataclasses) holding scalars, enums, Decimals, dates and
private ids; relations and computed fields are resolvers, read when the payload is sent. ``encode``
keeps the constructor fields with a type tag, ``decode`` builds the same objects again (only
classes of this package), so a replay answers with the fields of the first answer. The payload
itself is built as the replayed mutation's own payload type (``root``), whatever class the record
names: an answer stored before a payload type was renamed (0.x: ``DeletePayload`` became
``DeleteAccountPayload``...) replays as the type the schema now declares.

``canonical`` turns a mutation's coerced arguments into plain JSON for the fingerprint: input
objects as sorted maps, Decimals normalized (``10`` and ``10.00`` are one amount), dates in ISO.
"""

from __future__ import annotations

import dataclasses
import importlib
from datetime import date, datetime
from decimal import Context, Decimal, InvalidOperation
from enum import Enum
from typing import Any

from strawberry.types.unset import UnsetType

_PACKAGE = "app."


def encode(value: Any) -> Any:
    """A payload object (or a value in it) as tagged JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return {"$enum": _name(type(value)), "value": encode(value.value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if dataclasses.is_dataclass(value) and hasattr(type(value), "__strawberry_definition__"):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"$type": _name(type(value)), "fields": fields}
    raise TypeError(f"cannot store a {type(value).__name__} in an idempotency record")


def decode(value: Any, root: type | None = None) -> Any:
    """The objects ``encode`` was given; the outermost object built as ``root`` when given."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$type" in value:
        cls = root if root is not None else _load(value["$type"])
        if not hasattr(cls, "__strawberry_definition__"):
            raise TypeError(f"{value['$type']} is not a GraphQL type")
        known = {f.name for f in dataclasses.fields(cls) if f.init}  # a field removed since is dropped
        return cls(**{k: decode(v) for k, v in value["fields"].items() if k in known})
    if "$enum" in value:
        enum = _load(value["$enum"])
        if not (isinstance(enum, type) and issubclass(enum, Enum)):
            raise TypeError(f"{value['$enum']} is not an enum")
        return enum(decode(value["value"]))
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    raise TypeError("unknown tag in a stored payload")


def canonical(value: Any) -> Any:
    """Arguments as plain, deterministic JSON (for the fingerprint of a call)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, Decimal):
        try:  # with as many digits as it has: normalizing never rounds
            return "D" + str(value.normalize(Context(prec=max(len(value.as_tuple().digits), 1))))
        except InvalidOperation:
            return "D" + str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items() if not isinstance(v, UnsetType)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return str(value)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _load(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(_PACKAGE):
        raise TypeError(f"{name} is not a class of this service")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
