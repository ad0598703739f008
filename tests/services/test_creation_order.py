"""Creation order through the services (SPEC §7): a contract bills the same whatever was created
before it, here or in another organization.

Database ids are the billing core's keys, as text. Sorted as text, "10" comes before "9" and
"1000" before "999", so a contract whose objects happened to get ids on either side of a digit
boundary used to bill differently from the same contract created earlier. This test creates one
contract again and again, each time after *k* unrelated rows chosen so that its two objects of
each kind get the ids (1, 2), (9, 10), (99, 100), (999, 1000) and (1001, 1002):

- two prepaid commitments, "A" then "B", whose pools tie on priority, end, rollover and products
  (so the one created first pays first), with surcharges of 12.5 % and 12.4 % on the overage of
  4.36: 0.545 → 0.55 if "A" is first in drawdown order, 0.54064 → 0.54 if "B" is;
- two balances of the account (tied: the older pays first);
- two service lines of the same service at 10.00 and 7.00 a month (the older is drawn first);
- two one-time charges of the same product, 3.00 and 4.36.

It closes January and the partial February (14 of 28 days) and compares the invoices, their lines
and the account's ledger, with ids mapped to what they name ("commitment A", "line 1" …), across
every *k*. The filler rows (commitments, service lines, one-time charges, balances) are written in
bulk, in the contract's own organization or in another one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any, NamedTuple

import pytest
from tortoise import connections

from app.billing.terms import (
    CommitmentType,
    DrawdownOrder,
    Frequency,
    PaymentTiming,
    PricingModel,
    ProductKind,
    RampStep,
)
from app.db.models import (
    Account,
    Balance,
    Commitment,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    OneTimeCharge,
    Product,
    ServiceLine,
    UsageEvent,
)
from app.services import accounts, balances, closing, products
from app.services.activation import activate_contract
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
from app.services.one_time_charges import OneTimeChargeSpec, post_charge

TERM = (date(2026, 1, 1), date(2026, 2, 15))
YEAR = (date(2026, 1, 1), date(2027, 1, 1))
FIRST_IDS = (1, 9, 99, 999, 1001)
"""The id the first object of each kind gets; the second gets the next one."""

FILLED = (Commitment, ServiceLine, OneTimeCharge, Balance)


async def restart_ids() -> None:
    """Start the ids of the filled tables at 1 again (they are empty: the ``db`` fixture emptied
    them, but their sequences go on from earlier tests)."""
    conn = connections.get("default")
    tables = [model._meta.db_table for model in FILLED]
    if conn.capabilities.dialect == "postgres":
        for table in tables:
            await conn.execute_query(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), 1, false)"
            )
        return
    _, rows = await conn.execute_query(
        "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"
    )
    if rows:
        names = ", ".join(f"'{table}'" for table in tables)
        await conn.execute_query(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")


class Filler:
    """Unrelated rows of one organization: a draft contract's commitments, service lines and
    one-time charges, and balances of another account."""

    def __init__(self, org_id: int, account_id: int, contract_id: int, product_id: int) -> None:
        self.org, self.account, self.contract, self.product = (
            org_id,
            account_id,
            contract_id,
            product_id,
        )
        self.made = 0

    @classmethod
    async def create(cls, org_id: int) -> Filler:
        account = await Account.create(organization_id=org_id, name="Someone else")
        product = await Product.create(
            organization_id=org_id, code="filler", name="filler", kind="SERVICE", unit="unit"
        )
        contract = await Contract.create(
            organization_id=org_id,
            account_id=account.id,
            name="Unrelated",
            currency="GBP",
            start_date=YEAR[0],
            end_date=YEAR[1],
            billing_frequency="MONTHLY",
        )
        return cls(org_id, account.id, contract.id, product.id)

    def row(self, model: type, n: int) -> Any:
        own = {"organization_id": self.org}
        if model is Commitment:
            return Commitment(
                **own,
                contract_id=self.contract,
                name=f"filler {n}",
                type="USAGE",
                frequency="MONTHLY",
                eligible_charge_types=[],
            )
        if model is ServiceLine:
            return ServiceLine(
                **own,
                contract_id=self.contract,
                product_id=self.product,
                quantity=D(1),
                start_date=YEAR[0],
            )
        if model is OneTimeCharge:
            return OneTimeCharge(
                **own,
                contract_id=self.contract,
                product_id=self.product,
                amount=D(1),
                service_date=YEAR[0],
                idempotency_key=f"filler-{self.org}-{n}",
            )
        return Balance(
            **own,
            account_id=self.account,
            name=f"filler {n}",
            currency="GBP",
            amount=D(1),
            start_date=YEAR[0],
            end_date=YEAR[1],
        )

    async def fill_up_to(self, first_id: int) -> int:
        """Write rows until the next id of every filled table is ``first_id``; returns *k*, the
        number of rows written before the contract's own (the same for every table here)."""
        written = set()
        for model in FILLED:
            top = await model.all().order_by("-id").first()
            count = first_id - (top.id + 1 if top else 1)
            assert count >= 0, f"{model.__name__}: the next id is already past {first_id}"
            await model.bulk_create([self.row(model, self.made + i) for i in range(count)])
            self.made += count
            written.add(count)
        return max(written)


async def the_contract(org_id: int, filler: Filler | None, first_id: int) -> tuple[int, int]:
    """The contract of the module docstring, its objects' ids starting at ``first_id``; closed."""
    mb = await products.create_product(
        org_id, products.ProductSpec("mb", "MB", ProductKind.USAGE_CLASS, "MB")
    )
    sim = await products.create_product(
        org_id, products.ProductSpec("sim-a", "SIM", ProductKind.SERVICE, "SIM")
    )
    setup = await products.create_product(
        org_id, products.ProductSpec("setup", "Setup", ProductKind.SERVICE, "fee")
    )
    account = await accounts.create_account(
        org_id, accounts.AccountSpec(name="Acme", drawdown_order=DrawdownOrder.COMMITMENT_FIRST)
    )
    if filler is not None:
        await filler.fill_up_to(first_id)
    made = [
        await balances.create_balance(
            org_id, balances.BalanceSpec(account.id, name, "GBP", D(5), *YEAR)
        )
        for name in ("Welcome", "Goodwill")
    ]

    def prepaid(name: str, percent: str) -> CommitmentSpec:
        return CommitmentSpec(
            name=name,
            type=CommitmentType.SPEND,
            frequency=Frequency.MONTHLY,
            payment=PaymentTiming.PREPAID,
            ramp=(RampStep(1, D(20)),),
            overage_surcharge_percent=D(percent),
        )

    contract = await create_contract(
        org_id,
        ContractSpec(
            account_id=account.id,
            name="Same every time",
            currency="GBP",
            start_date=TERM[0],
            end_date=TERM[1],
            billing_frequency=Frequency.MONTHLY,
            prices=(PriceSpec(mb.id, PricingModel.PER_UNIT, D("1.00")),),
            service_lines=(
                ServiceLineSpec(sim.id, D(1), D(10)),
                ServiceLineSpec(sim.id, D(1), D(7)),
            ),
            commitments=(prepaid("A", "12.5"), prepaid("B", "12.4")),
        ),
    )
    await activate_contract(org_id, contract.id)
    for n, (day, quantity) in enumerate(((date(2026, 1, 10), "30"), (date(2026, 2, 3), "10"))):
        await UsageEvent.create(
            organization_id=org_id,
            contract_id=contract.id,
            usage_class_id=mb.id,
            quantity=D(quantity),
            occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            day=day,
            idempotency_key=f"usage-{contract.id}-{n}",
        )
    charges = [
        (
            await post_charge(
                org_id, OneTimeChargeSpec(contract.id, setup.id, D(amount), day, f"setup-{n}")
            )
        )[0]
        for n, (amount, day) in enumerate((("3.00", date(2026, 1, 5)), ("4.36", date(2026, 1, 6))))
    ]
    ids = {
        "commitments": sorted(c.id for c in await Commitment.filter(contract_id=contract.id)),
        "service lines": sorted(s.id for s in await ServiceLine.filter(contract_id=contract.id)),
        "one-time charges": sorted(c.id for c in charges),
        "balances": sorted(b.id for b in made),
    }
    assert all(got == [first_id, first_id + 1] for got in ids.values()), (first_id, ids)
    for _ in range(2):
        await closing.close_period(org_id, contract.id)
    return contract.id, account.id


class Line(NamedTuple):
    type: str
    amount: D
    product: str | None
    quantity: D | None
    unit_amount: D | None
    service_start: date
    service_end: date
    charge: str | None
    commitment: str | None
    pool: str | None
    window_number: int | None
    description: str


def _masked(prose: str) -> str:
    """Descriptions and notes name ids and amounts; the structured fields compare those."""
    return re.sub(r"\d+", "#", prose)


async def billed(org_id: int, contract_id: int, account_id: int) -> dict[str, Any]:
    """Invoices, lines, ledger and pools of the contract, every id replaced by what it names."""
    commitments = {
        c.id: f"commitment {c.name}" for c in await Commitment.filter(contract_id=contract_id)
    }
    lines = {
        s.id: f"line {n}"
        for n, s in enumerate(
            sorted(await ServiceLine.filter(contract_id=contract_id), key=lambda s: s.id), start=1
        )
    }
    one_time = {
        c.id: f"charge {n}"
        for n, c in enumerate(
            sorted(await OneTimeCharge.filter(contract_id=contract_id), key=lambda c: c.id), start=1
        )
    }
    balance_names = {b.id: f"balance {b.name}" for b in await Balance.filter(account_id=account_id)}
    pools = await CreditPool.filter(organization_id=org_id, account_id=account_id)

    def pool_name(pool: CreditPool) -> str:
        if pool.balance_source_id is not None:
            return balance_names[pool.balance_source_id]
        return f"{pool.kind} of {commitments[pool.commitment_id]}, window {pool.window_number}"

    names = {p.id: pool_name(p) for p in pools}

    def charge(key: str | None) -> str | None:
        kind, _, rest = (key or "").partition(":")
        if kind == "recurring":
            return f"recurring {lines[int(rest)]}"
        if kind == "one_time":
            return f"one-time {one_time[int(rest)]}"
        return key

    invoices = await Invoice.filter(contract_id=contract_id).order_by("period_start")
    out: dict[str, Any] = {"invoices": [], "ledger": [], "pools": {}}
    for invoice in invoices:
        rows = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
        out["invoices"].append(
            (
                invoice.period_start,
                invoice.period_end,
                invoice.charges_subtotal,
                invoice.drawdown_total,
                invoice.total,
                [
                    Line(
                        r.type,
                        r.amount,
                        r.product,
                        r.quantity,
                        r.unit_amount,
                        r.service_start,
                        r.service_end,
                        charge(r.charge_key),
                        commitments.get(r.commitment_id),
                        names.get(r.pool_id),
                        r.window_number,
                        _masked(r.description),
                    )
                    for r in rows
                ],
            )
        )
    for entry in await LedgerEntry.filter(pool_id__in=list(names)).order_by("id"):
        out["ledger"].append(
            (
                names[entry.pool_id],
                entry.kind,
                entry.amount,
                entry.on_date,
                charge(entry.charge_key),
                _masked(entry.note),
            )
        )
    out["pools"] = {
        names[p.id]: (p.kind, p.seq, p.valid_start, p.valid_end, p.balance) for p in pools
    }
    return out


@pytest.mark.parametrize("filler_org", ["same organization", "another organization"])
async def test_a_contract_bills_the_same_whatever_ids_its_objects_get(
    db: str, filler_org: str
) -> None:
    await restart_ids()
    elsewhere = None
    if filler_org == "another organization":
        other, _ = await create_organization("Other tenant", "GBP")
        elsewhere = await Filler.create(other.id)
    results = {}
    for first_id in FIRST_IDS:
        org, _ = await create_organization(f"Seller {first_id}", "GBP")
        filler = elsewhere or await Filler.create(org.id)
        contract_id, account_id = await the_contract(org.id, filler, first_id)
        results[first_id] = await billed(org.id, contract_id, account_id)

    first = results[FIRST_IDS[0]]
    january = first["invoices"][0][5]
    # Drawn in creation order: "A" pays first; once both pools are empty, A's 12.5 % surcharges the
    # 4.36 left owing on the second one-time charge: 0.545 → 0.55.
    assert [(ln.amount, ln.charge, ln.pool) for ln in january if ln.type == "DRAWDOWN"] == [
        (D(-20), "usage:mb", "PREPAID of commitment A, window 1"),
        (D(-10), "usage:mb", "PREPAID of commitment B, window 1"),
        (D(-10), "recurring line 1", "PREPAID of commitment B, window 1"),
        (D(-5), "recurring line 2", "balance Welcome"),
        (D(-2), "recurring line 2", "balance Goodwill"),
        (D(-3), "one-time charge 1", "balance Goodwill"),
    ]
    assert [
        (ln.amount, ln.charge, ln.commitment) for ln in january if ln.type == "OVERAGE_SURCHARGE"
    ] == [(D("0.55"), "one-time charge 2", "commitment A")]
    differ = [f"{i} and {i + 1}" for i, result in results.items() if result != first]
    assert differ == [], (
        f"the contracts whose objects got the ids {differ} billed differently from ids 1 and 2"
    )
    for result in results.values():
        assert result == first
