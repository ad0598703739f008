"""The month-end data set: many ACTIVE monthly contracts and a month of usage, loaded fast.

``build_month_end(db, contracts, events)`` (``db``: a database URL, or None for the Tortoise
connection already open) makes one organization with 5 usage classes and ``contracts`` ACTIVE
monthly contracts for 2026, each with its own account, 5 per-unit prices and 3 commitments: a
monthly USAGE commitment on class 0, a monthly prepaid SPEND commitment (fee 100) and a monthly
postpaid SPEND commitment (300) with a minimum-charge penalty. ``events`` usage events are spread
evenly over the contracts, the classes and January 2026.

How: one template contract goes through the services (``create_contract``, ``activate_contract``:
so its periods, windows, pools and ledger are exactly what the service makes); it is then copied
``contracts - 1`` times row by row with new ids (every foreign key to a copied row re-pointed, the
pool keys re-written with the copy's commitment id): COPY on PostgreSQL, ``executemany`` on SQLite.
The events go in the same way. Nothing of this goes through the service, so the data loads in
seconds; ``ANALYZE`` runs at the end on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from tortoise.models import Model

from app.billing.terms import CommitmentType, Frequency, PaymentTiming, Penalty, PenaltyKind, RampStep
from app.clock import utc_now
from app.db.models import (
    Account,
    BillingPeriod,
    Commitment,
    CommitmentProduct,
    CommitmentWindow,
    Contract,
    CreditPool,
    FeeDate,
    LedgerEntry,
    PenaltyTier,
    Price,
    PriceTier,
    RampStep as RampRow,
    ServiceLine,
)
from app.db.models import Penalty as PenaltyRow
from app.services import accounts, activation
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec
from bench.common import USAGE_COLUMNS, YEAR, client, is_postgres, per_unit_prices, usage_classes

MONTH = (date(2026, 1, 1), date(2026, 2, 1))
CLASSES = 5
# Parents before children: a copy's foreign keys point at rows copied before it.
COPIED: tuple[type[Model], ...] = (
    Account, Contract, Price, PriceTier, ServiceLine, Commitment, CommitmentProduct, RampRow, FeeDate, PenaltyRow,
    PenaltyTier, BillingPeriod, CommitmentWindow, CreditPool, LedgerEntry,
)
ROWS_PER_STATEMENT = 50_000


@dataclass(frozen=True)
class MonthEnd:
    org_id: int
    contract_ids: list[int]
    classes: list[int]
    events: int


async def build_month_end(db: str | None, contracts: int, events: int) -> MonthEnd:
    """Build the data set (module docstring) on ``db`` (a URL: Tortoise is opened on it and closed
    after) or on the connection already open (None)."""
    from app.db.config import close_db, init_db

    if db is not None:
        await init_db(db)
    try:
        org, _ = await create_organization("Month end", "USD")
        classes = await usage_classes(org.id, CLASSES)
        template = await _template(org.id, classes)
        await _copy(org.id, contracts - 1)
        ids = sorted(await Contract.filter(organization_id=org.id).values_list("id", flat=True))
        assert ids[0] == template and len(ids) == contracts, (template, len(ids))
        await _load(USAGE_COLUMNS, "usage_event", _events(org.id, ids, classes, events))
        if is_postgres():
            await client().execute_script("ANALYZE")
        return MonthEnd(org.id, ids, classes, events)
    finally:
        if db is not None:
            await close_db()


async def _template(org_id: int, classes: list[int]) -> int:
    account = await accounts.create_account(org_id, accounts.AccountSpec(name="Template"))
    contract = await create_contract(org_id, ContractSpec(
        account_id=account.id, name="Month end", currency="USD", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=Frequency.MONTHLY, prices=per_unit_prices(classes, "0.05"),
        commitments=(
            CommitmentSpec(name="Usage", type=CommitmentType.USAGE, frequency=Frequency.MONTHLY,
                           usage_class_id=classes[0], ramp=(RampStep(1, D(40)),)),
            CommitmentSpec(name="Prepaid", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                           payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(100)),), amount_prepaid=D(1200)),
            CommitmentSpec(name="Postpaid", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
                           payment=PaymentTiming.POSTPAID, ramp=(RampStep(1, D(300)),),
                           penalties=(Penalty(PenaltyKind.CHARGE, amount=D(50)),)),
        )))
    await activation.activate_contract(org_id, contract.id)
    return contract.id


def _p(i: int) -> str:
    return f"${i}" if is_postgres() else "?"


async def _copy(org_id: int, copies: int) -> None:
    """Copy every row of the template ``copies`` times (module docstring)."""
    db = client()
    rows: dict[str, list[dict[str, Any]]] = {}
    base: dict[str, int] = {}
    for model in COPIED:
        table = model._meta.db_table
        _, found = await db.execute_query(f"SELECT * FROM {table} WHERE organization_id = {_p(1)} ORDER BY id",
                                          [org_id])
        rows[table] = [dict(r) for r in found]
        _, top = await db.execute_query(f"SELECT COALESCE(MAX(id), 0) AS top FROM {table}")
        base[table] = int(top[0]["top"])
    index = {t: {r["id"]: j for j, r in enumerate(rs)} for t, rs in rows.items()}

    def new_id(table: str, old: int, copy: int) -> int:
        return base[table] + copy * len(rows[table]) + index[table][old] + 1

    for model in COPIED:
        table = model._meta.db_table
        if not rows[table]:
            continue
        fks = {}
        for name in model._meta.fk_fields:
            field = model._meta.fields_map[name]
            target = field.related_model._meta.db_table
            if target in index:
                fks[field.source_field or f"{name}_id"] = target
        columns = list(rows[table][0])

        def copied(table: str = table, fks: dict[str, str] = fks, columns: list[str] = columns) -> Iterator[tuple]:
            for copy in range(copies):
                for row in rows[table]:
                    out = dict(row, id=new_id(table, row["id"], copy))
                    for column, target in fks.items():
                        if out[column] is not None:
                            out[column] = new_id(target, out[column], copy)
                    if table == CreditPool._meta.db_table and out["commitment_id"] is not None:
                        kind, _, window = out["key"].split(":")
                        out["key"] = f"{kind}:{out['commitment_id']}:{window}"
                    yield tuple(out[c] for c in columns)

        await _load(columns, table, copied())
        if is_postgres():
            await db.execute_query(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT MAX(id) FROM {table}))")


def _events(org_id: int, contracts: Sequence[int], classes: Sequence[int], events: int) -> Iterator[tuple]:
    """``events`` usage events spread over the contracts, the classes and the month's seconds."""
    start = datetime(*MONTH[0].timetuple()[:3], tzinfo=UTC)
    seconds = int((MONTH[1] - MONTH[0]).total_seconds())
    now = utc_now()
    for n in range(events):
        at = start + timedelta(seconds=(n * 7919) % seconds)
        quantity = D(f"{(n % 97) + 1}.{n % 1000:03d}")
        yield (org_id, contracts[n % len(contracts)], classes[(n // len(contracts)) % len(classes)], quantity, at,
               at.date(), f"m-{n:09d}", None, now)


async def _load(columns: Sequence[str], table: str, records: Iterator[tuple]) -> None:
    """Insert ``records``: COPY on PostgreSQL, executemany in one transaction on SQLite."""
    db = client()
    batch: list[tuple] = []
    for record in records:
        batch.append(record)
        if len(batch) >= ROWS_PER_STATEMENT:
            await _flush(db, columns, table, batch)
            batch = []
    if batch:
        await _flush(db, columns, table, batch)


async def _flush(db: Any, columns: Sequence[str], table: str, batch: list[tuple]) -> None:
    async with db.acquire_connection() as con:
        if is_postgres():
            await con.copy_records_to_table(table, records=batch, columns=list(columns))
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        await con.execute("BEGIN")
        await con.executemany(sql, batch)
        await con.commit()
