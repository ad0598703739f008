"""recordUsage and postCharge through GraphQL."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

import pytest

from app.api import ids
from app.db import aggregates
from app.db.models import OneTimeCharge, UsageEvent
from tests.api.helpers import gql, gql_raw
from tests.services.test_usage import YEAR, build

RECORD = """mutation($events: [UsageEventInput!]!) { recordUsage(events: $events) {
  results { index status code field message } accepted duplicates rejected
  userErrors { code field message } } }"""

POST = """mutation($input: PostChargeInput!) { postCharge(input: $input) {
  charge { id amount serviceDate description idempotencyKey product { code kind } }
  created userErrors { code field message } } }"""


@pytest.fixture
async def org(db: str) -> tuple[int, dict[str, int]]:
    return await build()


def gid(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


def event(o: dict[str, int], key: str, **over: Any) -> dict[str, Any]:
    base = {"contractId": gid("Contract", o["c1"]), "usageClassId": gid("Product", o["calls"]), "quantity": "1",
            "timestamp": "2026-02-10T12:00:00Z", "idempotencyKey": key}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


async def record(org_id: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    return (await gql(org_id, RECORD, {"events": events}))["recordUsage"]


async def test_a_mixed_batch(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    out = await record(org_id, [
        event(o, "a"),
        event(o, "b", contractId=None, accountId=gid("Account", o["acme"]), usageClassId=None, usageClass="gb",
              quantity="2.5", connectionId="sim-42"),
        event(o, "c", quantity="lots"),
        event(o, "d", contractId=gid("Account", o["acme"])),  # an id of the wrong type
        event(o, "e", timestamp="31/01/2026"),
        event(o, "a"),
        event(o, "f", contractId=gid("Contract", o["draft"])),
    ])
    assert out["userErrors"] == []
    assert [(r["index"], r["status"], r["code"], r["field"]) for r in out["results"]] == [
        (0, "ACCEPTED", None, None),
        (1, "ACCEPTED", None, None),
        (2, "REJECTED", "INVALID_AMOUNT", "events.2.quantity"),
        (3, "REJECTED", "INVALID_ID", "events.3.contractId"),
        (4, "REJECTED", "INVALID_TIMESTAMP", "events.4.timestamp"),
        (5, "DUPLICATE", "DUPLICATE", "events.5.idempotencyKey"),
        (6, "REJECTED", "CONTRACT_NOT_ACTIVE", "events.6.contractId"),
    ]
    assert all(r["message"] for r in out["results"] if r["status"] != "ACCEPTED")
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (2, 1, 4)
    assert await aggregates.usage_totals(org_id, o["c1"], *YEAR) == {o["calls"]: D(1), o["gb"]: D("2.5")}


async def test_a_repeated_batch_is_all_duplicates(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    batch = [event(o, f"k{i}", quantity="0.1") for i in range(10)]
    assert (await record(org_id, batch))["accepted"] == 10
    again = await record(org_id, batch)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 10, 0)
    assert await UsageEvent.filter(organization_id=org_id).count() == 10


async def test_more_than_1000_events_is_one_user_error(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    out = await record(org_id, [event(o, f"k{i}") for i in range(1001)])
    assert out["results"] == [] and out["accepted"] == 0
    assert [(e["code"], e["field"]) for e in out["userErrors"]] == [("INVALID_INPUT", "events")]
    assert await UsageEvent.filter(organization_id=org_id).count() == 0


async def test_a_full_batch_through_graphql(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    out = await record(org_id, [event(o, f"k{i:04}") for i in range(1000)])
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (1000, 0, 0)


async def test_another_tenant_cannot_record_on_my_contract(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    intruder, _ = await build("Intruder")
    out = await record(intruder, [event(o, "x")])
    assert [(r["status"], r["code"]) for r in out["results"]] == [("REJECTED", "NOT_FOUND")]


async def test_a_missing_quantity_fails_graphql_validation_but_a_bad_one_does_not(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    bad = event(o, "k")
    del bad["quantity"]
    result = await gql_raw(org_id, RECORD, {"events": [bad]})
    assert result.errors
    out = await record(org_id, [event(o, "k", quantity="1,5"), event(o, "k2", quantity="1.5")])
    assert [r["status"] for r in out["results"]] == ["REJECTED", "ACCEPTED"]


async def test_unauthenticated_is_refused(org: tuple[int, dict[str, int]]) -> None:
    _, o = org
    result = await gql_raw(None, RECORD, {"events": [event(o, "k")]})
    assert result.errors and result.errors[0].extensions["code"] == "UNAUTHENTICATED"


async def test_post_charge(org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    data = {"contractId": gid("Contract", o["c1"]), "productId": gid("Product", o["sim"]), "amount": "49.9",
            "serviceDate": "2026-03-15", "description": "Set-up fee", "idempotencyKey": "setup"}
    first = (await gql(org_id, POST, {"input": data}))["postCharge"]
    assert first["userErrors"] == [] and first["created"] is True
    assert first["charge"]["amount"] == "49.90"
    assert first["charge"]["product"] == {"code": "sim", "kind": "SERVICE"}
    assert (first["charge"]["serviceDate"], first["charge"]["description"], first["charge"]["idempotencyKey"]) == \
        ("2026-03-15", "Set-up fee", "setup")
    assert ids.parse(first["charge"]["id"]) == ("OneTimeCharge", (await OneTimeCharge.get(idempotency_key="setup")).id)
    again = (await gql(org_id, POST, {"input": data}))["postCharge"]
    assert again["created"] is False and again["charge"]["id"] == first["charge"]["id"]
    different = (await gql(org_id, POST, {"input": {**data, "amount": "50"}}))["postCharge"]
    assert different["charge"] is None and different["created"] is False
    assert [(e["code"], e["field"]) for e in different["userErrors"]] == [("DUPLICATE", "input.idempotencyKey")]


@pytest.mark.parametrize(("over", "code", "field"), [
    ({"amount": "-5"}, "INVALID_AMOUNT", "input.amount"),
    ({"contractId": "nonsense"}, "INVALID_ID", "input.contractId"),
    ({"productId": "UHJvZHVjdDo5OTk5OTk="}, "NOT_FOUND", "input.productId"),
    ({"serviceDate": "2027-01-01"}, "DATE_OUTSIDE_TERM", "input.serviceDate"),
])
async def test_post_charge_refusals(org: tuple[int, dict[str, int]], over: dict[str, str], code: str, field: str) -> None:
    org_id, o = org
    data = {"contractId": gid("Contract", o["c1"]), "productId": gid("Product", o["sim"]), "amount": "10",
            "serviceDate": "2026-03-15", "idempotencyKey": "k", **over}
    out = (await gql(org_id, POST, {"input": data}))["postCharge"]
    assert out["charge"] is None
    assert [(e["code"], e["field"]) for e in out["userErrors"]] == [(code, field)]


async def test_twenty_concurrent_batches_store_each_key_once(postgres_only: None,
                                                             org: tuple[int, dict[str, int]]) -> None:
    org_id, o = org
    batches = [[event(o, f"key{k:03}") for k in range(b * 5, b * 5 + 25)] for b in range(20)]
    outs = await asyncio.gather(*(record(org_id, batch) for batch in batches))
    keys = {f"key{k:03}" for k in range(19 * 5 + 25)}
    assert sum(out["accepted"] for out in outs) == len(keys)
    assert sum(out["rejected"] for out in outs) == 0
    assert await UsageEvent.filter(organization_id=org_id).count() == len(keys)
