"""The one adjustment writer (SPEC §17): kind from the sign of the total, one number sequence per
contract, totals as the sums of the lines, lines in the order given."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from tortoise.transactions import in_transaction

from app.api import ids
from app.billing.adjustments import AdjustmentKind, adjustment_kind, adjustment_number, creditable
from app.billing.terms import LineType
from app.db.models import AdjustmentLine, Invoice
from app.services.adjustments import AdjustmentLineSpec, write_adjustment
from tests.scenarios.story import Story
from tests.scenarios.test_credit_notes import january

JAN = (date(2026, 1, 1), date(2026, 2, 1))


def spec(amount: str, line_type: LineType = LineType.USAGE, **extra: object) -> AdjustmentLineSpec:
    return AdjustmentLineSpec(line_type, D(amount), f"{line_type.value} {amount}", *JAN, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("total", "kind"), [("-0.01", "CREDIT_NOTE"), ("0", "CREDIT_NOTE"), ("0.01", "DEBIT_NOTE"),
                                             ("-2000.00", "CREDIT_NOTE"), ("2000.00", "DEBIT_NOTE")])
def test_the_kind_follows_the_sign_of_the_total(total: str, kind: str) -> None:
    assert adjustment_kind(D(total)) is AdjustmentKind(kind)


def test_the_rest_of_a_line_never_goes_below_zero() -> None:
    assert (creditable(D("100.00"), D("0")), creditable(D("100.00"), D("99.99")), creditable(D("1"), D("5"))) == (
        D("100.00"), D("0.01"), D(0))
    assert adjustment_number(7, 1) == "ADJ-7-001" and adjustment_number(7, 1234) == "ADJ-7-1234"


async def invoices(story: Story) -> tuple[Invoice, Invoice]:
    """Two contracts' January invoices (£1,000.00 USAGE + £100.00 STANDING each)."""
    _, first = await january(story)
    _, second = await january(story)
    return (await Invoice.get(id=_pk(first["id"])),
            await Invoice.get(id=_pk(second["id"])))


def _pk(global_id: str) -> int:
    return ids.decode(global_id, "Invoice", "id")


async def test_kinds_numbers_totals_and_line_order(db: str) -> None:
    story = await Story.start("GBP")
    one, two = await invoices(story)
    async with in_transaction():
        debit = await write_adjustment(story.org, one, source="CORRECTION", reason="Late usage", issued_on=date(2026, 4, 1),
                                       lines=[spec("2000.00"), spec("-500.00", LineType.TRUE_UP, commitment_id=None,
                                                                     window_number=1)])
        credit = await write_adjustment(story.org, one, source="CORRECTION", reason="Late usage",
                                        issued_on=date(2026, 4, 1), lines=[spec("-2000.00", LineType.TRUE_UP)])
        zero = await write_adjustment(story.org, one, source="GOODWILL", reason="Swap", issued_on=date(2026, 4, 2),
                                      lines=[spec("-1.00", LineType.STANDING), spec("1.00")])
        other = await write_adjustment(story.org, two, source="GOODWILL", reason="r", issued_on=date(2026, 4, 2),
                                       lines=[spec("-3.00")])
    assert [(a.kind, a.source, a.total, a.currency, a.invoice_id, a.contract_id) for a in (debit, credit, zero, other)] == [
        ("DEBIT_NOTE", "CORRECTION", D("1500.00"), "GBP", one.id, one.contract_id),
        ("CREDIT_NOTE", "CORRECTION", D("-2000.00"), "GBP", one.id, one.contract_id),
        ("CREDIT_NOTE", "GOODWILL", D("0.00"), "GBP", one.id, one.contract_id),
        ("CREDIT_NOTE", "GOODWILL", D("-3.00"), "GBP", two.id, two.contract_id),
    ]
    assert [a.number for a in (debit, credit, zero, other)] == [
        f"ADJ-{one.contract_id}-001", f"ADJ-{one.contract_id}-002", f"ADJ-{one.contract_id}-003",
        f"ADJ-{two.contract_id}-001"]  # one sequence per contract
    lines = await AdjustmentLine.filter(adjustment_id=debit.id).order_by("position")
    assert [(line.position, line.type, line.amount, line.window_number, line.service_start, line.service_end)
            for line in lines] == [(0, "USAGE", D("2000.00"), None, *JAN), (1, "TRUE_UP", D("-500.00"), 1, *JAN)]
    assert sum((line.amount for line in lines), D(0)) == debit.total


async def test_a_note_without_lines_or_with_an_unknown_source_is_a_programming_error(db: str) -> None:
    story = await Story.start("GBP")
    one, _ = await invoices(story)
    with pytest.raises(ValueError):
        await write_adjustment(story.org, one, source="GOODWILL", reason="r", issued_on=date(2026, 4, 1), lines=[])
    with pytest.raises(ValueError):
        await write_adjustment(story.org, one, source="MANUAL", reason="r", issued_on=date(2026, 4, 1),
                               lines=[spec("1.00")])
