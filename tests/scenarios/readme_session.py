"""The README's "From draft to invoice" session: its ```graphql blocks, the ids each block hands to
the next ones, and the figures the README promises.

One runner for every way of sending the blocks: in-process (``test_readme_session.py``) and by the
``gql`` client over HTTP to a real ``commitments serve`` (``test_readme_session_gql_client.py``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.api.helpers import unpage

README = Path(__file__).resolve().parents[2] / "README.md"

# Sends one block with its variables; returns the response's ``data`` (failing on any error).
Execute = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def session_blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## From draft to invoice")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```graphql\n(.*?)```", text[start:end], flags=re.S)


def variables_of(block: str, known: dict[str, str]) -> dict[str, Any]:
    header = block.split("{", 1)[0]
    return {name: known[name] for name in re.findall(r"\$(\w+)", header)}


async def run_session(execute: Execute) -> list[dict[str, Any]]:
    """Every block in order, each given the ids the earlier ones returned; their data, unpaged."""
    blocks = session_blocks()
    assert len(blocks) == 9
    known: dict[str, str] = {}
    results = []
    for block in blocks:
        data = unpage(await execute(block, variables_of(block, known)))
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
    return results


def assert_the_promised_figures(results: list[dict[str, Any]]) -> None:
    """The figures the README's prose promises for the session."""
    draft, activate, usage, windows, close, ledger = results[1:7]
    assert draft["createBalance"]["balance"]["remaining"] == "500.00"
    assert activate["activateContract"]["contract"]["status"] == "ACTIVE"
    assert (usage["recordUsage"]["accepted"], usage["recordUsage"]["duplicates"], usage["recordUsage"]["rejected"]) == (2, 1, 1)
    first_window = windows["node"]["commitments"][0]["windows"][0]
    assert D(first_window["measured"]) == D("3750")
    assert close["closePeriod"]["userErrors"] == []
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
