"""``commitments ingest FILE``: send a usage file to a running service's ``POST /v1/usage``.

The file is NDJSON (``.ndjson``, ``.jsonl``) or CSV (``.csv``), optionally gzipped (``.gz``). It is
read as a stream and sent in requests of up to ``--batch`` events (at most 100,000, the server's
cap) and ~48 MiB (under the server's 64 MiB default), each a CSV request repeating the header.
Indexes in the server's answers are per request; this client reports them as the file's 0-based
line numbers (CSV: the header not counted), like the server does for a whole file.

The progress follows the bytes of the file read (``app/progress.py``: rich's bar, rate and time
left on a terminal; plain lines when stderr is a log or a pipe). A request the server refuses as a whole, or
stops midway (4xx/5xx), ends the run with exit code 2 after printing what the server said it kept;
otherwise the exit code is 1 if any event was rejected, else 0. Resending a file is safe: events
already stored answer DUPLICATE.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from app.progress import progress

MAX_EVENTS = 100_000
MAX_REQUEST_BYTES = 48 * 1024 * 1024
TIMEOUT_SECONDS = 300.0


@dataclass
class Totals:
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def file_format(path: Path) -> str:
    """``ndjson`` or ``csv`` from the file's extension (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in (".ndjson", ".jsonl"):
        return "ndjson"
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    raise ValueError(f"{path.name}: name it .ndjson, .jsonl or .csv (optionally .gz)")


def chunks(text: IO[bytes], csv_format: bool, batch: int) -> Iterator[tuple[int, bytes]]:
    """(index of the chunk's first line, the request body) for each request."""
    header = text.readline() if csv_format else b""
    if csv_format and not header.endswith(b"\n"):
        header += b"\n"
    lines: list[bytes] = []
    first, index, size, events = 0, 0, 0, 0
    for line in text:
        if not line.endswith(b"\n"):
            line += b"\n"
        if lines and (events >= batch or size + len(line) > MAX_REQUEST_BYTES):
            yield first, header + b"".join(lines)
            lines, first, size, events = [], index, 0, 0
        lines.append(line)
        size += len(line)
        events += bool(line.strip())
        index += 1
    if lines:
        yield first, header + b"".join(lines)


def ingest(path: Path, url: str, key: str, batch: int = MAX_EVENTS, client: httpx.Client | None = None) -> Totals:
    """Send the file; the totals and the events not accepted (file line numbers)."""
    csv_format = file_format(path) == "csv"
    batch = max(1, min(batch, MAX_EVENTS))
    headers = {"Authorization": f"Bearer {key}",
               "Content-Type": "text/csv" if csv_format else "application/x-ndjson"}
    endpoint = url.rstrip("/") + "/v1/usage"
    totals = Totals()
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    with path.open("rb") as raw, progress(f"ingest {path.name}", path.stat().st_size, in_bytes=True) as update:
        text: IO[bytes] = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw
        try:
            for first, body in chunks(text, csv_format, batch):
                try:
                    response = http.post(endpoint, content=body, headers=headers)
                except httpx.HTTPError as exc:  # refused, timed out, cut: report what was sent so far
                    totals.error = (f"the request from line {first} failed: {type(exc).__name__}: {exc}; "
                                    "resend the file (stored events answer DUPLICATE)")
                    break
                _add(totals, first, response)
                update(raw.tell(), note=f"{totals.accepted + totals.duplicate + totals.rejected} events")
                if totals.error:
                    break
        finally:
            if client is None:
                http.close()
    return totals


def _add(totals: Totals, first: int, response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        totals.error = f"HTTP {response.status_code}: {response.text[:200]}"
        return
    totals.accepted += body.get("accepted", 0)
    totals.duplicate += body.get("duplicate", 0)
    totals.rejected += body.get("rejected", 0)
    for event in body.get("events", []):
        totals.events.append({**event, "index": first + event["index"]})
    if response.status_code != 200:
        error = (body.get("errors") or [{}])[0]
        code = error.get("extensions", {}).get("code")
        totals.error = f"HTTP {response.status_code} {code}: {error.get('message')}"


def report(totals: Totals, out: IO[str] = sys.stdout) -> int:
    """Print the totals and the events not accepted; the exit code (2 stopped, 1 rejected, 0)."""
    print(f"accepted {totals.accepted}, duplicate {totals.duplicate}, rejected {totals.rejected}", file=out)
    for e in totals.events:
        where = f" {e['field']}" if e.get("field") else ""
        print(f"  line {e['index']}: {e['status']} {e['code']}{where}: {e['message']}", file=out)
    if totals.error:
        print(f"stopped: {totals.error}", file=out)
        return 2
    return 1 if totals.rejected else 0
