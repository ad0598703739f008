"""Period close: ``close_period`` over ~100k usage events vs the bare SQL aggregate of those events.

Set-up: one ACTIVE monthly contract with 10 usage classes (per-unit prices), a prepaid annual SPEND
commitment and a postpaid monthly SPEND ramp with a minimum-charge penalty; each of the first
``reps`` months gets ``events`` usage events spread over its days and the 10 classes, inserted
with the driver's raw executemany (not measured).
Measured: ``app.services.closing.close_period`` of one month (rating, drawdown, windows, invoice,
ledger, all in one transaction); one sample per month closed, median kept.
Floor: the bare aggregate over the same month's rows,
``SELECT usage_class_id, SUM(quantity) ... GROUP BY usage_class_id``, median of 5 runs just before
that month is closed. On SQLite both use app.db.aggregates' exact ``decimal_sum`` (SQLite's own
SUM is floating point, which the service must not use); plain SUM is printed for reference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from app.billing.terms import CommitmentType, Frequency, PaymentTiming, Penalty, PenaltyKind, RampStep
from app.clock import utc_now
from app.db.aggregates import exact
from app.db.models import PeriodUsage, Product
from app.services import accounts, activation, closing
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec
from bench.common import (
    MONTHLY,
    YEAR,
    Result,
    client,
    fresh_database,
    is_postgres,
    median,
    per_unit_prices,
    raw_executemany,
    say,
    timed,
    usage_classes,
    usage_insert_sql,
)

CHUNK = 10_000
FLOOR_RUNS = 5


async def _setup() -> tuple[int, int, list[int]]:
    org, _ = await create_organization("Bench close", "USD")
    classes = await usage_classes(org.id, 10)
    account = await accounts.create_account(org.id, accounts.AccountSpec(name="Closer"))
    contract = await create_contract(org.id, ContractSpec(
        account_id=account.id, name="Close", currency="USD", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=MONTHLY, prices=per_unit_prices(classes, "0.01"),
        commitments=(
            CommitmentSpec(name="Prepaid annual", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
                           payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(120000)),),
                           overage_surcharge_percent=D(10)),
            CommitmentSpec(name="Postpaid ramp", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                           payment=PaymentTiming.POSTPAID, ramp=(RampStep(1, D(5000)), RampStep(4, D(8000))),
                           penalties=(Penalty(PenaltyKind.CHARGE, amount=D(6000)),)),
        )))
    await activation.activate_contract(org.id, contract.id)
    return org.id, contract.id, classes


async def _fill(org: int, contract: int, classes: list[int], month: int, events: int) -> None:
    start = datetime(2026, month, 1, tzinfo=UTC)
    seconds = ((datetime(2026, month + 1, 1, tzinfo=UTC) if month < 12 else datetime(2027, 1, 1, tzinfo=UTC))
               - start).total_seconds()
    now, sql = utc_now(), usage_insert_sql()
    rows = []
    for n in range(events):
        at = start + timedelta(seconds=int(n * seconds / events))
        quantity = D(f"{(n % 997) + 1}.{n % 1000:03d}000000001")  # 12 places: not exact as a float
        rows.append((org, contract, classes[n % len(classes)], quantity, at, at.date(), f"m{month}-{n:08d}",
                     None, now))
    for i in range(0, len(rows), CHUNK):
        await raw_executemany(sql, rows[i:i + CHUNK])


def _aggregate_sql(total: str) -> str:
    p = (lambda i: f"${i}") if is_postgres() else (lambda i: "?")
    return (f"SELECT usage_class_id, {total}(quantity) AS total FROM usage_event"
            f" WHERE organization_id = {p(1)} AND contract_id = {p(2)} AND day >= {p(3)} AND day < {p(4)}"
            " GROUP BY usage_class_id")


async def _aggregate(sql: str, values: list) -> dict[int, D]:
    _, rows = await client().execute_query(sql, values)
    return {int(r["usage_class_id"]): exact(r["total"]) for r in rows}


async def run(db: str, quick: bool) -> Result:
    events, reps = (20_000, 2) if quick else (100_000, 3)
    async with fresh_database(db):
        org, contract, classes = await _setup()
        fill_seconds = 0.0
        for month in range(1, reps + 1):
            seconds, _ = await timed(lambda: _fill(org, contract, classes, month, events))
            fill_seconds += seconds
        say(f"inserted {reps} x {events:,} events with executemany: {reps * events / fill_seconds:,.0f} rows/s")
        exact_sql = _aggregate_sql("SUM" if is_postgres() else "decimal_sum")
        plain_sql = _aggregate_sql("SUM")
        measured, floor, plain = [], [], []
        codes = dict(await Product.filter(organization_id=org).values_list("id", "code"))
        for month in range(1, reps + 1):
            span = [org, contract, date(2026, month, 1), date(2026, month + 1, 1)]
            await _aggregate(exact_sql, span)  # warm the pages this month's rows live in
            runs = []
            for _ in range(FLOOR_RUNS):
                seconds, totals = await timed(lambda: _aggregate(exact_sql, span))
                runs.append(seconds)
            floor.append(median(runs))
            if not is_postgres():
                plain.append(median([(await timed(lambda: _aggregate(plain_sql, span)))[0] for _ in range(3)]))
            seconds, invoice = await timed(lambda: closing.close_period(org, contract))
            measured.append(seconds)
            stored = {u.usage_class: exact(u.quantity) for u in await PeriodUsage.filter(
                organization_id=org, billing_period__contract_id=contract,
                billing_period__number=month)}
            if stored != {codes[c]: t for c, t in totals.items()} or len(totals) != len(classes):
                raise AssertionError(f"month {month}: the close kept {stored}, the aggregate says {totals}")
            say(f"month {month}: close_period {seconds * 1000:.0f} ms (invoice total {invoice.total}), "
                f"aggregate {floor[-1] * 1000:.1f} ms")
        result = Result(f"period close ({events // 1000}k events)", db, median(measured), median(floor))
        if plain:
            result.notes.append(f"SQLite plain (floating-point) SUM for reference: {median(plain) * 1000:.1f} ms; "
                                f"exact decimal_sum {result.floor * 1000:.1f} ms")
        result.notes.append(f"close_period {result.measured * 1000:.0f} ms vs bare aggregate "
                            f"{result.floor * 1000:.1f} ms: {result.ratio:.1f}x")
        return result
