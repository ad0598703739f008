"""Live window state: measured and shortfall move as usage arrives, settled windows keep their figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.billing.terms import Frequency, PaymentTiming
from app.db.models import Commitment
from app.services.closing import close_period
from app.services.organizations import create_organization
from app.services.windows import WindowState, window_states
from tests.services.lifecycle import Setup, active_contract, spend, use


async def org(name: str = "Windows") -> int:
    return (await create_organization(name, "GBP"))[0].id


async def states(s: Setup, name: str) -> list[WindowState]:
    commitment = await Commitment.get(organization_id=s.org_id, contract_id=s.contract_id, name=name)
    return (await window_states(s.org_id, [commitment.id]))[commitment.id]


def figures(w: WindowState) -> tuple[D, D, bool, D | None, D | None]:
    return w.measured, w.shortfall, w.settled, w.consumed, w.remaining


async def test_postpaid_window_measures_live_then_keeps_its_settled_figures(db: str) -> None:
    s = await active_contract(await org(), spend("Minimum", PaymentTiming.POSTPAID, "1000"))
    windows = await states(s, "Minimum")
    assert [w.number for w in windows] == list(range(1, 13))
    assert figures(windows[0]) == (0, D(1000), False, 0, D(1000))

    await use(s, s.mb, "600", date(2026, 1, 10))
    assert figures((await states(s, "Minimum"))[0]) == (D(600), D(400), False, 0, D(1000))
    await use(s, s.mb, "300", date(2026, 1, 20))
    await use(s, s.mb, "50", date(2026, 2, 3))
    jan, feb = (await states(s, "Minimum"))[:2]
    assert figures(jan) == (D(900), D(100), False, 0, D(1000))
    assert (feb.measured, feb.shortfall) == (D(50), D(950))

    await close_period(s.org_id, s.contract_id)
    jan, feb = (await states(s, "Minimum"))[:2]
    # Settled: the close's figures; the tracking pool tracked 900 and its remaining 100 left as the TRUE_UP.
    assert figures(jan) == (D(900), D(100), True, D(900), D(0))
    assert (feb.measured, feb.settled, feb.consumed, feb.remaining) == (D(50), False, 0, D(1000))

    await use(s, s.mb, "5000", date(2026, 1, 25))  # late data slipped past the checks: January is final
    assert figures((await states(s, "Minimum"))[0]) == (D(900), D(100), True, D(900), D(0))


async def test_prepaid_quarter_mixes_kept_charges_of_closed_months_with_live_ones(db: str) -> None:
    s = await active_contract(await org(), spend("Quarterly prepaid", PaymentTiming.PREPAID, "3000", Frequency.QUARTERLY))
    await use(s, s.mb, "700", date(2026, 1, 15))
    q1 = (await states(s, "Quarterly prepaid"))[0]
    assert (q1.start_date, q1.end_date, q1.committed) == (date(2026, 1, 1), date(2026, 4, 1), D(3000))
    assert figures(q1) == (D(700), D(2300), False, 0, D(3000))  # nothing is drawn before a close

    await close_period(s.org_id, s.contract_id)
    await use(s, s.mb, "200", date(2026, 2, 1))
    q1 = (await states(s, "Quarterly prepaid"))[0]
    assert figures(q1) == (D(900), D(2100), False, D(700), D(2300))


async def test_usage_and_average_usage_windows_measure_live(db: str) -> None:
    """SPEC §11 example 3's shape: two SIMs, 10 MB per SIM committed, 16 MB used → 8 each, 4 MB short."""
    s = await active_contract(await org(), usage_commitments=True, sims=2)
    await use(s, s.gb, "400", date(2026, 1, 5))
    await use(s, s.mb, "6", date(2026, 1, 6))
    await use(s, s.mb, "10", date(2026, 1, 7))
    data = (await states(s, "Data volume"))[0]
    assert (data.measured, data.shortfall, data.consumed, data.remaining) == (D(400), D(600), None, None)
    average = (await states(s, "Average per SIM"))[0]
    assert (average.committed, average.measured, average.shortfall) == (D(10), D(8), D(4))
    await use(s, s.mb, "4", date(2026, 1, 8))
    average = (await states(s, "Average per SIM"))[0]
    assert (average.measured, average.shortfall) == (D(10), D(0))


async def test_one_batch_for_many_commitments_and_nothing_for_another_organization(db: str) -> None:
    s = await active_contract(await org(), spend("Minimum", PaymentTiming.POSTPAID, "1000"), usage_commitments=True)
    ids = [c.id for c in await Commitment.filter(contract_id=s.contract_id)]
    found = await window_states(s.org_id, ids)
    assert sorted(found) == sorted(ids) and all(len(ws) == 12 for ws in found.values())
    other = await org("Other")
    assert await window_states(other, ids) == {}
