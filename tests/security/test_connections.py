"""Every list that can grow is a connection (finding 1), and a bad `after` cursor is a clear
INVALID_INPUT error before any statement runs (finding 4: a cursor beyond 32 bits was masked)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest

from app.api import ids
from app.api.pagination import encode_cursor
from app.billing.terms import Frequency
from app.services import accounts, contracts
from app.services.closing import close_period
from app.services.specs import ContractSpec
from tests.api.helpers import count_queries, gql, gql_raw, new_org
from tests.services.lifecycle import active_contract, use


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def account_with_contracts(org: int, name: str, n: int, months: int = 12) -> int:
    account = await accounts.create_account(org, accounts.AccountSpec(name=name))
    for i in range(n):
        end = date(2026 + months // 12, 1 + months % 12, 1)
        await contracts.create_contract(org, ContractSpec(
            account_id=account.id, name=f"{name} {i}", currency="GBP", start_date=date(2026, 1, 1), end_date=end,
            billing_frequency=Frequency.MONTHLY))
    return account.id


BAD_CURSORS = [
    pytest.param("not a cursor!", id="not-base64"),
    pytest.param(b64("hello"), id="not-ours"),
    pytest.param(b64("Contract:5"), id="a-global-id"),
    pytest.param(b64("cursor:-1"), id="negative"),
    pytest.param(b64("cursor:2147483648"), id="beyond-32-bits"),
    pytest.param(b64("cursor:99999999999999999999999"), id="huge"),
    pytest.param(b64("cursor: 5"), id="space"),
    pytest.param(b64("cursor:+5"), id="plus"),
    pytest.param(b64("cursor:5_0"), id="underscore"),
    pytest.param(b64("cursor:05"), id="leading-zero"),
    pytest.param(b64("cursor:٥"), id="arabic-digit"),
    pytest.param("é" * 10, id="non-ascii"),
    pytest.param("A" * 1_000_000, id="one-megabyte"),
]

AFTER_FIELDS = {
    "root": "query($a: String) { contracts(after: $a) { nodes { id } } }",
    "nested": "query($a: String) { accounts { nodes { contracts(after: $a) { nodes { id } } } } }",
    "invoices": "query($a: String, $c: ID!) { invoices(contractId: $c, after: $a) { nodes { id } } }",
    "computed": "query($a: String) { contracts { nodes { billingPeriods(after: $a) { nodes { number } } } } }",
}


@pytest.mark.parametrize("field", list(AFTER_FIELDS))
@pytest.mark.parametrize("cursor", BAD_CURSORS)
async def test_a_bad_after_cursor_is_invalid_input(db: str, field: str, cursor: str) -> None:
    org = await new_org()
    await account_with_contracts(org, "Acme", 1)
    result = await gql_raw(org, AFTER_FIELDS[field], {"a": cursor, "c": ids.encode("Contract", 1)})
    assert result.errors, result
    [error] = result.errors
    assert (error.extensions["code"], error.extensions["field"]) == ("INVALID_INPUT", "after"), error
    assert "cursor" in error.message and "Unexpected" not in error.message
    assert len(error.message) < 200  # the cursor is not echoed


async def test_the_largest_id_is_a_valid_cursor_and_no_statement_runs_for_a_bad_one(db: str) -> None:
    org = await new_org()
    await account_with_contracts(org, "Acme", 2)
    page = await gql(org, "query($a: String) { contracts(after: $a) { nodes { id } pageInfo { hasPreviousPage } } }",
                     {"a": encode_cursor(2**31 - 1)})
    assert page == {"contracts": {"nodes": [], "pageInfo": {"hasPreviousPage": True}}}
    with count_queries() as statements:
        await gql_raw(org, "query($a: String) { contracts(after: $a) { nodes { id } } }", {"a": b64("cursor:2147483648")})
    assert statements == []


@pytest.mark.parametrize("first", [-1, 101])
async def test_first_outside_0_to_100_is_invalid_input(db: str, first: int) -> None:
    org = await new_org()
    await account_with_contracts(org, "Acme", 1)
    result = await gql_raw(org, "query($f: Int) { accounts { nodes { contracts(first: $f) { nodes { id } } } } }",
                           {"f": first})
    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("INVALID_INPUT", "first")]


async def test_a_cursor_of_the_wrong_type_is_a_clear_error(db: str) -> None:
    org = await new_org()
    inline = await gql_raw(org, "{ contracts(after: 5) { nodes { id } } }")
    assert inline.errors[0].extensions["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
    variable = await gql_raw(org, "query($a: String) { contracts(after: $a) { nodes { id } } }", {"a": 5})
    assert variable.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "Unexpected" not in variable.errors[0].message


async def test_nested_pages_follow_their_cursors_per_parent(db: str) -> None:
    org = await new_org()
    await account_with_contracts(org, "Big", 5)
    await account_with_contracts(org, "Small", 1)
    query = """query($a: String) { accounts { nodes { name contracts(first: 2, after: $a) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { name } } } } }"""
    first = (await gql(org, query))["accounts"]["nodes"]
    assert [[c["name"] for c in a["contracts"]["nodes"]] for a in first] == [["Big 0", "Big 1"], ["Small 0"]]
    assert [a["contracts"]["totalCount"] for a in first] == [5, 1]
    assert [a["contracts"]["pageInfo"]["hasNextPage"] for a in first] == [True, False]
    names, cursor = ["Big 0", "Big 1"], first[0]["contracts"]["pageInfo"]["endCursor"]
    while cursor:
        big = (await gql(org, query, {"a": cursor}))["accounts"]["nodes"][0]["contracts"]
        assert big["pageInfo"]["hasPreviousPage"]
        names += [c["name"] for c in big["nodes"]]
        cursor = big["pageInfo"]["endCursor"] if big["pageInfo"]["hasNextPage"] else None
    assert names == [f"Big {i}" for i in range(5)]


async def statements_for(accounts_count: int, with_total: bool) -> int:
    org = await new_org(f"Count {accounts_count}")
    for i in range(accounts_count):
        await account_with_contracts(org, f"A{i}", 3)
    total = "totalCount" if with_total else ""
    with count_queries() as statements:
        data = await gql(org, f"{{ accounts(first: 50) {{ nodes {{ contracts(first: 2) {{ {total} nodes {{ "
                              f"invoices(first: 1) {{ nodes {{ id }} }} }} }} }} }} }}")
    assert all(len(a["contracts"]["nodes"]) == 2 for a in data["accounts"]["nodes"])
    return len(statements)


async def test_a_nested_connection_is_one_statement_for_all_parents(db: str) -> None:
    small, large = await statements_for(2, False), await statements_for(8, False)
    assert small == large
    assert await statements_for(8, True) == large + 1  # totalCount: one GROUP BY, only when asked


async def test_computed_lists_are_paged_by_number(db: str) -> None:
    org = await new_org()
    await account_with_contracts(org, "Long", 1, months=30)
    query = """query($a: String) { contracts { nodes { billingPeriods(after: $a) {
      totalCount pageInfo { hasNextPage endCursor } nodes { number } } } } }"""
    first = (await gql(org, query))["contracts"]["nodes"][0]["billingPeriods"]
    assert [p["number"] for p in first["nodes"]] == list(range(1, 21))
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (30, True)
    rest = (await gql(org, query, {"a": first["pageInfo"]["endCursor"]}))["contracts"]["nodes"][0]["billingPeriods"]
    assert [p["number"] for p in rest["nodes"]] == list(range(21, 31))
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_ledger_entries_page_with_exact_running_balances(db: str) -> None:
    org = await new_org()
    s = await active_contract(org, balance="1000")
    for month in range(1, 7):
        await use(s, s.mb, "12.345678901234", date(2026, month, 3))
        await close_period(org, s.contract_id)
    query = """query($id: ID!, $n: Int, $a: String) { node(id: $id) { ... on Account {
      balances { nodes { pool { entries(first: $n, after: $a) {
        pageInfo { hasNextPage endCursor } nodes { id kind amount runningBalance } } } } } } } }"""

    async def entries(n: int, after: str | None = None) -> dict[str, Any]:
        data = await gql(org, query, {"id": ids.encode("Account", s.account_id), "n": n, "a": after})
        return dict(data["node"]["balances"]["nodes"][0]["pool"]["entries"])

    everything = (await entries(100))["nodes"]
    assert [e["kind"] for e in everything] == ["ISSUE"] + ["CONSUME"] * 6
    assert everything[-1]["runningBalance"] == "925.90"  # 1000 − 6 × 12.35 (rounded per invoice)
    paged, cursor = [], None
    while True:
        page = await entries(3, cursor)
        paged += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert paged == everything
