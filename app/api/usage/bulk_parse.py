"""Reading a bulk usage body (``POST /v1/usage``) as it streams in: gzip, lines, records, events.

Nothing holds the whole body: gzip is inflated 1 MiB at a time (``zlib.decompressobj``), lines are
split per received block, and each line becomes one ``UsageEventSpec`` (or a ``Rejected``) at once.

Formats (the field names are those of GraphQL's ``UsageEventInput``; ids are the same global ids):
- NDJSON: one JSON object per line, parsed with orjson. ``quantity`` is a string like in GraphQL;
  a JSON integer is taken as its digits, a JSON number with a fraction or exponent is rejected
  (INVALID_AMOUNT: a binary float cannot carry an exact decimal).
- CSV: a header row naming the columns (any order, a subset of the fields), then one record per
  line. An empty cell is an absent field. A record is one line: quoted cells may hold commas and
  quotes, not line breaks (a quote left open is INVALID_INPUT for that line).

A line that is not UTF-8, not JSON, not an object, has an unknown field or a field of the wrong
type, the wrong number of CSV cells, or is over ``MAX_LINE_BYTES``, is that event REJECTED
(INVALID_INPUT or INVALID_ID); the rest are read on. Blank lines are skipped but keep their number.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from app.api import ids
from app.services.errors import ErrorCode
from app.services.usage_rules import Rejected, UsageEventSpec

MAX_LINE_BYTES = 64 * 1024
INFLATE_STEP = 1024 * 1024
FIELDS = ("contractId", "accountId", "usageClassId", "usageClass", "quantity", "timestamp", "idempotencyKey",
          "connectionId")
_IDS = {"contractId": "Contract", "accountId": "Account", "usageClassId": "Product"}
_TEXT = ("usageClass", "timestamp", "idempotencyKey", "connectionId")
_KNOWN = frozenset(FIELDS)
TOO_LONG = object()  # stands for a line over MAX_LINE_BYTES


class BadBody(Exception):
    """The body cannot be read on (corrupt gzip, a bad CSV header): the request stops here."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def inflated(chunks: AsyncIterator[bytes], gzip: bool) -> AsyncIterator[bytes]:
    """The body's bytes, gunzipped if ``gzip`` (several gzip members in a row are allowed)."""
    if not gzip:
        async for chunk in chunks:
            if chunk:
                yield chunk
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = False  # a gzip member started and has not ended
    async for chunk in chunks:
        data = chunk
        while data:
            try:
                out = inflater.decompress(data, INFLATE_STEP)
            except zlib.error:
                raise BadBody(400, "BAD_REQUEST", "The body is not valid gzip.") from None
            pending = True
            data = inflater.unconsumed_tail
            if inflater.eof:
                data, pending = inflater.unused_data + data, False
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            if out:
                yield out
    if pending:
        raise BadBody(400, "BAD_REQUEST", "The gzip body ends before its end marker (truncated).")


async def lines(blocks: AsyncIterator[bytes]) -> AsyncIterator[list[Any]]:
    """The body's lines (bytes, without the newline), a list per received block; a line over
    ``MAX_LINE_BYTES`` is ``TOO_LONG`` and is never held whole. The last line may lack its newline."""
    rest = b""
    skipping = False  # inside a line already reported TOO_LONG
    async for block in blocks:
        parts = (rest + block).split(b"\n")
        rest = parts.pop()
        if skipping and parts:
            del parts[0]  # the end of the long line: already reported
            skipping = False
        if skipping:
            rest = b""
        elif len(rest) > MAX_LINE_BYTES:
            parts.append(TOO_LONG)
            skipping, rest = True, b""
        if parts:
            yield [TOO_LONG if len(p) > MAX_LINE_BYTES else p for p in parts]
    if rest:
        yield [rest]


class EventReader:
    """Turns one line into an event spec (or ``Rejected``); decoded ids are cached per request."""

    def __init__(self, csv_format: bool) -> None:
        self.columns: list[str] | None = None if csv_format else []
        self._ids: dict[tuple[str, str], int | None] = {}
        self.parse: Callable[[bytes], UsageEventSpec] = self._csv if csv_format else self._json

    @property
    def needs_header(self) -> bool:
        return self.columns is None

    def header(self, line: Any) -> None:
        """Read the CSV header row: the columns' field names."""
        if line is TOO_LONG:
            raise BadBody(400, "BAD_REQUEST", "The CSV header row is too long.")
        try:
            [cells] = list(csv.reader([line.decode("utf-8-sig")], strict=True))
        except (UnicodeDecodeError, csv.Error, ValueError):
            raise BadBody(400, "BAD_REQUEST", "The CSV header row cannot be read.") from None
        names = [c.strip() for c in cells]
        unknown = sorted(set(names) - set(FIELDS))
        if unknown or len(set(names)) != len(names):
            raise BadBody(400, "BAD_REQUEST", f"The CSV header must name distinct columns among {', '.join(FIELDS)}"
                                              f"{'; unknown: ' + ', '.join(unknown) if unknown else ''}.")
        self.columns = names

    def _json(self, line: bytes) -> UsageEventSpec:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise Rejected(ErrorCode.INVALID_INPUT, "the line is not valid JSON", "") from None
        if not isinstance(value, dict):
            raise Rejected(ErrorCode.INVALID_INPUT, "the line is not a JSON object", "")
        return self._spec(value)

    def _csv(self, line: bytes) -> UsageEventSpec:
        assert self.columns is not None
        try:
            [cells] = list(csv.reader([line.decode("utf-8").rstrip("\r")], strict=True))
        except UnicodeDecodeError:
            raise Rejected(ErrorCode.INVALID_INPUT, "the line is not UTF-8", "") from None
        except (csv.Error, ValueError):
            raise Rejected(ErrorCode.INVALID_INPUT, "the line is not a CSV record", "") from None
        if len(cells) != len(self.columns):
            raise Rejected(ErrorCode.INVALID_INPUT,
                           f"{len(cells)} cells where the header names {len(self.columns)}", "")
        return self._spec({name: cell for name, cell in zip(self.columns, cells, strict=True) if cell != ""})

    def _id(self, value: Any, field: str) -> int | None:
        if value is None:
            return None
        type_name = _IDS[field]
        if not isinstance(value, str):
            raise Rejected(ErrorCode.INVALID_ID, f"not a {type_name} id", field)
        cached = self._ids.get((field, value), 0)
        if cached == 0:
            parsed = ids.parse(value)
            cached = self._ids[(field, value)] = parsed[1] if parsed and parsed[0] == type_name else None
        if cached is None:
            raise Rejected(ErrorCode.INVALID_ID, f"not a {type_name} id", field)
        return cached

    def _spec(self, values: dict[str, Any]) -> UsageEventSpec:
        if not _KNOWN.issuperset(values):
            name = next(n for n in values if n not in _KNOWN)
            raise Rejected(ErrorCode.INVALID_INPUT, f"unknown field {name[:50]!r}", name[:50])
        for name in _TEXT:
            text = values.get(name)
            if text is not None and type(text) is not str:
                raise Rejected(ErrorCode.INVALID_INPUT, "must be a string", name)
        quantity = values.get("quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            quantity = str(quantity)
        elif isinstance(quantity, float):
            raise Rejected(ErrorCode.INVALID_AMOUNT, "send a fractional quantity as a string, e.g. \"12.5\" "
                                                     "(a JSON number is a binary float)", "quantity")
        elif quantity is not None and not isinstance(quantity, str):
            raise Rejected(ErrorCode.INVALID_AMOUNT, "not a decimal number", "quantity")
        return UsageEventSpec(  # an absent quantity or timestamp is "": INVALID_AMOUNT / INVALID_TIMESTAMP
            quantity=quantity or "", timestamp=values.get("timestamp") or "", idempotency_key=values.get("idempotencyKey"),
            contract_id=self._id(values.get("contractId"), "contractId"),
            account_id=self._id(values.get("accountId"), "accountId"),
            usage_class_id=self._id(values.get("usageClassId"), "usageClassId"),
            usage_class_code=values.get("usageClass"), connection_id=values.get("connectionId"),
        )
