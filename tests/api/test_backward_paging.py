"""Every connection pages backward too (Relay: last/before), through the one mechanism: root lists,
nested lists loaded for many parents at once, lists computed in memory, newest-first invoices and
the usage events in timestamp order. Paging back from the end covers the same items as paging
forward, and pageInfo says where the page stands."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.api import ids
from app.services import accounts
from app.services.closing import close_period
from tests.api.helpers import gql, gql_raw, new_org
from tests.services.lifecycle import Setup, active_contract, use

PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { %s } }"


async def _walk(org_id: int, template: str, key: str, variables: dict[str, Any], *, backward: bool,
                size: int = 3) -> tuple[list[Any], list[dict[str, bool]]]:
    """Every item of a connection by pages of ``size``: forward from the start (first/after) or
    backward from the end (last/before, each page prepended); and each page's two flags."""
    items: list[Any] = []
    flags: list[dict[str, bool]] = []
    cursor = None
    while True:
        args = f"last: {size}, before: $cursor" if backward else f"first: {size}, after: $cursor"
        data = await gql(org_id, template.replace("ARGS", args), {**variables, "cursor": cursor})
        conn = data
        for part in key.split("."):
            conn = conn[part]
        nodes = [e["node"] for e in conn["edges"]]
        info = conn["pageInfo"]
        flags.append({"next": info["hasNextPage"], "previous": info["hasPreviousPage"]})
        if nodes:
            assert info["startCursor"] == conn["edges"][0]["cursor"] and info["endCursor"] == conn["edges"][-1]["cursor"]
        items = nodes + items if backward else items + nodes
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if not more:
            return items, flags
        cursor = info["startCursor"] if backward else info["endCursor"]


async def _both_ways(org_id: int, template: str, key: str, variables: dict[str, Any] | None = None) -> list[Any]:
    forward, forward_flags = await _walk(org_id, template, key, variables or {}, backward=False)
    backward, backward_flags = await _walk(org_id, template, key, variables or {}, backward=True)
    assert backward == forward
    pages = len(forward_flags)
    assert forward_flags == [{"next": i < pages - 1, "previous": i > 0} for i in range(pages)]
    assert backward_flags == [{"next": i > 0, "previous": i < pages - 1} for i in range(pages)]
    return forward


async def test_a_root_list_pages_backward_over_the_same_items(db: str) -> None:
    org_id = await new_org()
    for i in range(8):
        await accounts.create_account(org_id, accounts.AccountSpec(name=f"A{i}"))
    items = await _both_ways(org_id, "query($cursor: String) { accounts(ARGS) { %s } }" % (PAGE % "name"), "accounts")
    assert [n["name"] for n in items] == [f"A{i}" for i in range(8)]


async def _closed(periods: int) -> Setup:
    s = await active_contract(await new_org())
    for _ in range(periods):
        await close_period(s.org_id, s.contract_id)
    return s


async def test_nested_computed_and_newest_first_lists_page_backward(db: str) -> None:
    s = await _closed(4)
    contract = {"c": ids.encode("Contract", s.contract_id)}
    nested = "query($c: ID!, $cursor: String) { node(id: $c) { ... on Contract { invoices(ARGS) { %s } } } }"
    invoices = await _both_ways(s.org_id, nested % (PAGE % "periodStart"), "node.invoices", contract)
    assert [n["periodStart"] for n in invoices] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    computed = "query($c: ID!, $cursor: String) { node(id: $c) { ... on Contract { billingPeriods(ARGS) { %s } } } }"
    periods = await _both_ways(s.org_id, computed % (PAGE % "number"), "node.billingPeriods", contract)
    assert [n["number"] for n in periods] == list(range(1, 13))
    newest = "query($cursor: String) { invoices(orderBy: NEWEST_FIRST, ARGS) { %s } }"
    newest_first = await _both_ways(s.org_id, newest % (PAGE % "periodStart"), "invoices")
    assert [n["periodStart"] for n in newest_first] == ["2026-04-01", "2026-03-01", "2026-02-01", "2026-01-01"]


async def test_usage_events_page_both_ways_in_timestamp_then_id_order(db: str) -> None:
    s = await active_contract(await new_org())
    for day in (5, 3, 3, 9, 1, 3, 7):  # three events share a timestamp: id order between them
        await use(s, s.mb, str(day), date(2026, 1, day))
    template = "query($cursor: String) { usageEvents(ARGS) { %s } }" % (PAGE % "id quantity timestamp")
    items = await _both_ways(s.org_id, template, "usageEvents")
    keys = [(n["timestamp"], ids.parse(n["id"])[1]) for n in items]  # type: ignore[index]
    assert keys == sorted(keys)
    assert [n["quantity"] for n in items] == ["1", "3", "3", "3", "5", "7", "9"]


async def test_after_and_before_together_bound_the_page(db: str) -> None:
    org_id = await new_org()
    made = [await accounts.create_account(org_id, accounts.AccountSpec(name=f"A{i}")) for i in range(6)]
    cursor = {r.name: _cursor(r.id) for r in made}
    query = "query($a: String, $b: String, $f: Int, $l: Int) { accounts(after: $a, before: $b, first: $f, last: $l) { %s } }"
    page = (await gql(org_id, query % (PAGE % "name"), {"a": cursor["A0"], "b": cursor["A5"], "l": 2}))["accounts"]
    assert [e["node"]["name"] for e in page["edges"]] == ["A3", "A4"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (True, True)
    page = (await gql(org_id, query % (PAGE % "name"), {"a": cursor["A0"], "b": cursor["A3"], "f": 5}))["accounts"]
    assert [e["node"]["name"] for e in page["edges"]] == ["A1", "A2"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (True, True)


def _cursor(key: int) -> str:
    from app.api.pagination import encode_cursor

    return encode_cursor(key)


async def test_backward_paging_arguments_are_checked(db: str) -> None:
    org_id = await new_org()
    cases = [
        ("{ accounts(first: 2, last: 2) { totalCount } }", "last"),
        ("{ accounts(last: 101) { totalCount } }", "last"),
        ("{ accounts(last: -1) { totalCount } }", "last"),
        ('{ accounts(last: 2, before: "bm9wZQ==") { totalCount } }', "before"),
        ('{ usageEvents(last: 2, before: "%s") { totalCount } }' % _cursor(2**31 - 1), "before"),
    ]
    for query, field in cases:
        result = await gql_raw(org_id, query)
        assert result.errors, query
        assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": field} or (
            (result.errors[0].extensions or {}).get("code"), (result.errors[0].extensions or {}).get("field")) == (
            "INVALID_INPUT", field), (query, result.errors)


async def test_last_counts_in_the_query_cost_like_first(db: str) -> None:
    org_id = await new_org()
    deep = "{ accounts(%s: 100) { nodes { contracts(%s: 100) { nodes { prices(%s: 100) { nodes { id } } } } } } }"
    forward = await gql_raw(org_id, deep % ("first", "first", "first"))
    backward = await gql_raw(org_id, deep % ("last", "last", "last"))
    assert forward.errors and backward.errors
    assert [e.extensions["code"] for e in backward.errors] == [e.extensions["code"] for e in forward.errors] == [
        "QUERY_TOO_COSTLY"]
