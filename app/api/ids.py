"""Opaque global ids: base64 of ``TypeName:pk`` (Relay), decoded with the type they must name."""

from __future__ import annotations

from strawberry import relay

from app.services.errors import ErrorCode, fail

MAX_PK = 2**31 - 1  # primary keys are 32-bit integers


def encode(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def parse(global_id: str) -> tuple[str, int] | None:
    """(type name, pk) of a well-formed global id, else None."""
    try:
        gid = relay.GlobalID.from_id(global_id)
        pk = int(gid.node_id)
    except (ValueError, TypeError):
        return None
    return (gid.type_name, pk) if 1 <= pk <= MAX_PK else None


def decode(global_id: str, type_name: str, field: str) -> int:
    """The pk of ``global_id`` if it names a ``type_name``; else an INVALID_ID user error."""
    parsed = parse(global_id)
    if parsed is None or parsed[0] != type_name:
        raise fail(ErrorCode.INVALID_ID, f"not a {type_name} id", field)
    return parsed[1]


def decode_optional(global_id: str | None, type_name: str, field: str) -> int | None:
    return None if global_id is None else decode(global_id, type_name, field)
