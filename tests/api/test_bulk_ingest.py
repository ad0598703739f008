"""POST /v1/usage (bulk ingest) through the ASGI app: the same rules and codes as recordUsage,
NDJSON and CSV, gzip, malformed lines, duplicates, the limits and the refusals."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import orjson
import pytest

from app.api import ids
from app.api.usage import bulk
from app.api.usage.bulk_parse import FIELDS
from app.db.models import UsageEvent
from app.main import create_app
from app.services import usage
from app.services.organizations import issue_api_key
from app.services.usage_rules import EventStatus, UsageEventSpec
from app.settings import load_settings
from tests.services.test_usage import CASES, World, close_january, ev, world  # noqa: F401 - fixture

NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}


def client(**settings: Any) -> httpx.AsyncClient:
    app = create_app(load_settings().model_copy(update=settings), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120)


def as_fields(spec: UsageEventSpec) -> dict[str, Any]:
    """The GraphQL-named fields of a spec, ids as global ids (absent fields left out)."""
    out = {"quantity": spec.quantity, "timestamp": spec.timestamp, "idempotencyKey": spec.idempotency_key,
           "contractId": spec.contract_id and ids.encode("Contract", spec.contract_id),
           "accountId": spec.account_id and ids.encode("Account", spec.account_id),
           "usageClassId": spec.usage_class_id and ids.encode("Product", spec.usage_class_id),
           "usageClass": spec.usage_class_code, "connectionId": spec.connection_id}
    return {k: v for k, v in out.items() if v is not None}


def ndjson(events: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def as_csv(events: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(events)
    return out.getvalue().encode()


async def post(body: bytes | AsyncIterator[bytes], key: str | None, headers: dict[str, str],
               **settings: Any) -> httpx.Response:
    sent = dict(headers)
    if key:
        sent["Authorization"] = f"Bearer {key}"
    async with client(**settings) as http:
        return await http.post("/v1/usage", content=body, headers=sent)


def not_accepted(response: httpx.Response) -> list[tuple[int, str, str | None, str | None]]:
    return [(e["index"], e["status"], e["code"], e["field"]) for e in response.json()["events"]]


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
async def test_every_rule_of_record_usage_applies(world: World, fmt: str) -> None:
    """The cases of tests/services/test_usage.py, one event each, in one file: the same outcome."""
    await close_january(world)
    key = await issue_api_key(world.org)
    events = [as_fields(ev(world, f"k{i}", **over(world))) for i, (_, over, *_rest) in enumerate(CASES)]
    body = ndjson(events) if fmt == "ndjson" else as_csv(events)
    response = await post(body, key, NDJSON if fmt == "ndjson" else CSV)
    assert response.status_code == 200, response.text
    expected = [(i, s.value, c.value, f) for i, (_, _, s, c, f) in enumerate(CASES) if s is not EventStatus.ACCEPTED]
    assert not_accepted(response) == expected
    accepted = sum(1 for c in CASES if c[2] is EventStatus.ACCEPTED)
    assert response.json()["accepted"] == accepted and response.json()["rejected"] == len(expected)
    assert await UsageEvent.filter(organization_id=world.org).count() == accepted


async def test_duplicates_in_the_file_and_stored_and_a_retry(world: World) -> None:
    key = await issue_api_key(world.org)
    await usage.record_usage(world.org, [ev(world, "stored")])
    body = ndjson(as_fields(ev(world, k)) for k in ("a", "stored", "a", "b"))
    first = await post(body, key, NDJSON)
    assert first.json()["accepted"] == 2
    assert not_accepted(first) == [(1, "DUPLICATE", "DUPLICATE", "idempotencyKey"),
                                   (2, "DUPLICATE", "DUPLICATE", "idempotencyKey")]
    again = await post(body, key, NDJSON)
    assert (again.json()["accepted"], again.json()["duplicate"]) == (0, 4)
    assert await UsageEvent.filter(organization_id=world.org).count() == 3


async def test_malformed_lines_are_rejected_alone(world: World) -> None:
    key = await issue_api_key(world.org)
    good = as_fields(ev(world, "good"))
    lines = [
        orjson.dumps(good),                                            # 0 accepted
        b"{not json",                                                  # 1
        b"[1, 2]",                                                     # 2 not an object
        b"",                                                           # 3 blank: skipped, keeps its number
        orjson.dumps({**as_fields(ev(world, "x")), "extra": 1}),       # 4 unknown field
        orjson.dumps({**as_fields(ev(world, "f")), "quantity": 1.5}),  # 5 a float quantity
        orjson.dumps({**as_fields(ev(world, "i")), "quantity": 3}),    # 6 an integer quantity: accepted
        orjson.dumps({**as_fields(ev(world, "c")), "contractId": "nope"}),  # 7 bad global id
        orjson.dumps({**as_fields(ev(world, "t")), "timestamp": 5}),   # 8 wrong type
        b'{"idempotencyKey": "' + b"x" * 70_000 + b'"}',               # 9 over 64 KiB
        orjson.dumps({k: v for k, v in as_fields(ev(world, "q")).items() if k != "quantity"}),  # 10
        b"\xff\xfe",                                                   # 11 not UTF-8
        orjson.dumps(as_fields(ev(world, "last"))),                    # 12 accepted, no final newline
    ]
    response = await post(b"\n".join(lines), key, NDJSON)
    assert response.status_code == 200
    assert not_accepted(response) == [
        (1, "REJECTED", "INVALID_INPUT", None), (2, "REJECTED", "INVALID_INPUT", None),
        (4, "REJECTED", "INVALID_INPUT", "extra"), (5, "REJECTED", "INVALID_AMOUNT", "quantity"),
        (7, "REJECTED", "INVALID_ID", "contractId"), (8, "REJECTED", "INVALID_INPUT", "timestamp"),
        (9, "REJECTED", "INVALID_INPUT", None), (10, "REJECTED", "INVALID_AMOUNT", "quantity"),
        (11, "REJECTED", "INVALID_INPUT", None)]
    assert set(await UsageEvent.filter(organization_id=world.org).values_list("idempotency_key", flat=True)) == {
        "good", "i", "last"}


async def test_csv_with_a_subset_of_columns_and_a_bad_record(world: World) -> None:
    key = await issue_api_key(world.org)
    contract = ids.encode("Contract", world.c1)
    body = (f"idempotencyKey,contractId,usageClass,quantity,timestamp\r\n"
            f"a,{contract},calls,1.5,2026-02-10T00:00:00Z\r\n"
            f"b,{contract},calls,2\r\n"
            f'"c,1",{contract},calls,"2",2026-02-11\r\n'
            f'd,{contract},calls,"2,2026-02-11\r\n').encode()
    response = await post(body, key, CSV)
    assert response.json()["accepted"] == 2
    assert not_accepted(response) == [(1, "REJECTED", "INVALID_INPUT", None), (3, "REJECTED", "INVALID_INPUT", None)]
    assert await UsageEvent.filter(organization_id=world.org, idempotency_key="c,1").count() == 1


async def test_gzip_and_a_corrupt_or_truncated_gzip(world: World) -> None:
    key = await issue_api_key(world.org)
    body = ndjson(as_fields(ev(world, f"g{i}")) for i in range(10))
    packed = gzip.compress(body)
    ok = await post(packed, key, {**NDJSON, "Content-Encoding": "gzip"})
    assert ok.json()["accepted"] == 10
    corrupt = await post(b"not gzip at all", key, {**NDJSON, "Content-Encoding": "gzip"})
    assert corrupt.status_code == 400 and corrupt.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    truncated = await post(gzip.compress(ndjson(as_fields(ev(world, f"t{i}")) for i in range(10)))[:-12], key,
                           {**NDJSON, "Content-Encoding": "gzip"})
    assert truncated.status_code == 400
    assert truncated.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # the whole lines before the cut are stored and counted; the cut line is not read
    assert 0 < truncated.json()["accepted"] < 10
    assert await UsageEvent.filter(organization_id=world.org, idempotency_key__startswith="t").count() == \
        truncated.json()["accepted"]


async def test_refusals_before_reading(world: World) -> None:
    key = await issue_api_key(world.org)
    body = ndjson([as_fields(ev(world, "a"))])
    for sent_key in (None, "cmt_not_a_key"):
        response = await post(body, sent_key, NDJSON)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for headers in ({"Content-Type": "application/json"}, {**NDJSON, "Content-Encoding": "br"}, {}):
        response = await post(body, key, headers)
        assert response.status_code == 415
        assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    header = await post(b"idempotencyKey,colour\n", key, CSV)
    assert header.status_code == 400 and "colour" in header.json()["errors"][0]["message"]
    assert await UsageEvent.filter(organization_id=world.org).count() == 0


async def test_past_the_event_cap_the_rest_is_not_read(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await issue_api_key(world.org)
    monkeypatch.setattr(bulk, "MAX_EVENTS", 5)
    response = await post(ndjson(as_fields(ev(world, f"e{i}")) for i in range(8)), key, NDJSON)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "index 5" in response.json()["errors"][0]["message"]
    assert response.json()["accepted"] == 5
    assert await UsageEvent.filter(organization_id=world.org).count() == 5


async def test_past_the_byte_limit_the_answer_says_what_was_stored(world: World) -> None:
    key = await issue_api_key(world.org)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(40):
            yield ndjson([as_fields(ev(world, f"b{i}"))])

    response = await post(chunks(), key, NDJSON, max_ingest_bytes=2000)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    stored = await UsageEvent.filter(organization_id=world.org).count()
    assert 0 < stored < 40 and response.json()["accepted"] == stored


async def test_a_big_file_streamed_past_the_graphql_body_limit(world: World) -> None:
    """20,000 events (4 batches), sent in chunks, over the 2 MiB body limit of /graphql."""
    key = await issue_api_key(world.org)
    events = [as_fields(ev(world, f"big-{i:06}-{'x' * 60}", quantity=f"{i % 7}.25",
                           connection_id=f"sim-{i % 100}")) for i in range(20_000)]
    body = ndjson(events)
    assert len(body) > load_settings().max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start:start + 65_536]

    response = await post(chunks(), key, NDJSON)
    assert response.status_code == 200, response.text[:500]
    assert (response.json()["accepted"], response.json()["events"]) == (20_000, [])
    assert await UsageEvent.filter(organization_id=world.org).count() == 20_000


async def test_a_client_that_leaves_midway_keeps_the_whole_lines_it_sent(world: World) -> None:
    """A dropped upload is not a server error: the whole lines read before it are stored (their keys
    answer DUPLICATE when the file is sent again), the partial last line is not."""
    key = await issue_api_key(world.org)
    lines = ndjson([as_fields(ev(world, f"left{i}")) for i in range(3)])
    cut = lines[: lines.rindex(b"\n", 0, len(lines) - 1) + 10]  # two whole lines and a piece of the third
    app = create_app(load_settings(), manage_db=False)
    messages = [{"type": "http.request", "body": cut, "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/usage", "raw_path": b"/v1/usage", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/x-ndjson"),
                         (b"content-length", str(len(lines) * 10).encode())],
             "client": ("127.0.0.1", 5000), "server": ("test", 80), "scheme": "http", "http_version": "1.1",
             "root_path": "", "asgi": {"version": "3.0"}}
    await app(scope, receive, send)
    assert sorted(await UsageEvent.filter(organization_id=world.org, idempotency_key__startswith="left")
                  .values_list("idempotency_key", flat=True)) == ["left0", "left1"]
    assert not any(m.get("status") == 500 for m in sent)
