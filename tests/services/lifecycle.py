"""Builders for money-lifecycle tests: a real draft, activated and closed through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from app.billing.terms import CommitmentType, DrawdownOrder, Frequency, PaymentTiming, PricingModel, ProductKind, RampStep
from app.db.models import Contract, UsageEvent
from app.services import accounts, balances, contracts, products
from app.services.activation import activate_contract
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec

D = Decimal
YEAR = (date(2026, 1, 1), date(2027, 1, 1))


@dataclass
class Setup:
    org_id: int
    account_id: int
    contract_id: int
    mb: int
    gb: int
    sim: int


async def catalog(org_id: int) -> tuple[int, int, int]:
    """The usage classes sms-mo-mb and data-gb and the service sim-a."""
    made = []
    for code, kind, unit in (("sms-mo-mb", ProductKind.USAGE_CLASS, "MB"), ("data-gb", ProductKind.USAGE_CLASS, "GB"),
                             ("sim-a", ProductKind.SERVICE, "SIM")):
        made.append((await products.create_product(org_id, products.ProductSpec(code, code, kind, unit))).id)
    return made[0], made[1], made[2]


def spend(name: str, payment: PaymentTiming, amount: str, frequency: Frequency = Frequency.MONTHLY,
          **extra: object) -> CommitmentSpec:
    return CommitmentSpec(name=name, type=CommitmentType.SPEND, frequency=frequency, payment=payment,
                          ramp=(RampStep(1, D(amount)),), **extra)  # type: ignore[arg-type]


async def active_contract(org_id: int, *commitments: CommitmentSpec | None, mb_price: str = "1.00",
                          drawdown: DrawdownOrder | None = None, balance: str | None = None,
                          sims: int = 0, usage_commitments: bool = False) -> Setup:
    """A monthly GBP contract for 2026 pricing sms-mo-mb at ``mb_price`` per MB, activated.

    ``usage_commitments`` adds a monthly USAGE commitment of 1,000 GB and an AVERAGE_USAGE
    commitment of 10 MB per SIM (with ``sims`` SIM lines at £5)."""
    mb, gb, sim = await catalog(org_id)
    account = await accounts.create_account(org_id, accounts.AccountSpec(name="Acme", drawdown_order=drawdown))
    if balance is not None:
        await balances.create_balance(org_id, balances.BalanceSpec(account.id, "Sign-up credit", "GBP", D(balance),
                                                                    *YEAR))
    specs = [c for c in commitments if c is not None]
    if usage_commitments:
        specs += [
            CommitmentSpec(name="Data volume", type=CommitmentType.USAGE, frequency=Frequency.MONTHLY,
                           usage_class_id=gb, ramp=(RampStep(1, D(1000)),)),
            CommitmentSpec(name="Average per SIM", type=CommitmentType.AVERAGE_USAGE, frequency=Frequency.MONTHLY,
                           usage_class_id=mb, service_id=sim, ramp=(RampStep(1, D(10)),)),
        ]
    contract = await contracts.create_contract(org_id, ContractSpec(
        account_id=account.id, name="Lifecycle", currency="GBP", start_date=YEAR[0], end_date=YEAR[1],
        billing_frequency=Frequency.MONTHLY,
        prices=(PriceSpec(mb, PricingModel.PER_UNIT, D(mb_price)), PriceSpec(gb, PricingModel.PER_UNIT, D("0.02"))),
        service_lines=tuple(ServiceLineSpec(sim, D(1), D(5), external_id=f"4477009000{i:02d}") for i in range(sims)),
        commitments=tuple(specs),
    ))
    await activate_contract(org_id, contract.id)
    return Setup(org_id, account.id, contract.id, mb, gb, sim)


_events = iter(range(1, 10**9))


async def use(s: Setup, usage_class_id: int, quantity: str, day: date) -> None:
    """One usage event on ``day`` (inserted with the ORM, as the recording service would)."""
    await UsageEvent.create(
        organization_id=s.org_id, contract_id=s.contract_id, usage_class_id=usage_class_id, quantity=D(quantity),
        occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC), day=day,
        idempotency_key=f"evt-{next(_events)}",
    )


async def contract_row(s: Setup) -> Contract:
    return await Contract.get(id=s.contract_id)
