"""Builders for the batched-close tests: organizations of contracts closed both ways, and snapshots
of everything a close writes, keyed by natural keys so two closes of the same data compare."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.billing.terms import CommitmentType, Frequency, PaymentTiming, Penalty, PenaltyKind, PricingModel, ProductKind, RampStep
from app.db.models import (
    BillingPeriod,
    CommitmentWindow,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    OneTimeCharge,
    PeriodUsage,
    RatedCharge,
    UsageEvent,
)
from app.services import accounts, balances, products
from app.services.activation import activate_contract
from app.services.contracts import create_contract
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec

D = Decimal
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


class Org:
    def __init__(self, org_id: int, mb: int, gb: int, sim: int) -> None:
        self.id, self.mb, self.gb, self.sim = org_id, mb, gb, sim
        self.contracts: list[int] = []
        self._event = 0

    async def use(self, contract_id: int, usage_class_id: int, quantity: str, day: date) -> None:
        self._event += 1
        await UsageEvent.create(
            organization_id=self.id, contract_id=contract_id, usage_class_id=usage_class_id, quantity=D(quantity),
            occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC), day=day,
            idempotency_key=f"evt-{self._event}")


async def new_org(name: str) -> Org:
    org, _ = await create_organization(name, "GBP")
    ids = []
    for code, kind, unit in (("sms-mo-mb", ProductKind.USAGE_CLASS, "MB"), ("data-gb", ProductKind.USAGE_CLASS, "GB"),
                             ("sim-a", ProductKind.SERVICE, "SIM")):
        ids.append((await products.create_product(org.id, products.ProductSpec(code, code, kind, unit))).id)
    return Org(org.id, *ids)


def spend(name: str, payment: PaymentTiming, amount: str, frequency: Frequency = Frequency.MONTHLY,
          **extra: Any) -> CommitmentSpec:
    return CommitmentSpec(name=name, type=CommitmentType.SPEND, frequency=frequency, payment=payment,
                          ramp=(RampStep(1, D(amount)),), **extra)


async def add_contract(org: Org, account_id: int, *commitments: CommitmentSpec, end: date = date(2027, 1, 1),
                       sims: int = 0) -> int:
    contract = await create_contract(org.id, ContractSpec(
        account_id=account_id, name=f"C{len(org.contracts)}", currency="GBP", start_date=JAN, end_date=end,
        billing_frequency=Frequency.MONTHLY,
        prices=(PriceSpec(org.mb, PricingModel.PER_UNIT, D("1.00")), PriceSpec(org.gb, PricingModel.PER_UNIT, D("0.02"))),
        service_lines=tuple(ServiceLineSpec(org.sim, D(1), D(5), external_id=f"sim-{len(org.contracts)}-{i}")
                            for i in range(sims)),
        commitments=commitments))
    await activate_contract(org.id, contract.id)
    org.contracts.append(contract.id)
    return contract.id


async def account(org: Org, name: str, balance: str | None = None) -> int:
    acct = await accounts.create_account(org.id, accounts.AccountSpec(name=name))
    if balance is not None:
        await balances.create_balance(org.id, balances.BalanceSpec(acct.id, "Credit", "GBP", D(balance), JAN,
                                                                    date(2027, 1, 1)))
    return acct.id


async def varied_org(name: str) -> Org:
    """Contracts of every shape the close handles: a balance shared by two contracts of one account
    (drawn by both, so the order they draw in shows), prepaid and postpaid pools with a penalty,
    USAGE and AVERAGE_USAGE commitments, a one-time charge, a contract ending in February."""
    org = await new_org(name)
    shared = await account(org, "Shared", balance="150")
    a1 = await add_contract(org, shared, spend("Prepaid", PaymentTiming.PREPAID, "100", amount_prepaid=D(1200)),
                            spend("Postpaid", PaymentTiming.POSTPAID, "300",
                                  penalties=(Penalty(PenaltyKind.CHARGE, amount=D(50)),)))
    a2 = await add_contract(org, shared, CommitmentSpec(
        name="Data volume", type=CommitmentType.USAGE, frequency=Frequency.MONTHLY, usage_class_id=org.gb,
        ramp=(RampStep(1, D(1000)),)), CommitmentSpec(
        name="Average per SIM", type=CommitmentType.AVERAGE_USAGE, frequency=Frequency.MONTHLY,
        usage_class_id=org.mb, service_id=org.sim, ramp=(RampStep(1, D(10)),)), sims=2)
    ending = await add_contract(org, await account(org, "Ending", balance="20"),
                                spend("Quarterly", PaymentTiming.POSTPAID, "90", Frequency.QUARTERLY),
                                end=date(2026, 2, 15))
    plain = await add_contract(org, await account(org, "Plain"))
    for month, day in ((1, 10), (2, 12)):
        await org.use(a1, org.mb, "130.5", date(2026, month, day))
        await org.use(a2, org.mb, "7", date(2026, month, day))
        await org.use(a2, org.gb, "900", date(2026, month, day))
        await org.use(a2, org.mb, "60", date(2026, month, day + 1))
        await org.use(ending, org.mb, "25", date(2026, month, day))
        await org.use(plain, org.mb, "3.25", date(2026, month, day))
    await OneTimeCharge.create(organization_id=org.id, contract_id=a1, product_id=org.sim, amount=D("40"),
                               service_date=date(2026, 1, 20), description="Set-up", idempotency_key="otc-1", seq=1)
    return org


def two_months(org: Org) -> list[tuple[int, date]]:
    """Every contract's January and February, in closing order (the ending contract's February is its last)."""
    return [(cid, start) for cid in org.contracts for start in (JAN, FEB)]


async def snapshot(org_id: int) -> dict[str, Any]:
    """Everything a close writes, by natural keys (no ids of rows a close creates)."""
    invoices = {i.id: i.billing_period_id for i in await Invoice.filter(organization_id=org_id)}
    pools = {p.id: p.key for p in await CreditPool.filter(organization_id=org_id)}
    return {
        "invoices": sorted((i.billing_period_id, i.number, i.currency, i.period_start, i.period_end,
                            i.charges_subtotal, i.drawdown_total, i.total)
                           for i in await Invoice.filter(organization_id=org_id)),
        "lines": sorted((invoices[x.invoice_id], x.position, x.type, x.amount, x.description, x.product, x.quantity,
                         x.unit_amount, x.service_start, x.service_end, x.charge_key, x.commitment_id,
                         pools.get(x.pool_id), x.window_number)
                        for x in await InvoiceLine.filter(organization_id=org_id)),
        "entries": [(pools[e.pool_id], e.kind, e.amount, e.on_date, e.charge_key, e.note,
                     invoices.get(e.invoice_id), e.credited_entry_id)
                    for e in await LedgerEntry.filter(organization_id=org_id).order_by("id")],
        "pools": sorted((p.key, p.kind, p.account_id, p.contract_id, p.commitment_id, p.balance_source_id, p.currency,
                         p.valid_start, p.valid_end, p.priority, tuple(p.eligible_charge_types),
                         tuple(p.eligible_products), p.window_number, p.rolled_over, p.seq, p.balance)
                        for p in await CreditPool.filter(organization_id=org_id)),
        "charges": sorted((r.billing_period_id, r.contract_id, r.key, r.type, r.product, r.amount, r.service_start,
                           r.service_end, r.quantity, r.unit_amount, r.seq)
                          for r in await RatedCharge.filter(organization_id=org_id)),
        "usage": sorted((u.billing_period_id, u.contract_id, u.usage_class, u.quantity)
                        for u in await PeriodUsage.filter(organization_id=org_id)),
        "windows": sorted((w.id, w.settled, w.measured, w.shortfall)
                          for w in await CommitmentWindow.filter(organization_id=org_id)),
        "periods": sorted(await BillingPeriod.filter(organization_id=org_id).values_list("id", "status")),
        "contracts": sorted(await Contract.filter(organization_id=org_id).values_list("id", "status")),
    }
