"""Goodwill credit notes (SPEC §17) end to end through GraphQL: issueCreditNote, Invoice.amountDue
and the adjustments list. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

The contract of every story: 2026, billed monthly in GBP, api-calls at £1.00 a unit, a £100.00
standing charge, and 1,000 units in January: the January invoice bills USAGE £1,000.00 and
STANDING £100.00, total £1,100.00.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D
from typing import Any

from app.api import ids
from app.billing.terms import LineType
from app.clock import frozen_clock
from app.db.models import Adjustment, AdjustmentLine, Invoice, LedgerEntry
from app.services.adjustments import AdjustmentLineSpec, write_adjustment
from tests.api.helpers import gql_raw
from tests.scenarios.story import Story

ISSUE = """mutation($i: ID!, $lines: [CreditNoteLineInput!]!, $r: String!, $k: String) {
  issueCreditNote(invoiceId: $i, lines: $lines, reason: $r, idempotencyKey: $k) {
    adjustment { id number kind source reason total currency issuedOn invoice { id }
      lines { nodes { type amount product description servicePeriodStart servicePeriodEnd windowNumber
        invoiceLine { id amount } } } }
    userErrors { code field message } } }"""

INVOICES = """query($c: ID!) { invoices(contractId: $c) { nodes { id periodStart total amountDue
  lines { nodes { id type amount } } adjustments { nodes { number total } } } } }"""

LIST = """query($f: AdjustmentFilterInput) { adjustments(filter: $f) { totalCount nodes { number kind source
  total invoice { periodStart } } } }"""


async def january(story: Story, *, balance: str | None = None) -> tuple[str, dict[str, Any]]:
    """The story's contract with January closed: (contract id, the January invoice with line ids)."""
    if "api-calls" not in story.products:
        await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account()
    if balance:
        out = await story.run("mutation($i: CreateBalanceInput!) { createBalance(input: $i) { userErrors { code } } }",
                              i={"accountId": account, "name": "Goodwill", "currency": "GBP", "amount": balance,
                                 "startDate": "2026-01-01", "endDate": "2027-01-01"})
        assert out["createBalance"]["userErrors"] == []
    contract = await story.contract({
        "accountId": account, "name": "Monthly", "currency": "GBP", "startDate": "2026-01-01",
        "endDate": "2027-01-01", "billingFrequency": "MONTHLY", "standingCharge": "100",
        "prices": [{"usageClassId": story.products["api-calls"], "model": "PER_UNIT", "unitAmount": "1"}],
    })
    await story.usage(contract, "api-calls", "1000", "2026-01-15T12:00:00Z", f"jan-{contract}")
    await story.close(contract)
    return contract, await invoice(story, contract, "2026-01-01")


async def invoice(story: Story, contract: str, start: str) -> dict[str, Any]:
    return next(i for i in (await story.run(INVOICES, c=contract))["invoices"] if i["periodStart"] == start)


def line_id(inv: dict[str, Any], line_type: str) -> str:
    return next(str(line["id"]) for line in inv["lines"] if line["type"] == line_type)


async def issue(story: Story, inv: dict[str, Any], credits: list[tuple[str, str]], reason: str = "Outage on 12 January",
                key: str | None = None) -> dict[str, Any]:
    lines = [{"invoiceLineId": line, "amount": amount} for line, amount in credits]
    return dict((await story.run(ISSUE, i=inv["id"], lines=lines, r=reason, k=key))["issueCreditNote"])


async def written(story: Story) -> tuple[int, int]:
    return (await Adjustment.filter(organization_id=story.org).count(),
            await AdjustmentLine.filter(organization_id=story.org).count())


async def test_a_goodwill_credit_on_one_line(db: str) -> None:
    story = await Story.start("GBP")
    contract, jan = await january(story)
    assert (D(jan["total"]), D(jan["amountDue"]), jan["adjustments"]) == (D("1100.00"), D("1100.00"), [])
    out = await issue(story, jan, [(line_id(jan, "USAGE"), "250.00")])
    assert out["userErrors"] == []
    note = out["adjustment"]
    pk = ids.decode(contract, "Contract", "c")
    assert (note["number"], note["kind"], note["source"], note["reason"], D(note["total"]), note["currency"],
            note["issuedOn"], note["invoice"]["id"]) == (
        f"ADJ-{pk}-001", "CREDIT_NOTE", "GOODWILL", "Outage on 12 January", D("-250.00"), "GBP", "2100-01-01", jan["id"])
    [line] = note["lines"]
    assert (line["type"], D(line["amount"]), line["product"], line["servicePeriodStart"], line["servicePeriodEnd"],
            line["invoiceLine"]) == ("USAGE", D("-250.00"), "api-calls", "2026-01-01", "2026-02-01",
                                     {"id": line_id(jan, "USAGE"), "amount": "1000.00"})
    after = await invoice(story, contract, "2026-01-01")
    assert (D(after["total"]), D(after["amountDue"])) == (D("1100.00"), D("850.00"))  # the invoice never changes
    assert after["lines"] == jan["lines"]
    assert after["adjustments"] == [{"number": f"ADJ-{pk}-001", "total": "-250.00"}]
    node = await story.run("query($id: ID!) { node(id: $id) { ... on Adjustment { number total } } }", id=note["id"])
    assert node["node"] == {"number": f"ADJ-{pk}-001", "total": "-250.00"}


async def test_a_goodwill_credit_on_two_lines_in_the_order_given(db: str) -> None:
    story = await Story.start("GBP")
    contract, jan = await january(story)
    out = await issue(story, jan, [(line_id(jan, "STANDING"), "100"), (line_id(jan, "USAGE"), "99.99")])
    assert out["userErrors"] == []
    note = out["adjustment"]
    assert (note["kind"], D(note["total"])) == ("CREDIT_NOTE", D("-199.99"))
    assert [(line["type"], D(line["amount"]), line["invoiceLine"]["id"]) for line in note["lines"]] == [
        ("STANDING", D("-100.00"), line_id(jan, "STANDING")), ("USAGE", D("-99.99"), line_id(jan, "USAGE"))]
    second = await issue(story, jan, [(line_id(jan, "USAGE"), "0.01")], reason="Rounding dispute")
    assert second["adjustment"]["number"].endswith("-002")  # one sequence per contract
    assert D((await invoice(story, contract, "2026-01-01"))["amountDue"]) == D("900.00")


async def test_the_worked_example_of_the_billing_rules(db: str) -> None:
    """docs/billing-rules.md, "Adjustments and credit notes": every row of its table."""
    story = await Story.start("GBP")
    contract, jan = await january(story)
    usage, standing = line_id(jan, "USAGE"), line_id(jan, "STANDING")

    async def due() -> D:
        return D((await invoice(story, contract, "2026-01-01"))["amountDue"])

    assert D((await issue(story, jan, [(usage, "250")]))["adjustment"]["total"]) == D("-250.00")
    assert await due() == D("850.00")
    assert D((await issue(story, jan, [(standing, "100"), (usage, "99.99")]))["adjustment"]["total"]) == D("-199.99")
    assert await due() == D("650.01")
    refused = await issue(story, jan, [(usage, "651")])
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("CREDIT_EXCEEDS_LINE", "lines.0.amount")]
    assert "at most 650.01 GBP" in refused["userErrors"][0]["message"]
    refused = await issue(story, jan, [(standing, "0.50")])
    assert [e["code"] for e in refused["userErrors"]] == ["CREDIT_EXCEEDS_LINE"]
    final = await invoice(story, contract, "2026-01-01")
    assert (D(final["total"]), D(final["amountDue"]), [a["total"] for a in final["adjustments"]]) == (
        D("1100.00"), D("650.01"), ["-250.00", "-199.99"])


async def test_a_line_is_never_credited_beyond_its_amount_net_of_earlier_credits(db: str) -> None:
    story = await Story.start("GBP")
    _, jan = await january(story)
    usage, standing = line_id(jan, "USAGE"), line_id(jan, "STANDING")
    assert (await issue(story, jan, [(usage, "900")]))["userErrors"] == []
    before = await written(story)
    refused = await issue(story, jan, [(standing, "10"), (usage, "100.01")])
    assert refused["adjustment"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("CREDIT_EXCEEDS_LINE", "lines.1.amount")]
    assert "at most 100.00 GBP" in refused["userErrors"][0]["message"]
    assert await written(story) == before  # nothing written, not even the valid STANDING credit
    twice = await issue(story, jan, [(usage, "60"), (usage, "60")])  # one line named twice in one note
    assert [(e["code"], e["field"]) for e in twice["userErrors"]] == [("CREDIT_EXCEEDS_LINE", "lines.1.amount")]
    assert (await issue(story, jan, [(usage, "100.00")]))["userErrors"] == []  # exactly the rest
    again = await issue(story, jan, [(usage, "0.01")])
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [("CREDIT_EXCEEDS_LINE", "lines.0.amount")]
    assert "at most 0.00 GBP" in again["userErrors"][0]["message"]


async def test_refusals_name_the_field_and_write_nothing(db: str) -> None:
    story = await Story.start("GBP")
    contract, jan = await january(story, balance="40")
    other_contract, other = await january(story)
    usage = line_id(jan, "USAGE")
    cases = [
        ([(usage, "0")], "r", [("INVALID_AMOUNT", "lines.0.amount")]),
        ([(usage, "-5")], "r", [("INVALID_AMOUNT", "lines.0.amount")]),
        ([(usage, "1.001")], "r", [("INVALID_AMOUNT", "lines.0.amount")]),
        ([(line_id(jan, "DRAWDOWN"), "1")], "r", [("NOT_A_POSITIVE_LINE", "lines.0.invoiceLineId")]),
        ([(line_id(other, "USAGE"), "1")], "r", [("NOT_FOUND", "lines.0.invoiceLineId")]),
        ([(contract, "1")], "r", [("INVALID_ID", "lines.0.invoiceLineId")]),
        ([], "r", [("INVALID_INPUT", "lines")]),
        ([(usage, "1")], "   ", [("INVALID_INPUT", "reason")]),
        ([(usage, "1")], "x" * 501, [("INVALID_INPUT", "reason")]),
    ]
    for credits, reason, expected in cases:
        out = await issue(story, jan, credits, reason=reason)
        assert [(e["code"], e["field"]) for e in out["userErrors"]] == expected, (credits, reason, out)
        assert out["adjustment"] is None
    assert await written(story) == (0, 0)
    unknown = await story.run(ISSUE, i=ids.encode("Invoice", 999_999), lines=[{"invoiceLineId": usage, "amount": "1"}],
                              r="r")
    assert [(e["code"], e["field"]) for e in unknown["issueCreditNote"]["userErrors"]] == [("NOT_FOUND", "invoiceId")]
    assert other_contract != contract


async def test_a_goodwill_credit_changes_no_pool(db: str) -> None:
    story = await Story.start("GBP")
    _, jan = await january(story, balance="40")
    entries = [(e.pool_id, e.kind, e.amount) for e in await LedgerEntry.filter(organization_id=story.org).order_by("id")]
    assert D(jan["total"]) == D("1060.00")  # the £40 balance paid part of January
    out = await issue(story, jan, [(line_id(jan, "USAGE"), "1000")])
    assert out["userErrors"] == [] and D(out["adjustment"]["total"]) == D("-1000.00")
    assert [(e.pool_id, e.kind, e.amount) for e in await LedgerEntry.filter(
        organization_id=story.org).order_by("id")] == entries


async def test_a_repeated_idempotency_key_writes_one_note(db: str) -> None:
    story = await Story.start("GBP")
    _, jan = await january(story)
    first = await issue(story, jan, [(line_id(jan, "USAGE"), "10")], key="goodwill-1")
    again = await issue(story, jan, [(line_id(jan, "USAGE"), "10")], key="goodwill-1")
    assert again == first and await written(story) == (1, 1)


async def test_the_adjustments_list_filters_by_contract_invoice_kind_source_and_day(db: str) -> None:
    story = await Story.start("GBP")
    first, jan = await january(story)
    second, jan2 = await january(story)
    feb = await story.close(first)
    feb_invoice = await invoice(story, first, "2026-02-01")
    with frozen_clock(date(2026, 2, 10)):
        assert (await issue(story, jan, [(line_id(jan, "USAGE"), "1")]))["userErrors"] == []
    with frozen_clock(date(2026, 3, 10)):
        assert (await issue(story, feb_invoice, [(line_id(feb_invoice, "STANDING"), "2")]))["userErrors"] == []
        assert (await issue(story, jan2, [(line_id(jan2, "USAGE"), "3")]))["userErrors"] == []
    row = await Invoice.get(id=ids.decode(jan["id"], "Invoice", "i"))  # a correction's debit note, by the one writer
    await write_adjustment(story.org, row, source="CORRECTION", reason="Late usage", issued_on=date(2026, 4, 2),
                           lines=[AdjustmentLineSpec(LineType.USAGE, D("5.00"), "Late usage", date(2026, 1, 1),
                                                     date(2026, 2, 1), product="api-calls")])
    assert feb["periodStart"] == "2026-02-01"

    async def listed(f: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
        data = (await story.run(LIST, f=f))["adjustments"]
        assert data["totalCount"] == len(data["nodes"])
        return [(n["kind"], n["source"], n["total"]) for n in data["nodes"]]

    assert await listed() == [("CREDIT_NOTE", "GOODWILL", "-1.00"), ("CREDIT_NOTE", "GOODWILL", "-2.00"),
                              ("CREDIT_NOTE", "GOODWILL", "-3.00"), ("DEBIT_NOTE", "CORRECTION", "5.00")]
    assert [t for *_, t in await listed({"contractId": first})] == ["-1.00", "-2.00", "5.00"]
    assert [t for *_, t in await listed({"contractId": second})] == ["-3.00"]
    assert [t for *_, t in await listed({"invoiceId": jan["id"]})] == ["-1.00", "5.00"]
    assert [t for *_, t in await listed({"kind": "DEBIT_NOTE"})] == ["5.00"]
    assert [t for *_, t in await listed({"source": "GOODWILL", "contractId": first})] == ["-1.00", "-2.00"]
    assert [t for *_, t in await listed({"issuedFrom": "2026-03-01", "issuedTo": "2026-04-02"})] == ["-2.00", "-3.00"]
    assert D((await invoice(story, first, "2026-01-01"))["amountDue"]) == D("1104.00")
    empty = await gql_raw(story.org, "query($f: AdjustmentFilterInput) { adjustments(filter: $f) { totalCount } }",
                          {"f": {"issuedFrom": "2026-03-01", "issuedTo": "2026-03-01"}})
    assert [(e.extensions["code"], e.extensions["field"]) for e in empty.errors] == [
        ("INVALID_INTERVAL", "filter.issuedTo")]
    wrong = await gql_raw(story.org, "query($f: AdjustmentFilterInput) { adjustments(filter: $f) { totalCount } }",
                          {"f": {"invoiceId": first}})
    assert [(e.extensions["code"], e.extensions["field"]) for e in wrong.errors] == [("INVALID_ID", "filter.invoiceId")]


async def test_two_notes_at_once_on_one_line_cannot_exceed_it(db: str, postgres_only: None) -> None:
    """PostgreSQL: the contract row lock serializes the two notes; the second sees the first's credit."""
    story = await Story.start("GBP")
    contract, jan = await january(story)
    usage = line_id(jan, "USAGE")
    answers = await asyncio.gather(*(issue(story, jan, [(usage, "600")], reason=f"r{i}") for i in range(2)))
    won = [a for a in answers if a["userErrors"] == []]
    refused = [(e["code"], e["field"]) for a in answers for e in a["userErrors"]]
    assert len(won) == 1 and refused == [("CREDIT_EXCEEDS_LINE", "lines.0.amount")], answers
    assert await written(story) == (1, 1)
    assert D((await invoice(story, contract, "2026-01-01"))["amountDue"]) == D("500.00")


async def test_a_ledger_entry_names_the_correction_it_belongs_to(db: str) -> None:
    """LedgerEntry.adjustment: the ADJUST entries a correction writes name its adjustment (null otherwise)."""
    story = await Story.start("GBP")
    _, jan = await january(story, balance="40")
    row = await Invoice.get(id=ids.decode(jan["id"], "Invoice", "i"))
    note = await write_adjustment(story.org, row, source="CORRECTION", reason="Late usage", issued_on=date(2026, 4, 2),
                                  lines=[AdjustmentLineSpec(LineType.DRAWDOWN, D("-5.00"), "More drawn",
                                                            date(2026, 1, 1), date(2026, 2, 1))])
    consumed = await LedgerEntry.filter(organization_id=story.org, kind="CONSUME").first()
    assert consumed is not None
    # EntryKind.ADJUST comes with the correction engine: a CREDIT_BACK stands in for it here
    adjust = await LedgerEntry.create(organization_id=story.org, pool_id=consumed.pool_id, kind="CREDIT_BACK",
                                      amount=D("5.00"), on_date=date(2026, 4, 2), adjustment_id=note.id)
    query = "query($id: ID!) { node(id: $id) { ... on LedgerEntry { adjustment { number kind source total } } } }"
    named = await story.run(query, id=ids.encode("LedgerEntry", adjust.id))
    assert named["node"]["adjustment"] == {"number": note.number, "kind": "CREDIT_NOTE", "source": "CORRECTION",
                                           "total": "-5.00"}
    assert (await story.run(query, id=ids.encode("LedgerEntry", consumed.id)))["node"]["adjustment"] is None
