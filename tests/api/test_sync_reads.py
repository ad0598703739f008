"""Issue 10, "Partners cannot sync": createdAt / updatedAt (DateTime, UTC) on every node, updatedAt
moving on a mutation and on a close (bulk writes), the organization-wide invoices list with its
filter and order, and the stored usage events list."""

from __future__ import annotations

import re
from datetime import date, datetime

from app.api import ids
from app.api.nodes import NODE_TYPES
from app.api.schema import schema
from app.billing.terms import PaymentTiming
from app.db import models
from app.services.closing import close_period
from tests.api.helpers import gql, gql_raw, new_org
from tests.services import lifecycle as lc
from tests.services.lifecycle import Setup, active_contract, spend, use

UTC_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")


def _at(text: str) -> datetime:
    assert UTC_ISO.fullmatch(text), text
    return datetime.fromisoformat(text)


def test_every_node_type_has_created_and_updated_at_as_datetime() -> None:
    types = schema._schema.type_map
    assert set(NODE_TYPES) >= {"Organization", "Account", "Product", "Contract", "Price", "ServiceLine", "Commitment",
                               "Balance", "Invoice", "CreditPool", "LedgerEntry", "CloseRun", "UsageEvent"}
    for name in NODE_TYPES:
        fields = types[name].fields
        assert str(fields["createdAt"].type) == "DateTime!", name
        assert str(fields["updatedAt"].type) == "DateTime!", name


async def _second_contract(s: Setup) -> Setup:
    """Another account of the organization of ``s``, with an active contract on the same catalog."""
    account = await lc.accounts.create_account(s.org_id, lc.accounts.AccountSpec(name="Globex"))
    contract = await lc.contracts.create_contract(s.org_id, lc.ContractSpec(
        account_id=account.id, name="Second", currency="GBP", start_date=lc.YEAR[0], end_date=lc.YEAR[1],
        billing_frequency=lc.Frequency.MONTHLY, prices=(lc.PriceSpec(s.mb, lc.PricingModel.PER_UNIT, lc.D("1")),)))
    await lc.activate_contract(s.org_id, contract.id)
    return Setup(s.org_id, account.id, contract.id, s.mb, s.gb, s.sim)


async def _closed_twice(name: str = "Sync") -> Setup:
    s = await active_contract(await new_org(name), spend("Prepaid", PaymentTiming.PREPAID, "2000"), mb_price="0.125")
    await use(s, s.mb, "100", date(2026, 1, 12))
    await use(s, s.gb, "5", date(2026, 1, 20))
    await use(s, s.mb, "7", date(2026, 2, 3))
    await close_period(s.org_id, s.contract_id)
    await close_period(s.org_id, s.contract_id)
    return s


async def test_timestamps_are_utc_iso_with_offset_on_every_kind_of_node(db: str) -> None:
    s = await _closed_twice()
    contract = ids.encode("Contract", s.contract_id)
    data = await gql(s.org_id, """query($c: ID!) { organization { createdAt updatedAt }
      node(id: $c) { ... on Contract { createdAt updatedAt account { createdAt updatedAt }
        prices { nodes { createdAt updatedAt } } commitments { nodes { createdAt updatedAt
          pools { nodes { createdAt updatedAt entries { nodes { createdAt updatedAt } } } } } }
        invoices { nodes { createdAt updatedAt } } } }
      products { nodes { createdAt updatedAt } }
      usageEvents { nodes { createdAt updatedAt timestamp } } }""", {"c": contract})
    stamps: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("createdAt", "updatedAt", "timestamp"):
                    stamps.append(item)  # type: ignore[arg-type]
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(data)
    assert len(stamps) > 20
    for text in stamps:
        _at(text)
    assert data["usageEvents"]["nodes"][0]["timestamp"] == "2026-01-12T12:00:00+00:00"
    for inv in data["node"]["invoices"]["nodes"]:  # an invoice never changes: written once
        assert 0 <= (_at(inv["updatedAt"]) - _at(inv["createdAt"])).total_seconds() < 1


async def test_updated_at_moves_on_a_mutation_and_created_at_stays(db: str) -> None:
    org_id = await new_org()
    made = await gql(org_id, 'mutation { createAccount(input: {name: "Acme"}) { account { id createdAt updatedAt } } }')
    account = made["createAccount"]["account"]
    assert 0 <= (_at(account["updatedAt"]) - _at(account["createdAt"])).total_seconds() < 1
    changed = await gql(org_id, 'mutation($id: ID!) { updateAccount(id: $id, input: {name: "Acme Ltd"}) '
                                '{ account { createdAt updatedAt } } }', {"id": account["id"]})
    after = changed["updateAccount"]["account"]
    read = await gql(org_id, "query($id: ID!) { node(id: $id) { ... on Account { createdAt updatedAt } } }",
                     {"id": account["id"]})
    assert read["node"] == after
    assert after["createdAt"] == account["createdAt"]
    assert _at(after["updatedAt"]) > _at(account["updatedAt"])


async def test_updated_at_moves_through_the_close_bulk_writes(db: str) -> None:
    """The close rewrites pool balances with one bulk UPDATE and closes periods and contracts with
    queryset updates: none of them goes through save(), each must still move updatedAt."""
    s = await active_contract(await new_org(), spend("Prepaid", PaymentTiming.PREPAID, "2000"), mb_price="0.125")
    await use(s, s.mb, "100", date(2026, 1, 12))
    query = """query($c: ID!) { node(id: $c) { ... on Contract { status updatedAt
      commitments { nodes { pools { nodes { key balance updatedAt } } } } } } }"""
    variables = {"c": ids.encode("Contract", s.contract_id)}
    before = (await gql(s.org_id, query, variables))["node"]
    window = await models.CommitmentWindow.filter(contract_id=s.contract_id, number=1).first()
    period = await models.BillingPeriod.filter(contract_id=s.contract_id, number=1).first()
    await close_period(s.org_id, s.contract_id)
    after = (await gql(s.org_id, query, variables))["node"]
    pools_before = {p["key"]: p for p in before["commitments"]["nodes"][0]["pools"]["nodes"]}
    drawn = [p for p in after["commitments"]["nodes"][0]["pools"]["nodes"] if p["balance"] != pools_before[p["key"]]["balance"]]
    assert drawn, "the close drew from a pool"
    for pool in drawn:
        assert _at(pool["updatedAt"]) > _at(pools_before[pool["key"]]["updatedAt"])
    closed = await models.BillingPeriod.get(id=period.id)
    assert closed.status == "CLOSED" and closed.updated_at > period.updated_at
    settled = await models.CommitmentWindow.get(id=window.id)
    assert settled.settled and settled.updated_at > window.updated_at


async def test_invoices_of_the_organization_filtered_and_ordered(db: str) -> None:
    s = await _closed_twice()
    other = await _second_contract(s)
    await close_period(other.org_id, other.contract_id)
    stranger = await _closed_twice("Stranger")
    query = """query($f: InvoiceFilterInput, $o: InvoiceOrder! = OLDEST_FIRST) {
      invoices(filter: $f, orderBy: $o) { totalCount nodes { periodStart createdAt contract { id } } } }"""

    async def listed(f: dict | None = None, o: str = "OLDEST_FIRST") -> list[tuple[str, str]]:
        data = (await gql(s.org_id, query, {"f": f, "o": o}))["invoices"]
        assert data["totalCount"] == len(data["nodes"])
        return [(n["contract"]["id"], n["periodStart"]) for n in data["nodes"]]

    mine, theirs = ids.encode("Contract", s.contract_id), ids.encode("Contract", other.contract_id)
    everything = await listed()
    assert sorted(everything) == sorted([(mine, "2026-01-01"), (mine, "2026-02-01"), (theirs, "2026-01-01")])
    assert await listed(o="NEWEST_FIRST") == everything[::-1]
    assert await listed({"contractId": mine}) == [(mine, "2026-01-01"), (mine, "2026-02-01")]
    assert await listed({"accountId": ids.encode("Account", other.account_id)}) == [(theirs, "2026-01-01")]
    # periods are half-open on the period's start: periodFrom included, periodTo excluded
    assert await listed({"periodFrom": "2026-02-01"}) == [(mine, "2026-02-01")]
    assert sorted(await listed({"periodTo": "2026-02-01"})) == sorted([(mine, "2026-01-01"), (theirs, "2026-01-01")])
    assert await listed({"periodFrom": "2026-01-02", "periodTo": "2026-02-01"}) == []
    created = (await gql(s.org_id, query, {"f": {"contractId": mine}}))["invoices"]["nodes"]
    second = created[1]["createdAt"]
    assert (mine, "2026-02-01") in await listed({"issuedFrom": second})
    assert (mine, "2026-02-01") not in await listed({"issuedTo": second})
    # another tenant's ids match nothing; the old contractId argument still works
    assert await listed({"contractId": ids.encode("Contract", stranger.contract_id)}) == []
    assert await listed({"accountId": ids.encode("Account", stranger.account_id)}) == []
    old = await gql(s.org_id, "query($c: ID!) { invoices(contractId: $c) { totalCount } }", {"c": mine})
    assert old["invoices"]["totalCount"] == 2


async def test_invoice_filter_errors_are_clear(db: str) -> None:
    org_id = await new_org()
    cases = [
        ('{ invoices(filter: {contractId: "QWNjb3VudDox"}) { totalCount } }', "INVALID_ID", "filter.contractId"),
        ('{ invoices(filter: {accountId: "nope"}) { totalCount } }', "INVALID_ID", "filter.accountId"),
        ('{ invoices(filter: {periodFrom: "2026-02-01", periodTo: "2026-02-01"}) { totalCount } }',
         "INVALID_INTERVAL", "filter.periodTo"),
        ('{ invoices(filter: {issuedFrom: "2026-02-02T00:00:00Z", issuedTo: "2026-02-01T00:00:00+01:00"}) '
         '{ totalCount } }', "INVALID_INTERVAL", "filter.issuedTo"),
        ('{ invoices(contractId: "Q29udHJhY3Q6MQ==", filter: {contractId: "Q29udHJhY3Q6Mg=="}) { totalCount } }',
         "INVALID_INPUT", "contractId"),
        ('{ usageEvents(filter: {from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z"}) { totalCount } }',
         "INVALID_INTERVAL", "filter.to"),
        ('{ usageEvents(filter: {usageClassId: "Q29udHJhY3Q6MQ=="}) { totalCount } }', "INVALID_ID",
         "filter.usageClassId"),
    ]
    for query, code, field in cases:
        result = await gql_raw(org_id, query)
        assert result.errors, query
        assert (result.errors[0].extensions or {}).get("code") == code, (query, result.errors)
        assert (result.errors[0].extensions or {}).get("field") == field, (query, result.errors)


async def test_usage_events_listed_filtered_in_timestamp_order(db: str) -> None:
    s = await _closed_twice()
    other = await _second_contract(s)
    await use(other, other.mb, "3", date(2026, 1, 15))
    stranger = await _closed_twice("Stranger")
    query = """query($f: UsageEventFilterInput) { usageEvents(filter: $f) { totalCount
      nodes { id quantity timestamp day idempotencyKey contract { id } usageClass { code } } } }"""

    async def listed(f: dict | None = None) -> list[tuple[str, str]]:
        data = (await gql(s.org_id, query, {"f": f}))["usageEvents"]
        assert data["totalCount"] == len(data["nodes"])
        return [(n["timestamp"][:10], n["quantity"]) for n in data["nodes"]]

    assert await listed() == [("2026-01-12", "100"), ("2026-01-15", "3"), ("2026-01-20", "5"), ("2026-02-03", "7")]
    assert await listed({"contractId": ids.encode("Contract", s.contract_id)}) == [
        ("2026-01-12", "100"), ("2026-01-20", "5"), ("2026-02-03", "7")]
    assert await listed({"accountId": ids.encode("Account", other.account_id)}) == [("2026-01-15", "3")]
    assert await listed({"usageClassId": ids.encode("Product", s.gb)}) == [("2026-01-20", "5")]
    assert await listed({"accountId": ids.encode("Account", stranger.account_id)}) == []
    # from included, to excluded
    assert await listed({"from": "2026-01-15T12:00:00Z", "to": "2026-02-03T12:00:00Z"}) == [
        ("2026-01-15", "3"), ("2026-01-20", "5")]
    assert await listed({"from": "2026-01-15T13:00:00+01:00", "to": "2026-01-15T12:00:01"}) == [("2026-01-15", "3")]
    assert await listed({"contractId": ids.encode("Contract", stranger.contract_id)}) == []
    first = (await gql(s.org_id, query))["usageEvents"]["nodes"][0]
    node = await gql(s.org_id, "query($id: ID!) { node(id: $id) { ... on UsageEvent { idempotencyKey createdAt updatedAt } } }",
                     {"id": first["id"]})
    assert node["node"]["idempotencyKey"] == first["idempotencyKey"]
    assert node["node"]["createdAt"] == node["node"]["updatedAt"]
    hidden = await gql(stranger.org_id, "query($id: ID!) { node(id: $id) { id } }", {"id": first["id"]})
    assert hidden["node"] is None
