"""When a period may close (SPEC §12): from ``end + closeGraceDays`` on, by the clock in UTC.

Every test sets "today" with ``frozen_clock``. The finding they guard against: on 1 December a
retried ``closePeriod`` closed December, then January, …, and December's usage was refused forever.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any

import pytest

from app.billing.terms import CommitmentType, Frequency, PaymentTiming, PricingModel, ProductKind, RampStep
from app.clock import frozen_clock, today, utc_now
from app.db.models import (
    BillingPeriod,
    CommitmentWindow,
    CreditPool,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PeriodUsage,
    RatedCharge,
)
from app.services import accounts, activation, closing, products, usage
from app.services.contracts import create_contract
from app.services.errors import InvalidInput
from app.services.organizations import OrganizationPatch, create_organization, update_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec
from app.services.usage import EventStatus, UsageEventSpec


async def monthly_contract(start: date, end: date, *, grace: int | None = None) -> tuple[int, int]:
    """(org, contract): an active monthly USD contract pricing api-calls at $1, with a postpaid
    monthly $100 spend commitment and a prepaid annual $1,000 one (so a close moves pools)."""
    org, _ = await create_organization("Timing", "USD")
    if grace is not None:
        await update_organization(org.id, OrganizationPatch(close_grace_days=grace))
    calls = await products.create_product(org.id, products.ProductSpec("api-calls", "API calls", ProductKind.USAGE_CLASS, "call"))
    acct = await accounts.create_account(org.id, accounts.AccountSpec(name="Acme"))
    contract = await create_contract(org.id, ContractSpec(
        account_id=acct.id, name="Timing", currency="USD", start_date=start, end_date=end,
        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(calls.id, PricingModel.PER_UNIT, D(1)),),
        commitments=(
            CommitmentSpec(name="Monthly minimum", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                           payment=PaymentTiming.POSTPAID, ramp=(RampStep(1, D(100)),)),
            CommitmentSpec(name="Annual prepaid", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
                           payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(1000)),), amount_prepaid=D(1000)),
        ),
    ))
    await activation.activate_contract(org.id, contract.id)
    return org.id, contract.id


async def record(org: int, contract: int, day: date, key: str) -> EventStatus:
    [result] = await usage.record_usage(org, [UsageEventSpec(
        quantity="5", timestamp=f"{day.isoformat()}T12:00:00Z", idempotency_key=key, contract_id=contract,
        usage_class_code="api-calls")])
    return result.status


async def written() -> dict[str, Any]:
    """Everything a close writes."""
    return {
        "invoices": await Invoice.all().count(), "lines": await InvoiceLine.all().count(),
        "entries": await LedgerEntry.all().count(), "charges": await RatedCharge.all().count(),
        "usage": await PeriodUsage.all().count(),
        "settled": await CommitmentWindow.filter(settled=True).count(),
        "pools": sorted(await CreditPool.all().values_list("id", "balance")),
        "periods": sorted(await BillingPeriod.all().values_list("number", "status")),
    }


async def refused(org: int, contract: int, start: date | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        await closing.close_period(org, contract, start)
    [error] = caught.value.errors
    return f"{error.code.value} {error.field}"


# --- the clock -------------------------------------------------------------------------------------


def test_the_clock_can_be_frozen_and_comes_back() -> None:
    outside = today()
    with frozen_clock(date(2026, 1, 15)) as clock:
        assert today() == date(2026, 1, 15)
        assert utc_now() == datetime(2026, 1, 15, tzinfo=UTC) == clock.now()
        with frozen_clock(datetime(2026, 2, 2, 0, 30, tzinfo=timezone(timedelta(hours=2)))):
            assert today() == date(2026, 2, 1)  # 00:30 at UTC+2 is still 1 February in UTC
        assert today() == date(2026, 1, 15)
    assert today() == outside


# --- SPEC §19 example 7 ----------------------------------------------------------------------------

JANUARY = date(2026, 1, 1)


@pytest.mark.parametrize(("grace", "day", "closes"), [
    (1, date(2026, 1, 15), False),  # the period is still running
    (1, date(2026, 1, 31), False),
    (1, date(2026, 2, 1), False),  # ended, but inside the grace day
    (1, date(2026, 2, 2), True),  # end + 1
    (0, date(2026, 1, 31), False),
    (0, date(2026, 2, 1), True),  # end + 0
    (3, date(2026, 2, 3), False),
    (3, date(2026, 2, 4), True),
    (31, date(2026, 3, 3), False),
    (31, date(2026, 3, 4), True),  # 1 February + 31 days
])
async def test_a_monthly_period_closes_from_its_end_plus_the_grace_days(db: str, grace: int, day: date,
                                                                       closes: bool) -> None:
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1), grace=grace)
    with frozen_clock(day):
        if closes:
            invoice = await closing.close_period(org, contract, JANUARY)
            assert invoice.period_start == JANUARY
        else:
            before = await written()
            assert await refused(org, contract, JANUARY) == "PERIOD_NOT_ENDED periodStart"
            assert await refused(org, contract) == "PERIOD_NOT_ENDED contractId"
            assert await written() == before  # nothing written


async def test_on_15_january_january_cannot_close_and_the_default_grace_is_one_day(db: str) -> None:
    """SPEC §19 example 7, with the organization's default closeGraceDays (1)."""
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1))
    with frozen_clock(date(2026, 1, 15)):
        with pytest.raises(InvalidInput) as caught:
            await closing.close_period(org, contract)
        assert "may be closed from 2026-02-02" in caught.value.errors[0].message
    with frozen_clock(datetime(2026, 2, 1, 23, 59, 59, tzinfo=UTC)):
        assert await refused(org, contract) == "PERIOD_NOT_ENDED contractId"
    with frozen_clock(datetime(2026, 2, 2, tzinfo=UTC)):
        assert (await closing.close_period(org, contract)).period_start == JANUARY


async def test_a_closed_period_still_returns_its_invoice_whatever_the_day(db: str) -> None:
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1))
    with frozen_clock(date(2026, 2, 2)):
        invoice = await closing.close_period(org, contract, JANUARY)
    with frozen_clock(date(2026, 1, 20)):  # a clock set back: still no refusal of what is done
        assert (await closing.close_period(org, contract, JANUARY)).id == invoice.id
    assert await Invoice.all().count() == 1


async def test_other_refusals_keep_their_codes(db: str) -> None:
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1))
    with frozen_clock(date(2026, 1, 15)):
        assert await refused(org, contract, date(2026, 3, 1)) == "EARLIER_PERIOD_OPEN periodStart"
        assert await refused(org, contract, date(2026, 3, 2)) == "INVALID_PERIOD periodStart"


# --- the finding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("grace", "closed"), [(1, []), (0, [date(2026, 11, 1)])])
async def test_ten_retried_closes_on_1_december_bill_nothing_of_december_or_later(
        db: str, grace: int, closed: list[date]) -> None:
    """The finding: on 1 December, ``closePeriod`` without ``periodStart`` retried ten times made
    ten invoices (November, December, January, …). Now only what is due closes: November with
    closeGraceDays 0, nothing with 1; December's usage is still accepted afterwards."""
    org, contract = await monthly_contract(date(2026, 11, 1), date(2027, 11, 1), grace=grace)
    with frozen_clock(date(2026, 12, 1)):
        assert await record(org, contract, date(2026, 11, 30), "nov-30") == EventStatus.ACCEPTED
        outcomes = []
        for _ in range(10):
            try:
                outcomes.append((await closing.close_period(org, contract)).period_start.isoformat())
            except InvalidInput as exc:
                outcomes.append(exc.errors[0].code.value)
        assert outcomes == [d.isoformat() for d in closed] + ["PERIOD_NOT_ENDED"] * (10 - len(closed))
        assert sorted(await Invoice.all().values_list("period_start", flat=True)) == closed
        assert await Invoice.filter(period_start__gte=date(2026, 12, 1)).count() == 0
    with frozen_clock(date(2026, 12, 20)):
        assert await record(org, contract, date(2026, 12, 20), "dec-20") == EventStatus.ACCEPTED
    with frozen_clock(date(2027, 1, 2)):  # December closes when it is due, with its usage
        report = await closing.close_due_periods(org)
        assert report.failures == () and report.closed == 2 - len(closed)
        december = await Invoice.get(period_start=date(2026, 12, 1))
    assert (await InvoiceLine.get(invoice_id=december.id, type="USAGE")).amount == D("5.00")


# --- closeDuePeriods -------------------------------------------------------------------------------


@pytest.mark.parametrize(("grace", "today_", "as_of", "closed", "ran_as_of"), [
    (1, date(2026, 3, 15), date(2030, 1, 1), 2, date(2026, 3, 15)),  # a future asOf counts as today
    (1, date(2026, 3, 15), None, 2, date(2026, 3, 15)),  # no asOf: today
    (1, date(2026, 3, 15), date(2026, 3, 2), 2, date(2026, 3, 2)),  # February due from 2 March
    (1, date(2026, 3, 15), date(2026, 3, 1), 1, date(2026, 3, 1)),
    (1, date(2026, 2, 1), date(2026, 12, 31), 0, date(2026, 2, 1)),
    (0, date(2026, 2, 1), date(2026, 12, 31), 1, date(2026, 2, 1)),
    (5, date(2026, 3, 5), date(2030, 1, 1), 1, date(2026, 3, 5)),
    (5, date(2026, 3, 6), date(2030, 1, 1), 2, date(2026, 3, 6)),
    (1, date(2100, 1, 1), date(2100, 1, 1), 12, date(2100, 1, 1)),
])
async def test_due_periods_close_in_order_up_to_asof_never_beyond_today(
        db: str, grace: int, today_: date, as_of: date | None, closed: int, ran_as_of: date) -> None:
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1), grace=grace)
    with frozen_clock(today_):
        due = await closing.due_periods(org, as_of)
        report = await closing.close_due_periods(org, as_of)
    assert [start for _, start in due] == [date(2026, m, 1) for m in range(1, closed + 1)]
    assert (report.closed, report.failures, report.as_of) == (closed, (), ran_as_of)
    assert sorted(await Invoice.all().values_list("period_start", flat=True)) == [
        date(2026, m, 1) for m in range(1, closed + 1)]


async def test_a_future_asof_leaves_the_running_period_open_for_its_usage(db: str) -> None:
    org, contract = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1))
    with frozen_clock(date(2026, 3, 15)):
        await closing.close_due_periods(org, date(2026, 12, 31))
        assert await BillingPeriod.filter(status="CLOSED").count() == 2
        assert await record(org, contract, date(2026, 3, 20), "mar-20") == EventStatus.ACCEPTED


# --- the command line ------------------------------------------------------------------------------


async def test_the_cli_closes_only_what_is_due_by_today_and_says_so(db: str, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli
    from app.db import config
    from app.settings import load_settings

    async def noop(*_: object) -> None:
        return None

    monkeypatch.setattr(config, "init_db", noop)  # the test's database is already open
    monkeypatch.setattr(config, "close_db", noop)
    org, _ = await monthly_contract(date(2026, 1, 1), date(2027, 1, 1))
    with frozen_clock(date(2026, 3, 15)):
        assert await cli._close_due(load_settings(), date(2030, 1, 1), [org]) == 0
        out = capsys.readouterr().out
        assert "--as-of 2030-01-01 is after today: closing what is due by today, 2026-03-15" in out
        assert f"organization {org}: 2 closed, 0 failed (due by 2026-03-15)" in out
        assert await cli._close_due(load_settings(), None, [org]) == 0  # no --as-of: today
        assert f"organization {org}: 0 closed, 0 failed (due by 2026-03-15)" in capsys.readouterr().out
    assert sorted(await Invoice.all().values_list("period_start", flat=True)) == [date(2026, 1, 1), date(2026, 2, 1)]


@pytest.mark.parametrize(("argv", "as_of"), [([], None), (["--as-of", "2026-04-02"], date(2026, 4, 2))])
def test_the_cli_as_of_is_optional(monkeypatch: pytest.MonkeyPatch, argv: list[str], as_of: date | None) -> None:
    from app import cli

    seen: list[object] = []
    monkeypatch.setattr(cli, "cmd_close_due", lambda _settings, day, orgs: seen.append((day, orgs)))
    cli.main(["close-due-periods", *argv, "--org", "7"])
    assert seen == [(as_of, [7])]
