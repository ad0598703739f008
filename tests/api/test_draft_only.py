"""Only DRAFT contracts can be edited; deleting a draft removes its parts; cancelling keeps it."""

from __future__ import annotations

from typing import Any

import pytest

from app.api import ids
from app.db import models
from tests.api.helpers import gql, new_org, unpage
from tests.api.test_contract_graph import CREATE_CONTRACT, GRAPH, account, catalog, full_contract

PARTS = """query($id: ID!) { node(id: $id) { ... on Contract {
  prices { nodes { id } } serviceLines { nodes { id } } commitments { nodes { id } } } } }"""

UE = "userErrors { code field }"
PRICE = {"model": "PER_UNIT", "unitAmount": "3"}
LINE = {"quantity": "7", "unitPrice": "2"}
COMMITMENT = {"name": "New", "type": "SPEND", "frequency": "MONTHLY", "payment": "POSTPAID",
              "rampSteps": [{"fromWindow": 1, "amount": "5"}]}


async def setup(org: int) -> dict[str, Any]:
    p = await catalog(org)
    acc = await account(org)
    data = await gql(org, CREATE_CONTRACT, {"input": full_contract(acc, p)})
    assert data["createContract"]["userErrors"] == []
    cid = data["createContract"]["contract"]["id"]
    parts = unpage((await gql(org, PARTS, {"id": cid}))["node"])
    return {**p, "account": acc, "contract": cid, "pk": ids.parse(cid)[1],  # type: ignore[index]
            "price": parts["prices"][1]["id"], "line": parts["serviceLines"][0]["id"],
            "commitment": parts["commitments"][0]["id"]}


def edits(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("updateContract", f'mutation($id: ID!) {{ updateContract(id: $id, input: {{name: "changed", '
                           f'standingCharge: "1"}}) {{ {UE} }} }}', {"id": w["contract"]}),
        ("cancelContract", f"mutation($id: ID!) {{ cancelContract(id: $id) {{ {UE} }} }}", {"id": w["contract"]}),
        ("deleteContract", f"mutation($id: ID!) {{ deleteContract(id: $id) {{ {UE} }} }}", {"id": w["contract"]}),
        ("createPrice", f"mutation($c: ID!, $i: PriceInput!) {{ createPrice(contractId: $c, input: $i) {{ {UE} }} }}",
         {"c": w["contract"], "i": {**PRICE, "usageClassId": w["gb"]}}),
        ("updatePrice", f"mutation($id: ID!, $i: PriceInput!) {{ updatePrice(id: $id, input: $i) {{ {UE} }} }}",
         {"id": w["price"], "i": {**PRICE, "usageClassId": w["gb"]}}),
        ("deletePrice", f"mutation($id: ID!) {{ deletePrice(id: $id) {{ {UE} }} }}", {"id": w["price"]}),
        ("createServiceLine",
         f"mutation($c: ID!, $i: ServiceLineInput!) {{ createServiceLine(contractId: $c, input: $i) {{ {UE} }} }}",
         {"c": w["contract"], "i": {**LINE, "productId": w["sim"]}}),
        ("updateServiceLine",
         f"mutation($id: ID!, $i: ServiceLineInput!) {{ updateServiceLine(id: $id, input: $i) {{ {UE} }} }}",
         {"id": w["line"], "i": {**LINE, "productId": w["sim"]}}),
        ("deleteServiceLine", f"mutation($id: ID!) {{ deleteServiceLine(id: $id) {{ {UE} }} }}", {"id": w["line"]}),
        ("createCommitment",
         f"mutation($c: ID!, $i: CommitmentInput!) {{ createCommitment(contractId: $c, input: $i) {{ {UE} }} }}",
         {"c": w["contract"], "i": COMMITMENT}),
        ("updateCommitment",
         f"mutation($id: ID!, $i: CommitmentInput!) {{ updateCommitment(id: $id, input: $i) {{ {UE} }} }}",
         {"id": w["commitment"], "i": COMMITMENT}),
        ("deleteCommitment", f"mutation($id: ID!) {{ deleteCommitment(id: $id) {{ {UE} }} }}",
         {"id": w["commitment"]}),
    ]


EXPECTED_FIELD = {"createPrice": "contractId", "createServiceLine": "contractId", "createCommitment": "contractId"}
NAMES = [e[0] for e in edits({k: "x" for k in ("contract", "price", "line", "commitment", "gb", "sim")})]


@pytest.mark.parametrize("status", ["ACTIVE", "ENDED"])
@pytest.mark.parametrize("name", NAMES)
async def test_non_draft_contract_refuses_edits(db: str, status: str, name: str) -> None:
    org = await new_org()
    w = await setup(org)
    await models.Contract.filter(id=w["pk"]).update(status=status)
    before = await gql(org, GRAPH, {"id": w["contract"]})
    mutation, variables = next((m, v) for n, m, v in edits(w) if n == name)
    data = await gql(org, mutation, variables)
    errors = [(e["code"], e["field"]) for e in data[name]["userErrors"]]
    assert errors == [("CONTRACT_NOT_DRAFT", EXPECTED_FIELD.get(name, "id"))]
    after = await gql(org, GRAPH, {"id": w["contract"]})
    assert after == before
    assert after["node"]["status"] == status


async def test_the_same_edits_succeed_on_a_draft(db: str) -> None:
    org = await new_org()
    w = await setup(org)
    order = {"update": 0, "delete": 1, "create": 2}
    todo = [e for e in edits(w) if e[0] not in ("cancelContract", "deleteContract")]
    for name, mutation, variables in sorted(todo, key=lambda e: order[e[0][:6]]):
        data = await gql(org, mutation, variables)
        assert data[name]["userErrors"] == [], name
    c = unpage((await gql(org, GRAPH, {"id": w["contract"]}))["node"])
    assert c["name"] == "changed" and c["standingCharge"] == "1.00"
    assert [(p["usageClass"]["code"], p["model"], p["unitAmount"]) for p in c["prices"]] == [
        ("sms-mo-mb", "PER_UNIT", "0.0125"), ("data-gb", "PER_UNIT", "3")]
    assert c["serviceLines"][-1]["quantity"] == "7"
    assert c["commitments"][-1]["name"] == "New"
    assert len(c["serviceLines"]) == 3 and len(c["commitments"]) == 7


async def test_delete_draft_removes_it_and_its_parts(db: str) -> None:
    org = await new_org()
    w = await setup(org)
    other = await gql(org, CREATE_CONTRACT, {"input": full_contract(w["account"], w)})
    other_id = other["createContract"]["contract"]["id"]
    before = {m: await getattr(models, m).all().count()
              for m in ("Contract", "Price", "PriceTier", "ServiceLine", "Commitment", "RampStep", "FeeDate",
                        "Penalty", "PenaltyTier", "CommitmentProduct")}
    data = await gql(org, f"mutation($id: ID!) {{ deleteContract(id: $id) {{ deletedId {UE} }} }}",
                     {"id": w["contract"]})
    assert data["deleteContract"] == {"deletedId": w["contract"], "userErrors": []}
    assert (await gql(org, "query($id: ID!) { node(id: $id) { id } }", {"id": w["contract"]}))["node"] is None
    for key in ("price", "line", "commitment"):
        assert (await gql(org, "query($id: ID!) { node(id: $id) { id } }", {"id": w[key]}))["node"] is None
    after = {m: await getattr(models, m).all().count() for m in before}
    assert after == {m: n // 2 for m, n in before.items()}  # the other, identical contract is untouched
    assert await models.Contract.filter(id=w["pk"]).count() == 0
    for model in ("Price", "ServiceLine", "Commitment"):
        assert await getattr(models, model).filter(contract_id=w["pk"]).count() == 0
    listed = await gql(org, "{ contracts { nodes { id } } products { totalCount } accounts { totalCount } }")
    assert listed["contracts"]["nodes"] == [{"id": other_id}]
    assert listed["products"]["totalCount"] == 4 and listed["accounts"]["totalCount"] == 1


async def test_cancel_moves_draft_to_cancelled(db: str) -> None:
    org = await new_org()
    w = await setup(org)
    before = await gql(org, GRAPH, {"id": w["contract"]})
    data = await gql(org, f"mutation($id: ID!) {{ cancelContract(id: $id) {{ contract {{ id status }} {UE} }} }}",
                     {"id": w["contract"]})
    assert data["cancelContract"] == {"contract": {"id": w["contract"], "status": "CANCELLED"}, "userErrors": []}
    after = await gql(org, GRAPH, {"id": w["contract"]})
    before["node"]["status"] = "CANCELLED"
    assert after == before
    # a cancelled contract is no longer editable, cannot be cancelled again, but can be deleted
    again = await gql(org, f"mutation($id: ID!) {{ cancelContract(id: $id) {{ {UE} }} }}", {"id": w["contract"]})
    assert [(e["code"], e["field"]) for e in again["cancelContract"]["userErrors"]] == [("CONTRACT_NOT_DRAFT", "id")]
    upd = await gql(org, f'mutation($id: ID!) {{ updateContract(id: $id, input: {{name: "x"}}) {{ {UE} }} }}',
                    {"id": w["contract"]})
    assert [e["code"] for e in upd["updateContract"]["userErrors"]] == ["CONTRACT_NOT_DRAFT"]
    gone = await gql(org, f"mutation($id: ID!) {{ deleteContract(id: $id) {{ deletedId {UE} }} }}",
                     {"id": w["contract"]})
    assert gone["deleteContract"] == {"deletedId": w["contract"], "userErrors": []}
