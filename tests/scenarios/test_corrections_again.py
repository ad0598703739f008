"""Corrections meeting the rest of the ledger (SPEC §17): a goodwill credit after a correction, a
second correction after one that created a pool, a credit-back on a rolled-over credit, many
pending late rows, and the lock order with a renewal and a shared balance. Each test failed before
the fix it names; all run on SQLite and PostgreSQL except the lock-order race (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D
from typing import Any

from app.api import ids
from app.clock import frozen_clock
from app.db.models import CreditPool, LateData, LedgerEntry, Product
from app.services.corrections import correct_contract
from tests.scenarios.story import Story
from tests.scenarios.test_correction_concurrency import admin, until_waiting_on_a_lock
from tests.scenarios.test_corrections import CORRECT, due, send, state, twin
from tests.scenarios.test_renewal import activate, renew

QUARTERLY_MINIMUM = {"name": "Quarterly minimum", "type": "SPEND", "payment": "POSTPAID", "frequency": "QUARTERLY",
                     "rampSteps": [{"fromWindow": 1, "amount": "10000"}]}
QUARTERLY_CREDIT = {"name": "Quarterly credit", "type": "SPEND", "payment": "PREPAID", "frequency": "QUARTERLY",
                    "rampSteps": [{"fromWindow": 1, "amount": "3000"}], "rolloverFraction": "1"}
CREDIT_NOTE = """mutation($i: ID!, $lines: [CreditNoteLineInput!]!) {
  issueCreditNote(invoiceId: $i, lines: $lines, reason: "goodwill") {
    adjustment { total } userErrors { code field message } } }"""
INVOICES = """query($c: ID!) { invoices(contractId: $c) { nodes { id periodStart amountDue
  lines { nodes { id type amount } } } } }"""
CREDIT_BACK = """mutation($e: ID!, $a: Decimal!) { creditBack(ledgerEntryId: $e, amount: $a) {
  userErrors { code message } } }"""


async def correct(story: Story, contract: str) -> dict[str, Any]:
    done = dict((await story.run(CORRECT, c=contract))["correctContract"])
    assert done["userErrors"] == [], done
    return done


def pools(node: dict[str, Any]) -> list[tuple[str, D]]:
    """(kind:window, balance) of every pool: comparable across twin contracts."""
    return [(p["key"].split(":")[0] + ":" + p["key"].split(":")[2], D(p["balance"]))
            for c in node["commitments"] for p in c["pools"]]


async def test_a_goodwill_credit_after_a_correction_is_bounded_by_what_the_line_carries_now(db: str) -> None:
    """SPEC example 10: the correction lowers March's TRUE_UP from 3,000 to 1,000 (its line names the
    TRUE_UP line), so at most 1,000 of it can still be credited (3,000 was taken before the fix)."""
    story = await Story.start("USD")
    contract = await twin(story, QUARTERLY_MINIMUM, "A")
    with frozen_clock(date(2026, 4, 2)):
        for month, quantity in ((1, "2000"), (2, "2500"), (3, "2500")):
            await send(story, contract, quantity, f"2026-{month:02d}-15", f"on-{month}")
        for _ in range(3):
            await story.close(contract)
        await send(story, contract, "2000", "2026-01-20", "late-1")
        await correct(story, contract)
        march = next(i for i in (await story.run(INVOICES, c=contract))["invoices"] if i["periodStart"] == "2026-03-01")
        true_up = next(line for line in march["lines"] if line["type"] == "TRUE_UP")
        too_much = (await story.run(CREDIT_NOTE, i=march["id"], lines=[{"invoiceLineId": true_up["id"],
                                                                         "amount": "1000.01"}]))["issueCreditNote"]
        assert [(e["code"], e["field"]) for e in too_much["userErrors"]] == [("CREDIT_EXCEEDS_LINE", "lines.0.amount")]
        assert "1,000.00" in too_much["userErrors"][0]["message"] or "1000.00" in too_much["userErrors"][0]["message"]
        rest = (await story.run(CREDIT_NOTE, i=march["id"], lines=[{"invoiceLineId": true_up["id"],
                                                                    "amount": "1000"}]))["issueCreditNote"]
        assert rest["userErrors"] == [] and D(rest["adjustment"]["total"]) == D("-1000.00")
        node = await state(story, contract)
    assert sum((amount for _, amount in due(node)), D(0)) == D("9000.00")  # 10,000 less the 1,000 given


async def test_a_second_correction_after_one_that_created_a_pool(db: str) -> None:
    """Volume pricing: 100 late January units lower January's bill, so the first correction creates
    the rollover credit Q1 now leaves; a second late event then corrects again (before the fix it
    failed: the replay created that pool a second time)."""
    story = await Story.start("USD")
    await story.run("mutation { updateOrganization(input: {correctionWindowDays: 365}) { userErrors { code } } }")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    contract = await story.contract({
        "accountId": await story.account("V"), "name": "V", "currency": "USD",
        "startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY",
        "prices": [{"usageClassId": api, "model": "VOLUME", "tiers": [
            {"upTo": "1000", "unitAmount": "1", "flatAmount": "0"},
            {"upTo": None, "unitAmount": "0.5", "flatAmount": "0"}]}],
        "commitments": [QUARTERLY_CREDIT],
    })
    with frozen_clock(date(2026, 4, 5)):
        for month in (1, 2, 3):
            await send(story, contract, "1000", f"2026-{month:02d}-10", f"u{month}")
        for _ in range(3):
            await story.close(contract)
        assert [key for key, _ in pools(await state(story, contract))] == ["prepaid:0", "prepaid:1", "prepaid:2",
                                                                            "prepaid:3"]
        await send(story, contract, "100", "2026-01-11", "late-1")
        await correct(story, contract)
        assert ("rollover:1", D("450.00")) in pools(await state(story, contract))
        await send(story, contract, "1", "2026-02-11", "late-2")
        second = await correct(story, contract)
        assert second["applied"] == 1
        # February's 1,001 units fall in the volume tier of $0.50: 550 + 500.50 + 1,000 = 2,050.50 used
        assert ("rollover:1", D("949.50")) in pools(await state(story, contract))
        assert (await correct(story, contract))["adjustmentsWritten"] == 0


async def test_a_credit_back_on_a_rolled_over_credit_is_replayed_by_the_correction(db: str) -> None:
    """A credit-back on the Q2 rollover credit between closes is replayed before the next close
    (before the fix it was not: the correction moved credit from the fresh pool to the rollover)."""
    story = await Story.start("USD")
    late, on_time = await twin(story, QUARTERLY_CREDIT, "L"), await twin(story, QUARTERLY_CREDIT, "O")
    with frozen_clock(date(2026, 6, 5)):
        for contract, prefix in ((late, "l"), (on_time, "o")):
            for month in (1, 2, 3):
                await send(story, contract, "500", f"2026-{month:02d}-10", f"{prefix}{month}")
            await send(story, contract, "1000", "2026-04-10", f"{prefix}4")
            await send(story, contract, "1200", "2026-05-10", f"{prefix}5")
        await send(story, on_time, "1", "2026-05-20", "o-extra")
        for contract in (late, on_time):
            for _ in range(4):
                await story.close(contract)
            rollover = await CreditPool.get(contract_id=ids.parse(contract)[1], key__startswith="rollover:")
            consumed = await LedgerEntry.filter(pool_id=rollover.id, kind="CONSUME").first()
            assert consumed is not None
            given = await story.run(CREDIT_BACK, e=ids.encode("LedgerEntry", consumed.id), a="1000")
            assert given["creditBack"]["userErrors"] == [], given
            await story.close(contract)  # May
        assert (await send(story, late, "1", "2026-05-20", "l-extra"))["acceptedLate"] == 1
        await correct(story, late)
        corrected, reference = await state(story, late), await state(story, on_time)
    assert due(corrected) == due(reference)
    assert pools(corrected) == pools(reference)


async def test_a_correction_of_more_late_rows_than_a_statement_takes_parameters(db: str) -> None:
    """33,000 pending late rows (PostgreSQL takes at most 32,767 parameters in a statement): they are
    marked applied by contract, not by listing their ids."""
    story = await Story.start("USD")
    contract = await twin(story, QUARTERLY_MINIMUM, "A")
    row = ids.parse(contract)[1]
    with frozen_clock(date(2026, 2, 10)):
        await send(story, contract, "2000", "2026-01-15", "on-1")
        await story.close(contract)
        assert (await send(story, contract, "1", "2026-01-20", "late-0"))["acceptedLate"] == 1
        usage_class = (await Product.get(code="api-calls", organization_id=story.org)).id
        await LateData.bulk_create([
            LateData(organization_id=story.org, contract_id=row, kind="USAGE", day=date(2026, 1, 20), ref=f"k{i}",
                     usage_class_id=usage_class, quantity=D(0)) for i in range(33_000)], batch_size=2_000)
        done = await correct(story, contract)
    assert done["applied"] == 33_001
    assert await LateData.filter(contract_id=row, applied_at=None).count() == 0


async def test_a_correction_and_its_renewals_close_lock_pools_in_one_order(db: str, postgres_only: None) -> None:
    """The renewal's close locks its own pools (the rolled-over credit R) before the account's
    balances (X). A correction of the old contract now does the same, so while the close holds R the
    correction waits without holding X (before the fix it locked X first: a deadlock)."""
    story = await Story.start("USD")
    api = await story.product("api-calls", "USAGE_CLASS", "call")
    account = await story.account("A", drawdown="COMMITMENT_FIRST")
    made = await story.run("mutation($i: CreateBalanceInput!) { createBalance(input: $i) { userErrors { code } } }",
                           i={"accountId": account, "name": "G", "currency": "USD", "amount": "100",
                              "startDate": "2026-01-01", "endDate": "2027-01-01"})
    assert made["createBalance"]["userErrors"] == []
    old = await story.contract({"accountId": account, "name": "A", "currency": "USD", "startDate": "2026-01-01",
                                "endDate": "2026-04-01", "billingFrequency": "MONTHLY",
                                "prices": [{"usageClassId": api, "model": "PER_UNIT", "unitAmount": "1"}],
                                "commitments": [QUARTERLY_CREDIT]})
    with frozen_clock(date(2026, 4, 10)):
        new = (await renew(story, old, end="2026-07-01"))["contract"]["id"]
        await activate(story, new)
        for month in (1, 2, 3):
            await send(story, old, "500", f"2026-{month:02d}-10", f"u{month}")
        for _ in range(3):
            await story.close(old)
        assert (await send(story, old, "100", "2026-03-20", "late"))["acceptedLate"] == 1
        balance = (await CreditPool.get(organization_id=story.org, contract_id=None)).id
        rolled = (await CreditPool.get(organization_id=story.org, key__startswith="rollover:")).id
        async with admin() as holder, admin() as watcher:
            await holder.execute("BEGIN")
            await holder.execute("SELECT id FROM credit_pool WHERE id = $1 FOR UPDATE", rolled)
            correction = asyncio.create_task(correct_contract(story.org, ids.parse(old)[1]))
            await until_waiting_on_a_lock(watcher, correction)
            await holder.execute("SELECT id FROM credit_pool WHERE id = $1 FOR UPDATE", balance)  # not held by it
            await holder.execute("COMMIT")
            report = await asyncio.wait_for(correction, 30)
    assert report.applied == 1 and report.adjustments
