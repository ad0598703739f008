"""The README's "From draft to invoice" session runs as written, with the figures it promises."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.api.helpers import gql, new_org, unpage

README = Path(__file__).resolve().parents[2] / "README.md"


def session_blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## From draft to invoice")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```graphql\n(.*?)```", text[start:end], flags=re.S)


def variables_of(block: str, known: dict[str, str]) -> dict[str, Any]:
    header = block.split("{", 1)[0]
    return {name: known[name] for name in re.findall(r"\$(\w+)", header)}


async def test_the_readme_session_runs_from_draft_to_invoices(db: str) -> None:
    org = await new_org("Readme", "GBP")
    blocks = session_blocks()
    assert len(blocks) == 9
    known: dict[str, str] = {}
    results = []
    for block in blocks:
        data = unpage(await gql(org, block, variables_of(block, known)))
        results.append(data)
        if "createProduct" in data:
            known["gb"] = data["createProduct"]["product"]["id"]
            known["account"] = data["createAccount"]["account"]["id"]
        if "createContract" in data:
            assert data["createContract"]["userErrors"] == []
            known["contract"] = data["createContract"]["contract"]["id"]
        if "node" in data and "pools" in str(data):
            entries = data["node"]["commitments"][0]["pools"][0]["entries"]
            known["entry"] = next(e["id"] for e in entries if e["kind"] == "CONSUME")
    draft, activate, usage, windows, close, ledger = results[1:7]
    assert draft["createBalance"]["balance"]["remaining"] == "500.00"
    assert activate["activateContract"]["contract"]["status"] == "ACTIVE"
    assert (usage["recordUsage"]["accepted"], usage["recordUsage"]["duplicates"], usage["recordUsage"]["rejected"]) == (2, 1, 1)
    first_window = windows["node"]["commitments"][0]["windows"][0]
    assert D(first_window["measured"]) == D("3750")
    invoice = close["closePeriod"]["invoice"]
    by_type: dict[str, list[D]] = {}
    for line in invoice["lines"]:
        by_type.setdefault(line["type"], []).append(D(line["amount"]))
    assert by_type["USAGE"] == [D("3750.00")]
    assert by_type["DRAWDOWN"] == [D("-3000.00"), D("-500.00")]
    assert by_type["OVERAGE_SURCHARGE"] == [D("25.00")]
    assert by_type["COMMITMENT_FEE"] == [D("1000.00")]
    assert D(invoice["total"]) == D("3750.00") - D("3500.00") + D("25.00") + D("1000.00")
    pool = ledger["node"]["commitments"][0]["pools"][0]
    assert pool["balance"] == "0.00" and pool["entries"][-1]["runningBalance"] == "0.00"
    assert ledger["node"]["account"]["balances"] == [{"name": "Goodwill", "remaining": "0.00"}]
    settled = results[7]
    assert settled["creditBack"]["entry"]["kind"] == "CREDIT_BACK"
    assert settled["creditBack"]["entry"]["runningBalance"] == "100.00"
    assert settled["closeDuePeriods"] == {"closed": 2, "asOf": "2026-04-02", "failures": []}
    invoices = results[8]["invoices"]
    assert invoices["totalCount"] == 3
    assert [n["periodStart"] for n in invoices["nodes"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
