"""A second organization can neither see nor touch the first one's objects; no org, no data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import gql, gql_raw, new_org, unpage
from tests.api.test_contract_graph import (
    CREATE_BALANCE,
    CREATE_CONTRACT,
    GRAPH,
    account,
    catalog,
    full_contract,
)

IDS = """query($id: ID!) { node(id: $id) { ... on Contract {
  prices { nodes { id } } serviceLines { nodes { id } } commitments { nodes { id } } account { balances { nodes { id } } } } } }"""

EVERYTHING = """{
  organization { id name defaultCurrency drawdownOrder }
  accounts(first: 100) { totalCount nodes { id name externalId drawdownOrder balances { nodes { id amount } } } }
  products(first: 100) { totalCount nodes { id code name kind unit packageItems { quantity service { id } } } }
  contracts(first: 100) { totalCount nodes { id name status startDate endDate standingCharge } }
}"""


async def owner_world(org: int) -> dict[str, Any]:
    p = await catalog(org)
    acc = await account(org)
    bal = await gql(org, CREATE_BALANCE, {"input": {
        "accountId": acc, "name": "Credit", "currency": "GBP", "amount": "100",
        "startDate": "2026-01-01", "endDate": "2027-01-01"}})
    assert bal["createBalance"]["userErrors"] == []
    data = await gql(org, CREATE_CONTRACT, {"input": full_contract(acc, p)})
    assert data["createContract"]["userErrors"] == []
    cid = data["createContract"]["contract"]["id"]
    parts = unpage((await gql(org, IDS, {"id": cid}))["node"])
    return {
        **p, "account": acc, "contract": cid, "balance": bal["createBalance"]["balance"]["id"],
        "price": parts["prices"][0]["id"], "line": parts["serviceLines"][0]["id"],
        "commitment": parts["commitments"][0]["id"],
    }


async def snapshot(org: int, w: dict[str, Any]) -> dict[str, Any]:
    return {"all": await gql(org, EVERYTHING), "graph": await gql(org, GRAPH, {"id": w["contract"]})}


@pytest.fixture
async def two_tenants(db: str) -> tuple[int, int, dict[str, Any], dict[str, Any]]:
    a = await new_org("A")
    b = await new_org("B")
    wa = await owner_world(a)
    wb = await owner_world(b)
    return a, b, wa, wb


NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_other_tenant_cannot_read(two_tenants: tuple[int, int, dict[str, Any], dict[str, Any]]) -> None:
    a, b, wa, wb = two_tenants
    keys = ["sms", "gb", "sim", "pkg", "account", "contract", "balance", "price", "line", "commitment"]
    for k in keys:
        assert (await gql(b, NODE, {"id": wa[k]}))["node"] is None, k
        assert (await gql(a, NODE, {"id": wa[k]}))["node"] == {"id": wa[k]}, k
        assert (await gql(b, NODE, {"id": wb[k]}))["node"] == {"id": wb[k]}, k
    mixed = [wa[k] for k in keys] + [wb["contract"]]
    assert (await gql(b, NODES, {"ids": mixed}))["nodes"] == [None] * len(keys) + [{"id": wb["contract"]}]
    assert (await gql(a, NODES, {"ids": mixed}))["nodes"] == [{"id": wa[k]} for k in keys] + [None]

    everything_b = await gql(b, EVERYTHING)
    assert [n["id"] for n in everything_b["accounts"]["nodes"]] == [wb["account"]]
    assert everything_b["accounts"]["totalCount"] == 1
    assert [n["id"] for n in everything_b["contracts"]["nodes"]] == [wb["contract"]]
    assert everything_b["contracts"]["totalCount"] == 1
    assert [n["id"] for n in everything_b["products"]["nodes"]] == [wb[k] for k in ("sms", "gb", "sim", "pkg")]
    assert everything_b["products"]["totalCount"] == 4
    # filtering B's contracts by A's account finds nothing
    res = await gql(b, "query($acc: ID) { contracts(accountId: $acc) { totalCount nodes { id } } }",
                    {"acc": wa["account"]})
    assert res["contracts"] == {"totalCount": 0, "nodes": []}


PRICE = {"model": "PER_UNIT", "unitAmount": "1"}
LINE = {"quantity": "1"}
COMMITMENT = {"name": "X", "type": "SPEND", "frequency": "MONTHLY", "payment": "POSTPAID",
              "rampSteps": [{"fromWindow": 1, "amount": "1"}]}


def cases(wa: dict[str, Any], wb: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str, str]]:
    """(name, mutation, variables, payload field, expected error field) — every one hits A's objects as B."""
    ue = "userErrors { code field }"
    contract_b = {"accountId": wb["account"], "name": "N", "currency": "GBP", "startDate": "2026-01-01",
                  "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}
    return [
        ("updateAccount", f"mutation($id: ID!) {{ updateAccount(id: $id, input: {{name: \"hacked\"}}) {{ {ue} }} }}",
         {"id": wa["account"]}, "updateAccount", "id"),
        ("deleteAccount", f"mutation($id: ID!) {{ deleteAccount(id: $id) {{ {ue} }} }}",
         {"id": wa["account"]}, "deleteAccount", "id"),
        ("updateProduct", f"mutation($id: ID!) {{ updateProduct(id: $id, input: {{name: \"hacked\"}}) {{ {ue} }} }}",
         {"id": wa["sim"]}, "updateProduct", "id"),
        ("deleteProduct", f"mutation($id: ID!) {{ deleteProduct(id: $id) {{ {ue} }} }}",
         {"id": wa["sms"]}, "deleteProduct", "id"),
        ("updateContract", f"mutation($id: ID!) {{ updateContract(id: $id, input: {{name: \"hacked\"}}) {{ {ue} }} }}",
         {"id": wa["contract"]}, "updateContract", "id"),
        ("cancelContract", f"mutation($id: ID!) {{ cancelContract(id: $id) {{ {ue} }} }}",
         {"id": wa["contract"]}, "cancelContract", "id"),
        ("renewContract", f"mutation($id: ID!) {{ renewContract(contractId: $id, endDate: \"2028-01-01\") {{ {ue} }} }}",
         {"id": wa["contract"]}, "renewContract", "contractId"),
        ("amendContract", f"mutation($id: ID!) {{ amendContract(contractId: $id, expectedVersion: 1, effectiveDate: "
         f"\"2026-02-01\", reason: \"x\", changes: {{standingCharge: \"1\"}}) {{ {ue} }} }}",
         {"id": wa["contract"]}, "amendContract", "contractId"),
        ("terminateContract", f"mutation($id: ID!) {{ terminateContract(contractId: $id, endDate: \"2026-06-01\", "
         f"reason: \"x\") {{ {ue} }} }}", {"id": wa["contract"]}, "terminateContract", "contractId"),
        ("deleteContract", f"mutation($id: ID!) {{ deleteContract(id: $id) {{ {ue} }} }}",
         {"id": wa["contract"]}, "deleteContract", "id"),
        ("correctContract", f"mutation($id: ID!) {{ correctContract(contractId: $id) {{ {ue} }} }}",
         {"id": wa["contract"]}, "correctContract", "contractId"),
        ("createPrice", f"mutation($c: ID!, $i: PriceInput!) {{ createPrice(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wa["contract"], "i": {**PRICE, "usageClassId": wb["sms"]}}, "createPrice", "contractId"),
        ("createPrice-foreign-product",
         f"mutation($c: ID!, $i: PriceInput!) {{ createPrice(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wb["contract"], "i": {**PRICE, "usageClassId": wa["sms"]}}, "createPrice", "input.usageClassId"),
        ("updatePrice", f"mutation($id: ID!, $i: PriceInput!) {{ updatePrice(id: $id, input: $i) {{ {ue} }} }}",
         {"id": wa["price"], "i": {**PRICE, "usageClassId": wb["sms"]}}, "updatePrice", "id"),
        ("deletePrice", f"mutation($id: ID!) {{ deletePrice(id: $id) {{ {ue} }} }}",
         {"id": wa["price"]}, "deletePrice", "id"),
        ("createServiceLine",
         f"mutation($c: ID!, $i: ServiceLineInput!) {{ createServiceLine(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wa["contract"], "i": {**LINE, "productId": wb["sim"]}}, "createServiceLine", "contractId"),
        ("createServiceLine-foreign-product",
         f"mutation($c: ID!, $i: ServiceLineInput!) {{ createServiceLine(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wb["contract"], "i": {**LINE, "productId": wa["sim"]}}, "createServiceLine", "input.productId"),
        ("updateServiceLine",
         f"mutation($id: ID!, $i: ServiceLineInput!) {{ updateServiceLine(id: $id, input: $i) {{ {ue} }} }}",
         {"id": wa["line"], "i": {**LINE, "productId": wb["sim"]}}, "updateServiceLine", "id"),
        ("deleteServiceLine", f"mutation($id: ID!) {{ deleteServiceLine(id: $id) {{ {ue} }} }}",
         {"id": wa["line"]}, "deleteServiceLine", "id"),
        ("createCommitment",
         f"mutation($c: ID!, $i: CommitmentInput!) {{ createCommitment(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wa["contract"], "i": COMMITMENT}, "createCommitment", "contractId"),
        ("createCommitment-foreign-product",
         f"mutation($c: ID!, $i: CommitmentInput!) {{ createCommitment(contractId: $c, input: $i) {{ {ue} }} }}",
         {"c": wb["contract"], "i": {**COMMITMENT, "eligibleProductIds": [wa["gb"]]}}, "createCommitment",
         "input.eligibleProductIds.0"),
        ("updateCommitment",
         f"mutation($id: ID!, $i: CommitmentInput!) {{ updateCommitment(id: $id, input: $i) {{ {ue} }} }}",
         {"id": wa["commitment"], "i": COMMITMENT}, "updateCommitment", "id"),
        ("deleteCommitment", f"mutation($id: ID!) {{ deleteCommitment(id: $id) {{ {ue} }} }}",
         {"id": wa["commitment"]}, "deleteCommitment", "id"),
        ("createContract-foreign-account",
         f"mutation($i: CreateContractInput!) {{ createContract(input: $i) {{ {ue} }} }}",
         {"i": {**contract_b, "accountId": wa["account"]}}, "createContract", "input.accountId"),
        ("createContract-foreign-usage-class",
         f"mutation($i: CreateContractInput!) {{ createContract(input: $i) {{ {ue} }} }}",
         {"i": {**contract_b, "commitments": [{**COMMITMENT, "type": "USAGE", "payment": None,
                                               "usageClassId": wa["gb"]}]}},
         "createContract", "input.commitments.0.usageClassId"),
        ("createContract-foreign-price",
         f"mutation($i: CreateContractInput!) {{ createContract(input: $i) {{ {ue} }} }}",
         {"i": {**contract_b, "prices": [{**PRICE, "usageClassId": wa["sms"]}]}},
         "createContract", "input.prices.0.usageClassId"),
        ("createContract-foreign-line",
         f"mutation($i: CreateContractInput!) {{ createContract(input: $i) {{ {ue} }} }}",
         {"i": {**contract_b, "serviceLines": [{**LINE, "productId": wa["pkg"]}]}},
         "createContract", "input.serviceLines.0.productId"),
        ("createBalance-foreign-account",
         f"mutation($i: CreateBalanceInput!) {{ createBalance(input: $i) {{ {ue} }} }}",
         {"i": {"accountId": wa["account"], "name": "free", "currency": "GBP", "amount": "5",
                "startDate": "2026-01-01", "endDate": "2027-01-01"}}, "createBalance", "input.accountId"),
        ("createBalance-foreign-product",
         f"mutation($i: CreateBalanceInput!) {{ createBalance(input: $i) {{ {ue} }} }}",
         {"i": {"accountId": wb["account"], "name": "free", "currency": "GBP", "amount": "5",
                "startDate": "2026-01-01", "endDate": "2027-01-01", "eligibleProductIds": [wa["sim"]]}},
         "createBalance", "input.eligibleProductIds.0"),
    ]


async def test_other_tenant_cannot_touch(two_tenants: tuple[int, int, dict[str, Any], dict[str, Any]]) -> None:
    a, b, wa, wb = two_tenants
    before_a, before_b = await snapshot(a, wa), await snapshot(b, wb)
    failures = []
    for name, mutation, variables, payload, field in cases(wa, wb):
        data = await gql(b, mutation, variables)
        errors = data[payload]["userErrors"]
        if {"code": "NOT_FOUND", "field": field} not in errors or any(e["code"] != "NOT_FOUND" for e in errors):
            failures.append((name, errors))
    assert failures == []
    assert await snapshot(a, wa) == before_a
    assert await snapshot(b, wb) == before_b


async def test_other_tenant_cannot_credit_an_invoice_or_a_line(db: str) -> None:
    """issueCreditNote: another tenant's invoice, or another tenant's line on one's own invoice, is
    NOT_FOUND; neither tenant's notes change, and neither sees the other's in its list."""
    from tests.scenarios.story import Story
    from tests.scenarios.test_credit_notes import ISSUE, january, line_id

    a, b = await Story.start("GBP"), await Story.start("GBP")
    (_, inv_a), (_, inv_b) = await january(a), await january(b)
    kept = await gql(a.org, ISSUE, {"i": inv_a["id"], "lines": [{"invoiceLineId": line_id(inv_a, "USAGE"), "amount": "5"}],
                                "r": "A's own"})
    assert kept["issueCreditNote"]["userErrors"] == []
    attempts = [
        (inv_a["id"], line_id(inv_a, "USAGE"), "invoiceId"),
        (inv_b["id"], line_id(inv_a, "USAGE"), "lines.0.invoiceLineId"),
    ]
    for invoice_id, line, field in attempts:
        out = await gql(b.org, ISSUE, {"i": invoice_id, "lines": [{"invoiceLineId": line, "amount": "1"}], "r": "x"})
        assert [(e["code"], e["field"]) for e in out["issueCreditNote"]["userErrors"]] == [("NOT_FOUND", field)]
    listed = "{ adjustments { totalCount nodes { id } } }"
    assert (await gql(b.org, listed))["adjustments"] == {"totalCount": 0, "nodes": []}
    assert (await gql(a.org, listed))["adjustments"]["totalCount"] == 1
    note = kept["issueCreditNote"]["adjustment"]["id"]
    assert (await gql(b.org, NODE, {"id": note}))["node"] is None


ROOT_FIELDS = [
    "{ organization { id } }",
    "{ accounts { totalCount } }",
    "{ products { totalCount } }",
    "{ contracts { totalCount } }",
    '{ invoices(contractId: "Q29udHJhY3Q6MQ==") { totalCount } }',
    '{ adjustments { totalCount } }',
    '{ usageEvents { totalCount } }',
    '{ closeRun(id: "Q2xvc2VSdW46MQ==") { status } }',
    '{ node(id: "QWNjb3VudDox") { id } }',
    '{ nodes(ids: ["QWNjb3VudDox"]) { id } }',
    'mutation { updateOrganization(input: {name: "x"}) { userErrors { code } } }',
    'mutation { createAccount(input: {name: "x"}) { userErrors { code } } }',
    'mutation { updateAccount(id: "QWNjb3VudDox", input: {name: "x"}) { userErrors { code } } }',
    'mutation { deleteAccount(id: "QWNjb3VudDox") { userErrors { code } } }',
    'mutation { createProduct(input: {code: "x", name: "x", kind: SERVICE, unit: "u"}) { userErrors { code } } }',
    'mutation { updateProduct(id: "UHJvZHVjdDox", input: {name: "x"}) { userErrors { code } } }',
    'mutation { deleteProduct(id: "UHJvZHVjdDox") { userErrors { code } } }',
    'mutation { createContract(input: {accountId: "QWNjb3VudDox", name: "x", currency: "GBP", '
    'startDate: "2026-01-01", endDate: "2027-01-01", billingFrequency: MONTHLY}) { userErrors { code } } }',
    'mutation { updateContract(id: "Q29udHJhY3Q6MQ==", input: {name: "x"}) { userErrors { code } } }',
    'mutation { cancelContract(id: "Q29udHJhY3Q6MQ==") { userErrors { code } } }',
    'mutation { renewContract(contractId: "Q29udHJhY3Q6MQ==", endDate: "2028-01-01") { userErrors { code } } }',
    'mutation { amendContract(contractId: "Q29udHJhY3Q6MQ==", expectedVersion: 1, effectiveDate: "2026-02-01", '
    'reason: "x", changes: {}) { userErrors { code } } }',
    'mutation { terminateContract(contractId: "Q29udHJhY3Q6MQ==", endDate: "2026-06-01", reason: "x") '
    '{ userErrors { code } } }',
    'mutation { deleteContract(id: "Q29udHJhY3Q6MQ==") { userErrors { code } } }',
    'mutation { createPrice(contractId: "Q29udHJhY3Q6MQ==", input: {usageClassId: "UHJvZHVjdDox", '
    'model: PER_UNIT}) { userErrors { code } } }',
    'mutation { updatePrice(id: "UHJpY2U6MQ==", input: {usageClassId: "UHJvZHVjdDox", model: PER_UNIT}) '
    '{ userErrors { code } } }',
    'mutation { deletePrice(id: "UHJpY2U6MQ==") { userErrors { code } } }',
    'mutation { createServiceLine(contractId: "Q29udHJhY3Q6MQ==", input: {productId: "UHJvZHVjdDox", '
    'quantity: "1"}) { userErrors { code } } }',
    'mutation { updateServiceLine(id: "U2VydmljZUxpbmU6MQ==", input: {productId: "UHJvZHVjdDox", '
    'quantity: "1"}) { userErrors { code } } }',
    'mutation { deleteServiceLine(id: "U2VydmljZUxpbmU6MQ==") { userErrors { code } } }',
    'mutation { createCommitment(contractId: "Q29udHJhY3Q6MQ==", input: {name: "x", type: SPEND, '
    'frequency: MONTHLY, rampSteps: []}) { userErrors { code } } }',
    'mutation { updateCommitment(id: "Q29tbWl0bWVudDox", input: {name: "x", type: SPEND, '
    'frequency: MONTHLY, rampSteps: []}) { userErrors { code } } }',
    'mutation { deleteCommitment(id: "Q29tbWl0bWVudDox") { userErrors { code } } }',
    'mutation { createBalance(input: {accountId: "QWNjb3VudDox", name: "x", currency: "GBP", amount: "1", '
    'startDate: "2026-01-01", endDate: "2027-01-01"}) { userErrors { code } } }',
    'mutation { recordUsage(events: []) { accepted } }',
    'mutation { postCharge(input: {contractId: "Q29udHJhY3Q6MQ==", productId: "UHJvZHVjdDox", amount: "1", '
    'serviceDate: "2026-01-01", idempotencyKey: "k"}) { userErrors { code } } }',
    'mutation { activateContract(id: "Q29udHJhY3Q6MQ==") { userErrors { code } } }',
    'mutation { correctContract(contractId: "Q29udHJhY3Q6MQ==") { userErrors { code } } }',
    'mutation { closePeriod(contractId: "Q29udHJhY3Q6MQ==") { userErrors { code } } }',
    'mutation { closeDuePeriods(asOf: "2026-02-01") { closed } }',
    'mutation { topUpBalance(balanceId: "QmFsYW5jZTox", amount: "1") { userErrors { code } } }',
    'mutation { creditBack(ledgerEntryId: "TGVkZ2VyRW50cnk6MQ==", amount: "1") { userErrors { code } } }',
    'mutation { issueCreditNote(invoiceId: "SW52b2ljZTox", lines: [{invoiceLineId: "SW52b2ljZUxpbmU6MQ==", '
    'amount: "1"}], reason: "x") { userErrors { code } } }',
]


def test_root_field_list_covers_schema() -> None:
    from app.api.schema import schema

    gql_schema = schema._schema
    names = set(gql_schema.query_type.fields) | set(gql_schema.mutation_type.fields)
    covered = {q.split("{", 2)[1].split("(")[0].strip().split(" ")[0] for q in ROOT_FIELDS}
    assert covered == names


@pytest.mark.parametrize("query", ROOT_FIELDS, ids=lambda q: q.split("{", 2)[1].split("(")[0].strip().split(" ")[0])
async def test_unauthenticated_root_fields(db: str, query: str) -> None:
    org = await new_org()
    before = await gql(org, EVERYTHING)
    result = await gql_raw(None, query)
    assert result.errors, query
    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]
    # non-null roots null the whole data; a nullable root (node) is null itself
    assert result.data is None or all(v is None for v in result.data.values())
    assert await gql(org, EVERYTHING) == before


async def test_introspection_without_org(db: str) -> None:
    assert await gql(None, "{ __typename }") == {"__typename": "Query"}
    data = await gql(None, "{ __schema { queryType { name } mutationType { name } } }")
    assert data["__schema"] == {"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}}
