"""Reading credit pools and their ledger: running balances end at the cached balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from app.api import ids
from app.billing.terms import DrawdownOrder, Frequency, PaymentTiming
from app.db.models import CreditPool, LedgerEntry
from app.services import accounts, contracts
from app.services.closing import close_period
from app.services.organizations import create_organization
from app.services.specs import ContractSpec
from tests.api.helpers import gql, unpage
from tests.services.lifecycle import YEAR, active_contract, catalog, spend, use

ENTRIES = "entries { nodes { id kind amount date chargeKey runningBalance invoice { number } } }"
QUERY = """query($id: ID!) { node(id: $id) { ... on Contract {
  commitments { nodes { name payment pools { nodes { id key kind currency validFrom validTo windowNumber rolledOver balance
                                     eligibleChargeTypes eligibleProducts commitment { name } account { name } %s } } } }
  account { balances { nodes { amount remaining pool { key kind balance %s } } } }
} } }""" % (ENTRIES, ENTRIES)


async def org(name: str) -> int:
    return (await create_organization(name, "GBP"))[0].id


def assert_folds(pool: dict[str, Any]) -> None:
    """Each running balance is the sum of the entries so far; the last is the pool's cached balance."""
    total = D(0)
    for entry in pool["entries"]:
        total += D(entry["amount"])
        assert D(entry["runningBalance"]) == total
    assert pool["entries"][-1]["runningBalance"] == pool["balance"]


async def test_balance_first_drawdown_shows_on_both_ledgers(db: str) -> None:
    """SPEC §11 example 6: a £500 balance and a £2,000 prepaid pool, BALANCE_FIRST, £800 of usage."""
    s = await active_contract(await org("Ledger"), spend("Prepaid", PaymentTiming.PREPAID, "2000"),
                              drawdown=DrawdownOrder.BALANCE_FIRST, balance="500")
    await use(s, s.mb, "800", date(2026, 1, 12))
    await close_period(s.org_id, s.contract_id)
    data = unpage((await gql(s.org_id, QUERY, {"id": ids.encode("Contract", s.contract_id)}))["node"])

    [balance] = data["account"]["balances"]
    assert (balance["amount"], balance["remaining"]) == ("500.00", "0.00")
    assert [(e["kind"], e["amount"], e["runningBalance"]) for e in balance["pool"]["entries"]] == [
        ("ISSUE", "500.00", "500.00"), ("CONSUME", "-500.00", "0.00")]
    assert balance["pool"]["entries"][1]["invoice"] == {"number": f"INV-{s.contract_id}-001"}
    assert balance["pool"]["entries"][0]["invoice"] is None
    assert_folds(balance["pool"])

    [commitment] = data["commitments"]
    pools = commitment["pools"]
    assert [p["windowNumber"] for p in pools] == list(range(1, 13))
    january = pools[0]
    assert (january["kind"], january["balance"], january["rolledOver"], january["currency"]) == ("PREPAID", "0.00", False, "GBP")
    assert (january["validFrom"], january["validTo"]) == ("2026-01-01", "2026-02-01")
    assert (january["commitment"], january["account"]) == ({"name": "Prepaid"}, {"name": "Acme"})
    assert [(e["kind"], e["amount"], e["runningBalance"]) for e in january["entries"]] == [
        ("ISSUE", "2000.00", "2000.00"), ("CONSUME", "-300.00", "1700.00"), ("EXPIRE", "-1700.00", "0.00")]
    assert january["entries"][1]["chargeKey"] == "usage:sms-mo-mb"
    for pool in [*pools, balance["pool"]]:
        assert_folds(pool)
    assert [(e["kind"], e["runningBalance"]) for e in pools[1]["entries"]] == [("ISSUE", "2000.00")]


async def test_cached_balance_equals_the_sum_of_entries_for_every_pool(db: str) -> None:
    """Postpaid tracking and prepaid pools over three closes: the column is the fold of the ledger."""
    s = await active_contract(await org("Fold"), spend("Minimum", PaymentTiming.POSTPAID, "1000"),
                              spend("Prepaid", PaymentTiming.PREPAID, "250", priority=1), balance="120")
    for month, quantity in ((1, "700"), (2, "1400"), (3, "90")):
        await use(s, s.mb, quantity, date(2026, month, 3))
        await close_period(s.org_id, s.contract_id)
    data = unpage((await gql(s.org_id, QUERY, {"id": ids.encode("Contract", s.contract_id)}))["node"])
    pools = [p for c in data["commitments"] for p in c["pools"]] + [data["account"]["balances"][0]["pool"]]
    assert {p["kind"] for p in pools} == {"TRACKING", "PREPAID", "BALANCE"}
    for pool in pools:
        assert_folds(pool)
    for row in await CreditPool.filter(organization_id=s.org_id):
        entries = await LedgerEntry.filter(pool_id=row.id)
        assert row.balance == sum((e.amount for e in entries), D(0))
    tracking = next(c for c in data["commitments"] if c["name"] == "Minimum")["pools"]
    assert [(e["kind"], e["amount"]) for e in tracking[0]["entries"]] == [
        ("ISSUE", "1000.00"), ("CONSUME", "-700.00"), ("EXPIRE", "-300.00")]
    assert [(e["kind"], e["amount"]) for e in tracking[1]["entries"]] == [("ISSUE", "1000.00"), ("CONSUME", "-1000.00")]


async def test_pools_and_entries_as_nodes_and_hidden_from_another_organization(db: str) -> None:
    s = await active_contract(await org("Owner"), spend("Minimum", PaymentTiming.POSTPAID, "1000"))
    await use(s, s.mb, "400", date(2026, 1, 2))
    await close_period(s.org_id, s.contract_id)
    pool = await CreditPool.get(organization_id=s.org_id, key__startswith="tracking:", window_number=1)
    consume = await LedgerEntry.get(pool_id=pool.id, kind="CONSUME")
    query = """query($p: ID!, $e: ID!) {
      pool: node(id: $p) { ... on CreditPool { key balance entries { nodes { kind } } } }
      entry: node(id: $e) { ... on LedgerEntry { kind amount runningBalance pool { key } invoice { total } } } }"""
    variables = {"p": ids.encode("CreditPool", pool.id), "e": ids.encode("LedgerEntry", consume.id)}
    data = unpage(await gql(s.org_id, query, variables))
    assert data["pool"] == {"key": pool.key, "balance": "0.00",
                            "entries": [{"kind": "ISSUE"}, {"kind": "CONSUME"}, {"kind": "EXPIRE"}]}
    assert data["entry"] == {"kind": "CONSUME", "amount": "-400.00", "runningBalance": "600.00",
                             "pool": {"key": pool.key}, "invoice": {"total": "1000.00"}}
    assert await gql(await org("Intruder"), query, variables) == {"pool": None, "entry": None}


async def test_a_draft_has_computed_windows_and_no_pools(db: str) -> None:
    org_id = await org("Drafts")
    await catalog(org_id)
    account = await accounts.create_account(org_id, accounts.AccountSpec(name="Acme"))
    draft = await contracts.create_contract(org_id, ContractSpec(
        account_id=account.id, name="Draft", currency="GBP", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=Frequency.MONTHLY,
        commitments=(spend("Minimum", PaymentTiming.POSTPAID, "1000"),)))
    data = unpage(await gql(org_id, """query($id: ID!) { node(id: $id) { ... on Contract {
        invoices { totalCount } commitments { nodes { pools { nodes { key } } windows { nodes { number committed measured shortfall settled
        consumed remaining pool { key } } } } } } } }""", {"id": ids.encode("Contract", draft.id)}))
    [commitment] = data["node"]["commitments"]
    assert data["node"]["invoices"] == {"totalCount": 0} and commitment["pools"] == []
    assert commitment["windows"][0] == {"number": 1, "committed": "1000", "measured": None, "shortfall": None,
                                        "settled": False, "consumed": None, "remaining": None, "pool": None}
