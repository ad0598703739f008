"""The README's "Late usage and corrections" walk-through, run verbatim on the day it is written for
(3 December 2026, the clock frozen): every ```graphql block in order, each given the ids the earlier
ones returned, and the figures its prose promises (SPEC example 10)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

from app.clock import frozen_clock
from tests.api.helpers import unpage
from tests.scenarios.story import Story

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## Late usage and corrections")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```graphql\n(.*?)```", text[start:end], flags=re.S)


async def test_the_readme_late_usage_walk_through(db: str) -> None:
    story = await Story.start("USD")
    found = blocks()
    assert len(found) == 6
    known: dict[str, str] = {}
    results = []
    with frozen_clock(datetime(2026, 12, 3, 9)):
        for block in found:
            header = block.split("{", 1)[0]
            data = unpage(await story.run(block, **{n: known[n] for n in re.findall(r"\$(\w+)", header)}))
            results.append(data)
            if "createProduct" in data:
                known["api"], known["account"] = (data["createProduct"]["product"]["id"],
                                                  data["createAccount"]["account"]["id"])
            if "createContract" in data:
                assert data["createContract"]["userErrors"] == []
                known["contract"] = data["createContract"]["contract"]["id"]
    setup, _, quarter, late, correct, documents = results
    assert setup["updateOrganization"]["organization"] == {"lateUsage": "ADJUST", "correctionWindowDays": 120}
    assert (quarter["recordUsage"]["accepted"], quarter["closeDuePeriods"]["closed"]) == (3, 3)
    assert (late["recordUsage"]["accepted"], late["recordUsage"]["acceptedLate"]) == (1, 1)
    assert late["recordUsage"]["results"][0]["status"] == "ACCEPTED_LATE"
    assert correct["correctContract"] == {"applied": 1, "adjustmentsWritten": 2, "userErrors": []}
    node = documents["node"]
    assert [(d["kind"], d["day"], D(d["quantity"])) for d in node["lateData"]] == [("USAGE", "2026-08-20", D(2000))]
    august, september, october = node["invoices"]
    assert [(a["kind"], D(a["total"])) for a in august["adjustments"]] == [("DEBIT_NOTE", D("2000.00"))]
    assert september["adjustments"] == []
    assert [(l["type"], D(l["amount"])) for a in october["adjustments"] for l in a["lines"]] == [
        ("TRUE_UP", D("-2000.00"))]
    assert sum((D(i["amountDue"]) for i in node["invoices"]), D(0)) == D("10000.00")
