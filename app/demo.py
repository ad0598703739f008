"""The embedded default's organization and demo data (the seeds' examples as draft contracts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.billing.terms import (
    ChargeType,
    CommitmentType,
    Frequency,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PricingModel,
    ProductKind,
    RampStep,
)
from app.db.config import close_db, init_db
from app.services import accounts, activation, balances, closing, contracts, products, usage
from app.services.organizations import authenticate, create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
from app.services.usage import UsageEventSpec
from app.settings import Settings

KEY_FILE = "api-key.txt"


async def ensure_embedded_org(settings: Settings) -> str:
    """The embedded organization's API key: read from the data folder, or created (with demo data)."""
    key_path = settings.data_dir / KEY_FILE
    await init_db(settings.database_url)
    try:
        if key_path.exists():
            key = key_path.read_text().strip()
            if await authenticate(key) is not None:
                return key
        org, key = await create_organization("Demo Telecom", "GBP")
        key_path.parent.mkdir(parents=True, exist_ok=True)
        key_path.write_text(key + "\n")
        key_path.chmod(0o600)
        if settings.demo:
            await seed_demo(org.id)
        return key
    finally:
        await close_db()


async def seed_demo(org_id: int) -> None:
    """Products, an account, the seeds' stories (SPEC §11) as contracts, and a closed quarter."""
    mb = await products.create_product(org_id, products.ProductSpec("sms-mo-mb", "SMS MO data", ProductKind.USAGE_CLASS, "MB"))
    gb = await products.create_product(org_id, products.ProductSpec("data-gb", "Mobile data", ProductKind.USAGE_CLASS, "GB"))
    sim = await products.create_product(org_id, products.ProductSpec("sim-a", "SIM A", ProductKind.SERVICE, "SIM"))
    await products.create_product(org_id, products.ProductSpec(
        "package-a", "Package A", ProductKind.PACKAGE, "package", (products.PackageItemSpec(sim.id, D(1)),)))
    acme = await accounts.create_account(org_id, accounts.AccountSpec(name="Acme Logistics", external_id="acme"))
    year = (date(2026, 1, 1), date(2027, 1, 1))
    ramp = await contracts.create_contract(org_id, ContractSpec(
        account_id=acme.id, name="Ramp £10k/£20k/£30k with a minimum charge", currency="GBP",
        start_date=year[0], end_date=year[1], billing_frequency=Frequency.MONTHLY,
        prices=(PriceSpec(gb.id, PricingModel.PER_UNIT, D("2.50")),),
        commitments=(CommitmentSpec(
            name="Monthly spend ramp", type=CommitmentType.SPEND, frequency=Frequency.MONTHLY,
            payment=PaymentTiming.POSTPAID,
            ramp=(RampStep(1, D(10000)), RampStep(5, D(20000)), RampStep(9, D(30000))),
            penalties=(Penalty(PenaltyKind.CHARGE, amount=D(5000)),),
        ),),
    ))
    await contracts.create_contract(org_id, ContractSpec(
        account_id=acme.id, name="Data 1/2/3 TB ramp", currency="GBP", start_date=year[0], end_date=year[1],
        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(gb.id, PricingModel.PER_UNIT, D("0.02")),),
        commitments=(CommitmentSpec(
            name="Data volume ramp", type=CommitmentType.USAGE, frequency=Frequency.MONTHLY, usage_class_id=gb.id,
            ramp=(RampStep(1, D(1000)), RampStep(4, D(2000)), RampStep(7, D(3000))),
            penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),),
        ),),
    ))
    await contracts.create_contract(org_id, ContractSpec(
        account_id=acme.id, name="Average 10 MB per SIM", currency="GBP", start_date=year[0], end_date=year[1],
        billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(mb.id, PricingModel.PER_UNIT, D("0.10")),),
        service_lines=(ServiceLineSpec(sim.id, D(1), D(5), external_id="447700900001"),
                       ServiceLineSpec(sim.id, D(1), D(5), external_id="447700900002")),
        commitments=(CommitmentSpec(
            name="Average usage per SIM", type=CommitmentType.AVERAGE_USAGE, frequency=Frequency.MONTHLY,
            usage_class_id=mb.id, service_id=sim.id, ramp=(RampStep(1, D(10)),),
            penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.50")),),
        ),),
    ))
    prepaid = await contracts.create_contract(org_id, ContractSpec(
        account_id=acme.id, name="Annual prepayment billed monthly", currency="GBP", start_date=year[0],
        end_date=year[1], billing_frequency=Frequency.MONTHLY,
        prices=(PriceSpec(mb.id, PricingModel.PER_UNIT, D("1.00")),),
        commitments=(CommitmentSpec(
            name="Annual prepaid £12,000", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
            payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(12000)),), overage_surcharge_percent=D(10),
            eligible_charge_types=(ChargeType.USAGE,),
        ),),
    ))
    await balances.create_balance(org_id, balances.BalanceSpec(
        account_id=acme.id, name="Sign-up credit", currency="GBP", amount=D(500),
        start_date=year[0], end_date=year[1],
    ))
    await run_demo_months(org_id, ramp.id, prepaid.id)


async def run_demo_months(org_id: int, ramp_id: int, prepaid_id: int) -> None:
    """Activate two demo contracts, record a quarter of usage and close it: invoices to explore.

    The other two contracts stay drafts, to be edited and activated from GraphiQL.
    """
    for contract_id in (ramp_id, prepaid_id):
        await activation.activate_contract(org_id, contract_id)
    spend = {1: "4000", 2: "3400", 3: "5200"}  # GB at £2.50 against £10,000 a month
    events = [
        UsageEventSpec(quantity=gb, timestamp=f"2026-{m:02d}-15T12:00:00Z", idempotency_key=f"demo-ramp-{m}",
                       contract_id=ramp_id, usage_class_code="data-gb")
        for m, gb in spend.items()
    ] + [
        UsageEventSpec(quantity="1500", timestamp=f"2026-{m:02d}-10T08:00:00Z", idempotency_key=f"demo-mb-{m}",
                       contract_id=prepaid_id, usage_class_code="sms-mo-mb")
        for m in (1, 2, 3)
    ]
    await usage.record_usage(org_id, events)
    # as of 2 April 2026 (a day in the past): March [1 Mar, 1 Apr) is due from 1 April + 1 grace day
    await closing.close_due_periods(org_id, date(2026, 4, 2))
