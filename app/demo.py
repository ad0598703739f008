"""The embedded default's organization and demo data (the seeds' examples as draft contracts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.billing.terms import (
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
from app.services import accounts, balances, contracts, products
from app.services.organizations import authenticate, create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
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
    """Products, an account, and draft contracts for the seeds' stories (SPEC §11)."""
    mb = await products.create_product(org_id, products.ProductSpec("sms-mo-mb", "SMS MO data", ProductKind.USAGE_CLASS, "MB"))
    gb = await products.create_product(org_id, products.ProductSpec("data-gb", "Mobile data", ProductKind.USAGE_CLASS, "GB"))
    sim = await products.create_product(org_id, products.ProductSpec("sim-a", "SIM A", ProductKind.SERVICE, "SIM"))
    await products.create_product(org_id, products.ProductSpec(
        "package-a", "Package A", ProductKind.PACKAGE, "package", (products.PackageItemSpec(sim.id, D(1)),)))
    acme = await accounts.create_account(org_id, accounts.AccountSpec(name="Acme Logistics", external_id="acme"))
    year = (date(2026, 1, 1), date(2027, 1, 1))
    await contracts.create_contract(org_id, ContractSpec(
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
    await contracts.create_contract(org_id, ContractSpec(
        account_id=acme.id, name="Annual prepayment billed monthly", currency="GBP", start_date=year[0],
        end_date=year[1], billing_frequency=Frequency.MONTHLY,
        prices=(PriceSpec(mb.id, PricingModel.PER_UNIT, D("1.00")),),
        commitments=(CommitmentSpec(
            name="Annual prepaid £12,000", type=CommitmentType.SPEND, frequency=Frequency.ANNUAL,
            payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(12000)),), overage_surcharge_percent=D(10),
        ),),
    ))
    await balances.create_balance(org_id, balances.BalanceSpec(
        account_id=acme.id, name="Sign-up credit", currency="GBP", amount=D(500),
        start_date=year[0], end_date=year[1],
    ))
