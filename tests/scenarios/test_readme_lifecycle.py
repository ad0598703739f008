"""The README's "Amend, terminate, renew" walk-through, run verbatim: every ```graphql block of the
section in order, each given the ids the earlier ones returned, and the figures its prose promises
(SPEC §13–§15; example 9's rule with the README's dates)."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.api.helpers import unpage
from tests.scenarios.story import Story

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## Amend, terminate, renew")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```graphql\n(.*?)```", text[start:end], flags=re.S)


def lines(invoice: dict[str, Any], kind: str) -> list[D]:
    return [D(line["amount"]) for line in invoice["lines"] if line["type"] == kind]


async def test_the_readme_amend_terminate_renew_walk_through(db: str) -> None:
    story = await Story.start("USD")
    found = blocks()
    assert len(found) == 8
    known: dict[str, str] = {}
    results = []
    for block in found:
        header = block.split("{", 1)[0]
        data = unpage(await story.run(block, **{name: known[name] for name in re.findall(r"\$(\w+)", header)}))
        results.append(data)
        if "createProduct" in data:
            known["api"], known["account"] = data["createProduct"]["product"]["id"], data["createAccount"]["account"]["id"]
        if "createContract" in data:
            assert data["createContract"]["userErrors"] == []
            known["contract"] = data["createContract"]["contract"]["id"]
        if "renewContract" in data:
            known["renewal"] = data["renewContract"]["contract"]["id"]
    _, _, start, rise, quote, decline, leave, final = results
    assert start["activateContract"]["contract"] == {"status": "ACTIVE", "version": 1}
    assert (start["recordUsage"]["accepted"], start["closeDuePeriods"]["closed"]) == (3, 6)
    assert rise["amendContract"]["userErrors"] == []
    assert rise["amendContract"]["contract"]["version"] == 2
    assert [(v["number"], v["effectiveDate"], v["reason"]) for v in rise["amendContract"]["contract"]["versions"]] == [
        (1, "2026-01-01", "activation"), (2, "2026-07-01", "2026 price list")]
    assert quote["renewContract"]["contract"]["status"] == "DRAFT"
    assert [D(p["unitAmount"]) for p in quote["renewContract"]["contract"]["prices"]] == [D("1.20")]
    assert decline["cancelContract"]["contract"]["status"] == "CANCELLED"
    left = leave["terminateContract"]
    assert left["userErrors"] == []
    assert (left["contract"]["endDate"], left["contract"]["originalEndDate"]) == ("2026-10-01", "2027-01-01")
    assert left["contract"]["termination"] == {"date": "2026-10-01", "reason": "Globex was acquired",
                                               "chargeRemaining": False, "feeWaived": False}
    assert leave["closeDuePeriods"]["closed"] == 3
    node = final["node"]
    assert (node["status"], node["endDate"], node["version"]) == ("ENDED", "2026-10-01", 2)
    july, august, september = node["invoices"]
    assert [i["version"] for i in (july, august, september)] == [2, 2, 2]
    assert lines(july, "USAGE") == [D("1200.00")] and lines(july, "DRAWDOWN") == [D("-1200.00")]
    assert lines(september, "COMMITMENT_FEE") == [D("975.34")]
    assert lines(september, "TERMINATION_FEE") == [D("500.00")]
    assert D(september["total"]) == D("1475.34")
    pools = (await story.run("""query($id: ID!) { node(id: $id) { ... on Contract { commitments { nodes {
        pools { nodes { balance entries { nodes { kind amount } } } } } } } } }""", id=known["contract"]))
    [[pool]] = [c["pools"] for c in pools["node"]["commitments"]]
    assert [(e["kind"], D(e["amount"])) for e in pool["entries"]] == [
        ("ISSUE", D("12000.00")), ("CONSUME", D("-1000.00")), ("VOID", D("-3024.66")),
        ("CONSUME", D("-1200.00")), ("CONSUME", D("-1200.00")), ("EXPIRE", D("-5575.34"))]
    assert D(pool["balance"]) == 0
