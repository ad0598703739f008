"""Issue 10, "Conventions drift": each mutation answers its own `<MutationName>Payload`, first
time and on an idempotent replay, also for an answer stored under a payload type's old name."""

from __future__ import annotations

import json

from app.api.ids import encode
from app.db.models import IdempotencyRecord
from app.services import accounts
from tests.api.helpers import gql, new_org

ERRORS = "userErrors { code field message }"
DELETE_ACCOUNT = f"""mutation($id: ID!, $key: String) {{ deleteAccount(id: $id, idempotencyKey: $key) {{
  __typename deletedId {ERRORS} }} }}"""
CREATE_PRODUCT = f"""mutation($key: String) {{ createProduct(input: {{code: "sim", name: "SIM", kind: SERVICE,
  unit: "SIM"}}, idempotencyKey: $key) {{ __typename product {{ code }} {ERRORS} }} }}"""
UPDATE_PRODUCT = f"""mutation($id: ID!, $key: String) {{ updateProduct(id: $id, input: {{name: "SIM card"}},
  idempotencyKey: $key) {{ __typename product {{ name }} {ERRORS} }} }}"""


async def _account(org: int) -> str:
    return encode("Account", (await accounts.create_account(org, accounts.AccountSpec(name="Acme"))).id)


async def test_create_and_update_answer_their_own_payload_type_also_on_a_replay(db: str) -> None:
    org = await new_org()
    created = await gql(org, CREATE_PRODUCT, {"key": "p1"})
    assert created["createProduct"]["__typename"] == "CreateProductPayload"
    assert await gql(org, CREATE_PRODUCT, {"key": "p1"}) == created
    product = (await gql(org, "{ products(first: 1) { nodes { id } } }"))["products"]["nodes"][0]["id"]
    updated = await gql(org, UPDATE_PRODUCT, {"id": product, "key": "p2"})
    assert updated["updateProduct"] == {"__typename": "UpdateProductPayload", "product": {"name": "SIM card"},
                                        "userErrors": []}
    assert await gql(org, UPDATE_PRODUCT, {"id": product, "key": "p2"}) == updated


async def test_a_refused_call_answers_its_payload_type_with_nulls_and_the_errors(db: str) -> None:
    org = await new_org()
    out = await gql(org, DELETE_ACCOUNT, {"id": encode("Account", 999999)})
    assert out["deleteAccount"]["__typename"] == "DeleteAccountPayload"
    assert out["deleteAccount"]["deletedId"] is None
    assert [e["code"] for e in out["deleteAccount"]["userErrors"]] == ["NOT_FOUND"]


async def test_an_answer_stored_under_an_old_payload_name_replays_as_the_mutations_type(db: str) -> None:
    """0.x renamed the shared payloads (DeletePayload, ContractPayload...): a key stored before the
    upgrade still replays, as the type the schema now declares."""
    org = await new_org()
    account = await _account(org)
    first = await gql(org, DELETE_ACCOUNT, {"id": account, "key": "d1"})
    assert first["deleteAccount"] == {"__typename": "DeleteAccountPayload", "deletedId": account, "userErrors": []}
    record = await IdempotencyRecord.get(organization_id=org, key="d1")
    stored = json.loads(record.payload or "null")
    assert stored["$type"] == "app.api.tenancy.mutations:DeleteAccountPayload"
    stored["$type"] = "app.api.tenancy.mutations:DeletePayload"  # as the old code wrote it
    record.payload = json.dumps(stored)
    await record.save(update_fields=["payload"])
    assert await gql(org, DELETE_ACCOUNT, {"id": account, "key": "d1"}) == first
