"""A contract's whole nested graph round-trips exactly; contracts and products list and paginate."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import gql, gql_raw, new_org, unpage

CREATE_PRODUCT = """mutation($input: ProductInput!) {
  createProduct(input: $input) { product { id code kind unit } userErrors { code field message } }
}"""

CREATE_ACCOUNT = """mutation($input: AccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code field } }
}"""

CREATE_CONTRACT = """mutation($input: CreateContractInput!) {
  createContract(input: $input) { contract { id status } userErrors { code field message } }
}"""

CREATE_BALANCE = """mutation($input: CreateBalanceInput!) {
  createBalance(input: $input) { balance { id } userErrors { code field message } }
}"""

GRAPH = """query($id: ID!) { node(id: $id) { ... on Contract {
  id name currency startDate endDate billingFrequency standingCharge minimumSpend status
  account { id name balances { nodes { name currency amount startDate endDate priority eligibleChargeTypes
                               eligibleProducts { id } } } }
  prices { nodes { model unitAmount usageClass { id code } tiers { upTo unitAmount flatAmount } } }
  serviceLines { nodes { quantity unitPrice packageFrequency startDate endDate externalId
                 product { id code } package { id code } } }
  commitments {
    nodes { name type startDate endDate frequency packageFrequency payment amountPrepaid amountFirstBill
    feeBilling eligibleChargeTypes overageSurchargePercent separateOverage rolloverFraction rolloverCap
    prorate trueUp priority
    usageClass { id } service { id } package { id }
    rampSteps { fromWindow amount }
    penalties { kind amount rate basis mode tiers { upTo rate flat } }
    feeDates { date amount }
    eligibleProducts { id code }
    windows { nodes { number startDate endDate partial committed } } }
  }
} } }"""


async def product(org: int, code: str, kind: str, unit: str, items: list[dict[str, Any]] | None = None) -> str:
    inp: dict[str, Any] = {"code": code, "name": code.upper(), "kind": kind, "unit": unit}
    if items is not None:
        inp["packageItems"] = items
    data = await gql(org, CREATE_PRODUCT, {"input": inp})
    assert data["createProduct"]["userErrors"] == []
    return data["createProduct"]["product"]["id"]


async def catalog(org: int) -> dict[str, str]:
    sms = await product(org, "sms-mo-mb", "USAGE_CLASS", "MB")
    gb = await product(org, "data-gb", "USAGE_CLASS", "GB")
    sim = await product(org, "sim-a", "SERVICE", "SIM")
    pkg = await product(org, "package-a", "PACKAGE", "PKG", [{"serviceId": sim, "quantity": "1"}])
    return {"sms": sms, "gb": gb, "sim": sim, "pkg": pkg}


async def account(org: int, name: str = "Acme") -> str:
    data = await gql(org, CREATE_ACCOUNT, {"input": {"name": name}})
    assert data["createAccount"]["userErrors"] == []
    return data["createAccount"]["account"]["id"]


def monthly(start: str, months: int) -> list[tuple[str, str]]:
    y, m = map(int, start.split("-")[:2])
    out = []
    for _ in range(months):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((f"{y:04d}-{m:02d}-01", f"{ny:04d}-{nm:02d}-01"))
        y, m = ny, nm
    return out


def full_contract(acc: str, p: dict[str, str]) -> dict[str, Any]:
    return {
        "accountId": acc, "name": "Big deal", "currency": "GBP",
        "startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY",
        "standingCharge": "250", "minimumSpend": "100.5",
        "prices": [
            {"usageClassId": p["sms"], "model": "PER_UNIT", "unitAmount": "0.0125"},
            {"usageClassId": p["gb"], "model": "GRADUATED", "tiers": [
                {"upTo": "100", "unitAmount": "2.5", "flatAmount": "10"},
                {"upTo": "1000", "unitAmount": "1.75", "flatAmount": "0"},
                {"upTo": None, "unitAmount": "1", "flatAmount": "5"},
            ]},
        ],
        "serviceLines": [
            {"productId": p["sim"], "quantity": "100", "unitPrice": "1.5", "startDate": "2026-01-01",
             "externalId": "SIM-0001"},
            {"productId": p["pkg"], "quantity": "2", "unitPrice": "30", "startDate": "2026-02-01",
             "endDate": "2026-12-01", "externalId": "PKG-1"},
            {"productId": p["sim"], "quantity": "5", "unitPrice": "0", "packageId": p["pkg"],
             "packageFrequency": "QUARTERLY", "startDate": "2026-04-01", "endDate": "2026-10-01",
             "externalId": "SIM-IN-PKG"},
        ],
        "commitments": [
            {"name": "Spend ramp", "type": "SPEND", "frequency": "MONTHLY", "payment": "POSTPAID", "trueUp": False,
             "rampSteps": [{"fromWindow": 1, "amount": "10000"}, {"fromWindow": 5, "amount": "20000"},
                           {"fromWindow": 9, "amount": "30000"}],
             "penalties": [{"kind": "CHARGE", "amount": "5000"}]},
            {"name": "Data", "type": "USAGE", "frequency": "MONTHLY", "usageClassId": p["gb"],
             "rampSteps": [{"fromWindow": 1, "amount": "1000"}, {"fromWindow": 4, "amount": "2000"},
                           {"fromWindow": 7, "amount": "3000"}],
             "penalties": [{"kind": "COUNT", "rate": "0.01"}]},
            {"name": "SIMs", "type": "SERVICE", "frequency": "QUARTERLY", "serviceId": p["sim"],
             "rampSteps": [{"fromWindow": 1, "amount": "50"}]},
            {"name": "SIMs in packages", "type": "PACKAGE_SERVICE", "frequency": "QUARTERLY",
             "serviceId": p["sim"], "packageId": p["pkg"], "packageFrequency": "QUARTERLY",
             "rampSteps": [{"fromWindow": 1, "amount": "5"}]},
            {"name": "Packages", "type": "PACKAGE", "frequency": "MONTHLY", "packageId": p["pkg"],
             "rampSteps": [{"fromWindow": 1, "amount": "2"}]},
            {"name": "Average MB", "type": "AVERAGE_USAGE", "frequency": "MONTHLY",
             "usageClassId": p["sms"], "serviceId": p["sim"],
             "rampSteps": [{"fromWindow": 1, "amount": "10"}],
             "penalties": [{"kind": "COUNT", "rate": "0.50"}]},
            {"name": "Prepaid", "type": "SPEND", "frequency": "ANNUAL", "payment": "PREPAID",
             "rampSteps": [{"fromWindow": 1, "amount": "12000"}],
             "amountPrepaid": "2000", "amountFirstBill": "1000", "feeBilling": "FEE_DATES",
             "feeDates": [{"date": "2026-04-01", "amount": "4500"}, {"date": "2026-07-01", "amount": "4500"}],
             "eligibleChargeTypes": ["USAGE", "RECURRING"], "eligibleProductIds": [p["gb"], p["sim"]],
             "overageSurchargePercent": "12.5", "rolloverFraction": "0.25", "rolloverCap": "500",
             "prorate": False, "priority": 3,
             "penalties": [{"kind": "TIERED", "basis": "PERCENT", "mode": "VOLUME", "tiers": [
                 {"upTo": "10", "rate": "0", "flat": "0"},
                 {"upTo": "50", "rate": "1.5", "flat": "100"},
                 {"upTo": None, "rate": "2", "flat": "250"},
             ]}]},
        ],
    }


ALL_TYPES = ["USAGE", "RECURRING", "STANDING", "MINIMUM_SPEND", "ONE_TIME"]


def commitment_defaults(**over: Any) -> dict[str, Any]:
    base = {"startDate": None, "endDate": None, "packageFrequency": None, "payment": None,
            "amountPrepaid": "0.00", "amountFirstBill": "0.00", "feeBilling": "BILLING_PLAN",
            "eligibleChargeTypes": ALL_TYPES, "overageSurchargePercent": "0", "separateOverage": False,
            "rolloverFraction": "0", "rolloverCap": None, "prorate": True, "trueUp": True, "priority": 0,
            "usageClass": None, "service": None, "package": None, "penalties": [], "feeDates": [],
            "eligibleProducts": []}
    base.update(over)
    return base


def penalty(kind: str, amount: str = "0", rate: str = "0", basis: str = "UNITS", mode: str = "GRADUATED",
            tiers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"kind": kind, "amount": amount, "rate": rate, "basis": basis, "mode": mode, "tiers": tiers or []}


def flat_windows(months: list[tuple[str, str]], committed: str) -> list[dict[str, Any]]:
    return [{"number": i + 1, "startDate": s, "endDate": e, "partial": False, "committed": committed}
            for i, (s, e) in enumerate(months)]


async def test_nested_contract_graph_round_trips_exactly(db: str) -> None:
    org = await new_org()
    p = await catalog(org)
    acc = await account(org)
    bal = await gql(org, CREATE_BALANCE, {"input": {
        "accountId": acc, "name": "Sign-up credit", "currency": "GBP", "amount": "150",
        "startDate": "2026-01-01", "endDate": "2026-07-01", "priority": 2,
        "eligibleChargeTypes": ["USAGE"], "eligibleProductIds": [p["gb"]]}})
    assert bal["createBalance"]["userErrors"] == []

    created = await gql(org, CREATE_CONTRACT, {"input": full_contract(acc, p)})
    assert created["createContract"]["userErrors"] == []
    cid = created["createContract"]["contract"]["id"]
    assert created["createContract"]["contract"]["status"] == "DRAFT"

    c = unpage((await gql(org, GRAPH, {"id": cid}))["node"])
    months = monthly("2026-01-01", 12)
    quarters = [("2026-01-01", "2026-04-01"), ("2026-04-01", "2026-07-01"),
                ("2026-07-01", "2026-10-01"), ("2026-10-01", "2027-01-01")]

    assert {k: c[k] for k in ("id", "name", "currency", "startDate", "endDate", "billingFrequency",
                              "standingCharge", "minimumSpend", "status")} == {
        "id": cid, "name": "Big deal", "currency": "GBP", "startDate": "2026-01-01", "endDate": "2027-01-01",
        "billingFrequency": "MONTHLY", "standingCharge": "250.00", "minimumSpend": "100.50", "status": "DRAFT"}

    assert c["account"] == {"id": acc, "name": "Acme", "balances": [{
        "name": "Sign-up credit", "currency": "GBP", "amount": "150.00", "startDate": "2026-01-01",
        "endDate": "2026-07-01", "priority": 2, "eligibleChargeTypes": ["USAGE"],
        "eligibleProducts": [{"id": p["gb"]}]}]}

    assert c["prices"] == [
        {"model": "PER_UNIT", "unitAmount": "0.0125", "usageClass": {"id": p["sms"], "code": "sms-mo-mb"},
         "tiers": []},
        {"model": "GRADUATED", "unitAmount": "0", "usageClass": {"id": p["gb"], "code": "data-gb"}, "tiers": [
            {"upTo": "100", "unitAmount": "2.5", "flatAmount": "10"},
            {"upTo": "1000", "unitAmount": "1.75", "flatAmount": "0"},
            {"upTo": None, "unitAmount": "1", "flatAmount": "5"},
        ]},
    ]

    assert c["serviceLines"] == [
        {"quantity": "100", "unitPrice": "1.5", "packageFrequency": None, "startDate": "2026-01-01",
         "endDate": None, "externalId": "SIM-0001", "product": {"id": p["sim"], "code": "sim-a"}, "package": None},
        {"quantity": "2", "unitPrice": "30", "packageFrequency": None, "startDate": "2026-02-01",
         "endDate": "2026-12-01", "externalId": "PKG-1", "product": {"id": p["pkg"], "code": "package-a"},
         "package": None},
        {"quantity": "5", "unitPrice": "0", "packageFrequency": "QUARTERLY", "startDate": "2026-04-01",
         "endDate": "2026-10-01", "externalId": "SIM-IN-PKG", "product": {"id": p["sim"], "code": "sim-a"},
         "package": {"id": p["pkg"], "code": "package-a"}},
    ]

    ramp_committed = ["10000"] * 4 + ["20000"] * 4 + ["30000"] * 4
    usage_committed = ["1000"] * 3 + ["2000"] * 3 + ["3000"] * 6
    expected = [
        commitment_defaults(
            name="Spend ramp", type="SPEND", frequency="MONTHLY", payment="POSTPAID", trueUp=False,
            rampSteps=[{"fromWindow": 1, "amount": "10000"}, {"fromWindow": 5, "amount": "20000"},
                       {"fromWindow": 9, "amount": "30000"}],
            penalties=[penalty("CHARGE", amount="5000")],
            windows=[{"number": i + 1, "startDate": s, "endDate": e, "partial": False, "committed": v}
                     for i, ((s, e), v) in enumerate(zip(months, ramp_committed, strict=True))]),
        commitment_defaults(
            name="Data", type="USAGE", frequency="MONTHLY", usageClass={"id": p["gb"]},
            rampSteps=[{"fromWindow": 1, "amount": "1000"}, {"fromWindow": 4, "amount": "2000"},
                       {"fromWindow": 7, "amount": "3000"}],
            penalties=[penalty("COUNT", rate="0.01")],
            windows=[{"number": i + 1, "startDate": s, "endDate": e, "partial": False, "committed": v}
                     for i, ((s, e), v) in enumerate(zip(months, usage_committed, strict=True))]),
        commitment_defaults(
            name="SIMs", type="SERVICE", frequency="QUARTERLY", service={"id": p["sim"]},
            rampSteps=[{"fromWindow": 1, "amount": "50"}], windows=flat_windows(quarters, "50")),
        commitment_defaults(
            name="SIMs in packages", type="PACKAGE_SERVICE", frequency="QUARTERLY", packageFrequency="QUARTERLY",
            service={"id": p["sim"]}, package={"id": p["pkg"]},
            rampSteps=[{"fromWindow": 1, "amount": "5"}], windows=flat_windows(quarters, "5")),
        commitment_defaults(
            name="Packages", type="PACKAGE", frequency="MONTHLY", package={"id": p["pkg"]},
            rampSteps=[{"fromWindow": 1, "amount": "2"}], windows=flat_windows(months, "2")),
        commitment_defaults(
            name="Average MB", type="AVERAGE_USAGE", frequency="MONTHLY", usageClass={"id": p["sms"]},
            service={"id": p["sim"]}, rampSteps=[{"fromWindow": 1, "amount": "10"}],
            penalties=[penalty("COUNT", rate="0.5")], windows=flat_windows(months, "10")),
        commitment_defaults(
            name="Prepaid", type="SPEND", frequency="ANNUAL", payment="PREPAID",
            rampSteps=[{"fromWindow": 1, "amount": "12000"}],
            amountPrepaid="2000.00", amountFirstBill="1000.00", feeBilling="FEE_DATES",
            feeDates=[{"date": "2026-04-01", "amount": "4500.00"}, {"date": "2026-07-01", "amount": "4500.00"}],
            eligibleChargeTypes=["USAGE", "RECURRING"],
            eligibleProducts=sorted([{"id": p["gb"], "code": "data-gb"}, {"id": p["sim"], "code": "sim-a"}],
                                    key=lambda x: x["code"]),
            overageSurchargePercent="12.5", rolloverFraction="0.25", rolloverCap="500",
            prorate=False, priority=3,
            penalties=[penalty("TIERED", basis="PERCENT", mode="VOLUME", tiers=[
                {"upTo": "10", "rate": "0", "flat": "0"},
                {"upTo": "50", "rate": "1.5", "flat": "100"},
                {"upTo": None, "rate": "2", "flat": "250"},
            ])],
            windows=[{"number": 1, "startDate": "2026-01-01", "endDate": "2027-01-01", "partial": False,
                      "committed": "12000"}]),
    ]
    got = c["commitments"]
    for com in got:
        com["eligibleProducts"] = sorted(com["eligibleProducts"], key=lambda x: x["code"])
    assert [g["name"] for g in got] == [e["name"] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g == e, e["name"]


LIST = """query($first: Int, $after: String, $acc: ID, $status: ContractStatus) {
  contracts(first: $first, after: $after, accountId: $acc, status: $status) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name account { id } status } }
  }
}"""


async def simple_contract(org: int, acc: str, name: str) -> str:
    data = await gql(org, CREATE_CONTRACT, {"input": {
        "accountId": acc, "name": name, "currency": "GBP", "startDate": "2026-01-01",
        "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}})
    assert data["createContract"]["userErrors"] == []
    return data["createContract"]["contract"]["id"]


async def test_contracts_pagination_and_filters(db: str) -> None:
    org = await new_org()
    a1, a2 = await account(org, "A1"), await account(org, "A2")
    ids: list[str] = []
    for i in range(25):
        ids.append(await simple_contract(org, a1 if i % 2 == 0 else a2, f"C{i:02d}"))
    cancelled = ids[3:6]
    for cid in cancelled:
        res = await gql(org, "mutation($id: ID!) { cancelContract(id: $id) { userErrors { code } } }", {"id": cid})
        assert res["cancelContract"]["userErrors"] == []

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await gql(org, LIST, {"first": 10, "after": after}))["contracts"]
        pages += 1
        assert page["totalCount"] == 25
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["id"] for e in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == ids

    default = (await gql(org, LIST, {}))["contracts"]
    assert [e["node"]["id"] for e in default["edges"]] == ids[:20]
    assert default["pageInfo"]["hasNextPage"] is True

    by_acc = (await gql(org, LIST, {"first": 100, "acc": a2}))["contracts"]
    assert by_acc["totalCount"] == 12
    assert [e["node"]["id"] for e in by_acc["edges"]] == ids[1::2]
    assert all(e["node"]["account"]["id"] == a2 for e in by_acc["edges"])

    by_status = (await gql(org, LIST, {"first": 100, "status": "CANCELLED"}))["contracts"]
    assert [e["node"]["id"] for e in by_status["edges"]] == cancelled
    drafts = (await gql(org, LIST, {"first": 100, "status": "DRAFT"}))["contracts"]
    assert drafts["totalCount"] == 22

    both = (await gql(org, LIST, {"first": 100, "acc": a1, "status": "CANCELLED"}))["contracts"]
    assert [e["node"]["id"] for e in both["edges"]] == [ids[4]]

    # a page of 2 after a filter continues inside the filter
    p1 = (await gql(org, LIST, {"first": 2, "acc": a1}))["contracts"]
    p2 = (await gql(org, LIST, {"first": 2, "acc": a1, "after": p1["pageInfo"]["endCursor"]}))["contracts"]
    assert [e["node"]["id"] for e in p1["edges"] + p2["edges"]] == ids[0:8:2]

    exact = (await gql(org, LIST, {"first": 100}))["contracts"]
    assert len(exact["edges"]) == 25 and exact["pageInfo"]["hasNextPage"] is False

    for bad in (101, -1):
        raw = await gql_raw(org, LIST, {"first": bad})
        assert raw.errors, bad
        assert raw.errors[0].extensions["code"] == "INVALID_INPUT"


async def test_list_products_by_kind(db: str) -> None:
    org = await new_org()
    p = await catalog(org)
    q = """query($kind: ProductKind) { products(first: 100, kind: $kind) {
      totalCount nodes { id code kind unit packageItems { quantity service { id } } } } }"""
    usage = (await gql(org, q, {"kind": "USAGE_CLASS"}))["products"]
    assert usage["totalCount"] == 2
    assert [(n["code"], n["unit"]) for n in usage["nodes"]] == [("sms-mo-mb", "MB"), ("data-gb", "GB")]
    services = (await gql(org, q, {"kind": "SERVICE"}))["products"]
    assert [n["id"] for n in services["nodes"]] == [p["sim"]]
    packages = (await gql(org, q, {"kind": "PACKAGE"}))["products"]
    assert packages["nodes"] == [{"id": p["pkg"], "code": "package-a", "kind": "PACKAGE", "unit": "PKG",
                                  "packageItems": [{"quantity": "1", "service": {"id": p["sim"]}}]}]
    everything = (await gql(org, q, {}))["products"]
    assert [n["id"] for n in everything["nodes"]] == [p["sms"], p["gb"], p["sim"], p["pkg"]]


async def test_pagination_edge_arguments(db: str) -> None:
    org = await new_org()
    acc = await account(org)
    cid = await simple_contract(org, acc, "Only")
    empty = (await gql(org, LIST, {"first": 0}))["contracts"]
    assert empty["edges"] == [] and empty["totalCount"] == 1 and empty["pageInfo"]["hasNextPage"] is True
    assert empty["pageInfo"]["endCursor"] is None
    last = (await gql(org, LIST, {"first": 1}))["contracts"]
    assert [e["node"]["id"] for e in last["edges"]] == [cid]
    after_last = (await gql(org, LIST, {"first": 5, "after": last["pageInfo"]["endCursor"]}))["contracts"]
    assert after_last["edges"] == [] and after_last["pageInfo"]["hasNextPage"] is False
    raw = await gql_raw(org, LIST, {"first": 5, "after": "garbage!"})
    assert raw.errors and raw.errors[0].extensions["code"] == "INVALID_INPUT"
    hundred = await gql(org, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [cid] * 100})
    assert hundred["nodes"] == [{"id": cid}] * 100


async def test_nodes_with_more_than_100_ids_is_an_error(db: str) -> None:
    org = await new_org()
    acc = await account(org)
    ids = [acc] * 101
    raw = await gql_raw(org, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert raw.errors, f"{len(raw.data['nodes'])} answers for {len(ids)} ids"
    assert raw.errors[0].extensions["code"] == "INVALID_INPUT"


async def test_money_fields_show_the_currency_minor_unit(db: str) -> None:
    org = await new_org()
    acc = await account(org)
    q = "query($id: ID!) { node(id: $id) { ... on Contract { currency standingCharge minimumSpend } } }"
    for currency, sent, shown in (("JPY", "250", "250"), ("BHD", "250.5", "250.500"), ("GBP", "0.125", "0.125"),
                                  ("EUR", "1000000", "1000000.00")):
        data = await gql(org, CREATE_CONTRACT, {"input": {
            "accountId": acc, "name": currency, "currency": currency, "startDate": "2026-01-01",
            "endDate": "2027-01-01", "billingFrequency": "MONTHLY", "standingCharge": sent, "minimumSpend": "0"}})
        assert data["createContract"]["userErrors"] == [], currency
        node = (await gql(org, q, {"id": data["createContract"]["contract"]["id"]}))["node"]
        zero = "0" if currency == "JPY" else "0." + "0" * (3 if currency == "BHD" else 2)
        assert node == {"currency": currency, "standingCharge": shown, "minimumSpend": zero}, currency
