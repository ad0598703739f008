"""Reading invoices: lines and totals as the close wrote them, pagination, tenancy, and a flat
number of SQL statements for the whole nested money graph of a contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.api import ids
from app.billing.terms import DrawdownOrder, PaymentTiming
from app.db.models import Balance, Commitment
from app.services.closing import close_period
from app.services.organizations import create_organization
from tests.api.helpers import count_queries, gql, gql_raw, unpage
from tests.services.lifecycle import Setup, active_contract, spend, use

CHARGE_TYPES = {"USAGE", "RECURRING", "STANDING", "MINIMUM_SPEND", "ONE_TIME", "OVERAGE"}
LINES = """lines { nodes { type product quantity unitAmount amount description servicePeriodStart servicePeriodEnd
                   windowNumber chargeKey commitment { name } pool { key } } }"""
INVOICES = """query($c: ID!, $first: Int, $after: String) { invoices(contractId: $c, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id number currency periodStart periodEnd chargesSubtotal drawdownTotal total
          contract { name } billingPeriod { number startDate endDate partial } %s } } }""" % LINES


async def org(name: str) -> int:
    return (await create_organization(name, "GBP"))[0].id


async def prepaid_with_balance() -> Setup:
    s = await active_contract(await org("Invoices"), spend("Prepaid", PaymentTiming.PREPAID, "2000"),
                              drawdown=DrawdownOrder.BALANCE_FIRST, balance="500", mb_price="0.125")
    await use(s, s.mb, "6400", date(2026, 1, 12))  # 6,400 MB × £0.125 = £800
    await use(s, s.gb, "100", date(2026, 2, 1))   # 100 GB × £0.02 = £2
    await close_period(s.org_id, s.contract_id)
    await close_period(s.org_id, s.contract_id)
    return s


async def test_invoice_lines_and_totals_as_closed(db: str) -> None:
    s = await prepaid_with_balance()
    data = unpage((await gql(s.org_id, INVOICES, {"c": ids.encode("Contract", s.contract_id)}))["invoices"])
    assert data["totalCount"] == 2
    jan, feb = data["nodes"]
    assert (jan["number"], jan["currency"], jan["periodStart"], jan["periodEnd"]) == (
        f"INV-{s.contract_id}-001", "GBP", "2026-01-01", "2026-02-01")
    assert jan["contract"] == {"name": "Lifecycle"}
    assert jan["billingPeriod"] == {"number": 1, "startDate": "2026-01-01", "endDate": "2026-02-01", "partial": False}
    balance_key = f"balance:{await _balance_id(s)}"
    prepaid_key = f"prepaid:{await _commitment_id(s, 'Prepaid')}:0"
    assert [(l["type"], l["amount"], l["pool"], l["commitment"]) for l in jan["lines"]] == [
        ("USAGE", "800.00", None, None),
        ("COMMITMENT_FEE", "2000.00", None, {"name": "Prepaid"}),
        ("DRAWDOWN", "-500.00", {"key": balance_key}, None),
        ("DRAWDOWN", "-300.00", {"key": prepaid_key}, {"name": "Prepaid"}),
    ]
    usage = jan["lines"][0]
    assert (usage["product"], usage["quantity"], usage["unitAmount"], usage["chargeKey"]) == (
        "sms-mo-mb", "6400", "0.125", "usage:sms-mo-mb")
    assert (usage["servicePeriodStart"], usage["servicePeriodEnd"]) == ("2026-01-01", "2026-02-01")
    assert [l["windowNumber"] for l in jan["lines"]] == [None, None, None, 1]
    assert (jan["chargesSubtotal"], jan["drawdownTotal"], jan["total"]) == ("800.00", "-800.00", "2000.00")
    for invoice in (jan, feb):
        assert D(invoice["total"]) == sum(D(l["amount"]) for l in invoice["lines"])
        drawn = sum(D(l["amount"]) for l in invoice["lines"] if l["type"] == "DRAWDOWN")
        assert D(invoice["drawdownTotal"]) == drawn
        charges = sum(D(l["amount"]) for l in invoice["lines"] if l["type"] in CHARGE_TYPES)
        assert D(invoice["chargesSubtotal"]) == charges
    assert [(l["type"], l["amount"]) for l in feb["lines"]] == [
        ("USAGE", "2.00"), ("COMMITMENT_FEE", "2000.00"), ("DRAWDOWN", "-2.00")]
    assert feb["total"] == "2000.00"


async def _balance_id(s: Setup) -> int:
    return (await Balance.get(organization_id=s.org_id)).id


async def _commitment_id(s: Setup, name: str) -> int:
    return (await Commitment.get(organization_id=s.org_id, name=name)).id


async def test_pages_the_contract_field_and_the_node(db: str) -> None:
    s = await prepaid_with_balance()
    contract_id = ids.encode("Contract", s.contract_id)
    first = (await gql(s.org_id, INVOICES, {"c": contract_id, "first": 1}))["invoices"]
    assert [n["periodStart"] for n in first["nodes"]] == ["2026-01-01"] and first["pageInfo"]["hasNextPage"]
    rest = (await gql(s.org_id, INVOICES, {"c": contract_id, "after": first["pageInfo"]["endCursor"]}))["invoices"]
    assert [n["periodStart"] for n in rest["nodes"]] == ["2026-02-01"] and not rest["pageInfo"]["hasNextPage"]

    on_contract = await gql(s.org_id, """query($c: ID!) { node(id: $c) { ... on Contract {
        invoices(first: 5) { totalCount nodes { id total } } } } }""", {"c": contract_id})
    nodes = on_contract["node"]["invoices"]["nodes"]
    assert on_contract["node"]["invoices"]["totalCount"] == 2
    by_node = await gql(s.org_id, """query($i: ID!) { node(id: $i) { ... on Invoice { number total lines { nodes { type } } } } }""",
                        {"i": nodes[0]["id"]})
    assert by_node["node"]["number"] == f"INV-{s.contract_id}-001"

    too_many = await gql_raw(s.org_id, INVOICES, {"c": contract_id, "first": 101})
    assert too_many.errors and too_many.errors[0].extensions["code"] == "INVALID_INPUT"
    wrong = await gql_raw(s.org_id, INVOICES, {"c": ids.encode("Account", s.account_id)})
    assert wrong.errors and wrong.errors[0].extensions["code"] == "INVALID_ID"


async def test_another_organization_sees_no_invoice(db: str) -> None:
    s = await prepaid_with_balance()
    contract_id = ids.encode("Contract", s.contract_id)
    invoice_id = (await gql(s.org_id, INVOICES, {"c": contract_id}))["invoices"]["nodes"][0]["id"]
    intruder = await org("Intruder")
    assert (await gql(intruder, INVOICES, {"c": contract_id}))["invoices"]["nodes"] == []
    assert (await gql(intruder, "query($i: ID!) { node(id: $i) { id } }", {"i": invoice_id}))["node"] is None


NESTED = """query($c: ID!) { node(id: $c) { ... on Contract {
  invoices(first: 100) { nodes { total lines { nodes { amount pool { key } commitment { name } } } } }
  commitments { nodes { name windows { nodes { number measured consumed } } pools { nodes { key entries { nodes { runningBalance } } } } } }
} } }"""


async def run_counted(months: int) -> tuple[int, list[str]]:
    s = await active_contract(await org(f"Count {months}"), spend("Minimum", PaymentTiming.POSTPAID, "1000"),
                              spend("Prepaid", PaymentTiming.PREPAID, "300", priority=1),
                              balance="100", usage_commitments=True, sims=2)
    for month in range(1, months + 1):
        await use(s, s.mb, "450", date(2026, month, 4))
        await use(s, s.gb, "900", date(2026, month, 5))
        await close_period(s.org_id, s.contract_id)
    await use(s, s.mb, "10", date(2026, months + 1, 2))
    with count_queries() as statements:
        data = unpage((await gql(s.org_id, NESTED, {"c": ids.encode("Contract", s.contract_id)}))["node"])
    invoices = data["invoices"]
    assert len(invoices) == months
    assert all(any(l["pool"] for l in i["lines"]) and any(l["commitment"] for l in i["lines"]) for i in invoices)
    windows = {c["name"]: c["windows"] for c in data["commitments"]}
    assert [len(w) for w in windows.values()] == [12, 12, 12, 12]
    assert windows["Minimum"][months]["measured"] == "20.00"  # the open month, live: 10 MB + two SIMs at £5
    assert windows["Minimum"][0]["consumed"] == "478.00"  # 450 MB + 900 GB × £0.02 + two SIMs at £5
    return len(statements), statements


async def test_nested_money_query_count_does_not_grow_with_closed_periods(db: str) -> None:
    small, small_sql = await run_counted(2)
    large, large_sql = await run_counted(6)
    assert small == large, (small_sql, large_sql)
    assert small <= 60, small_sql  # `consumed` counts the open period's preview: one batch of ~20 statements
