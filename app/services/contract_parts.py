"""Write a draft contract's parts (prices, service lines, commitments) after checking references.

Each ``write_*`` checks what the billing core cannot see (that referenced products exist in the
tenant and are of the right kind, that numbers fit the database) and then stores the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tortoise.functions import Max

from app.billing.terms import ProductKind
from app.db.models import (
    Commitment,
    CommitmentProduct,
    Contract,
    FeeDate,
    Penalty,
    PenaltyTier,
    Price,
    PriceTier,
    RampStep,
    ServiceLine,
)
from app.services.checks import (
    MAX_CHARGE_TYPES,
    MAX_EXTERNAL_ID,
    MAX_FEE_DATES,
    MAX_PENALTIES,
    MAX_PRODUCT_IDS,
    MAX_RAMP_STEPS,
    MAX_TIERS,
    count_problem,
    decimal_problem,
    name_problem,
)
from app.services.errors import InvalidInput, UserError
from app.services.products import kind_problems
from app.services.specs import CommitmentSpec, PriceSpec, ServiceLineSpec

USAGE = {ProductKind.USAGE_CLASS}
SERVICE = {ProductKind.SERVICE}
PACKAGE = {ProductKind.PACKAGE}
SERVICE_OR_PACKAGE = {ProductKind.SERVICE, ProductKind.PACKAGE}


class Problems:
    """Collects user errors so that one response reports all of them."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def add(self, error: UserError | None) -> None:
        if error is not None:
            self.errors.append(error)

    def amount(self, value: Decimal | None, field: str, minimum: Decimal | None = Decimal(0)) -> None:
        self.add(decimal_problem(value, field, minimum=minimum))

    async def product(self, org_id: int, pk: int | None, kinds: set[ProductKind], field: str) -> None:
        await self.products(org_id, [(pk, kinds, field)])

    async def products(self, org_id: int, refs: Sequence[tuple[int | None, set[ProductKind], str]]) -> None:
        """Check every product reference (None: not given) with one query for all of them."""
        self.errors.extend(await kind_problems(org_id, [(pk, kinds, field) for pk, kinds, field in refs
                                                        if pk is not None]))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


async def check_price(org_id: int, spec: PriceSpec, path: str, problems: Problems) -> None:
    problems.add(count_problem(spec.tiers, f"{path}.tiers", MAX_TIERS))
    await problems.product(org_id, spec.usage_class_id, USAGE, f"{path}.usageClassId")
    problems.amount(spec.unit_amount, f"{path}.unitAmount")
    for i, tier in enumerate(spec.tiers):
        problems.amount(tier.up_to, f"{path}.tiers.{i}.upTo")
        problems.amount(tier.unit_amount, f"{path}.tiers.{i}.unitAmount")
        problems.amount(tier.flat_amount, f"{path}.tiers.{i}.flatAmount")


async def check_service_line(org_id: int, spec: ServiceLineSpec, path: str, problems: Problems) -> None:
    await problems.products(org_id, [(spec.product_id, SERVICE_OR_PACKAGE, f"{path}.productId"),
                                     (spec.package_id, PACKAGE, f"{path}.packageId")])
    problems.amount(spec.quantity, f"{path}.quantity")
    problems.amount(spec.unit_price, f"{path}.unitPrice")
    problems.add(name_problem(spec.external_id, f"{path}.externalId", max_length=MAX_EXTERNAL_ID))


async def check_commitment(org_id: int, spec: CommitmentSpec, path: str, problems: Problems) -> None:
    problems.add(name_problem(spec.name, f"{path}.name"))
    counts = [count_problem(getattr(spec, attr), f"{path}.{name}", limit) for attr, name, limit in _COMMITMENT_LISTS]
    if any(counts):  # nothing is looked at item by item in a list over its limit
        problems.errors.extend(c for c in counts if c)
        return
    await problems.products(org_id, [
        (spec.usage_class_id, USAGE, f"{path}.usageClassId"), (spec.service_id, SERVICE, f"{path}.serviceId"),
        (spec.package_id, PACKAGE, f"{path}.packageId"),
        *((pid, set(ProductKind), f"{path}.eligibleProductIds.{i}") for i, pid in enumerate(spec.eligible_product_ids)),
    ])
    for i, step in enumerate(spec.ramp):
        problems.amount(step.amount, f"{path}.rampSteps.{i}.amount", minimum=None)
    for i, fee in enumerate(spec.fee_dates):
        problems.amount(fee.amount, f"{path}.feeDates.{i}.amount", minimum=None)
    for name in ("amount_prepaid", "amount_first_bill", "rollover_fraction", "rollover_cap"):
        problems.amount(getattr(spec, name), f"{path}.{_camel(name)}", minimum=None)
    problems.amount(spec.overage_surcharge_percent, f"{path}.overageSurchargePercent", minimum=None)
    for i, pen in enumerate(spec.penalties):
        problems.add(count_problem(pen.tiers, f"{path}.penalties.{i}.tiers", MAX_TIERS))
        problems.amount(pen.amount, f"{path}.penalties.{i}.amount", minimum=None)
        problems.amount(pen.rate, f"{path}.penalties.{i}.rate", minimum=None)
        for j, tier in enumerate(pen.tiers):
            problems.amount(tier.up_to, f"{path}.penalties.{i}.tiers.{j}.upTo", minimum=None)
            problems.amount(tier.rate, f"{path}.penalties.{i}.tiers.{j}.rate", minimum=None)
            problems.amount(tier.flat, f"{path}.penalties.{i}.tiers.{j}.flat", minimum=None)


_COMMITMENT_LISTS = (
    ("ramp", "rampSteps", MAX_RAMP_STEPS), ("fee_dates", "feeDates", MAX_FEE_DATES),
    ("penalties", "penalties", MAX_PENALTIES), ("eligible_product_ids", "eligibleProductIds", MAX_PRODUCT_IDS),
    ("eligible_charge_types", "eligibleChargeTypes", MAX_CHARGE_TYPES),
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


async def next_seq(model: type[ServiceLine] | type[Commitment], contract: Contract) -> int:
    """The creation order of the contract's next service line or commitment (SPEC §7): one past the
    highest so far. Callers hold the contract's row lock, so two writers never share a number."""
    top = await model.filter(contract_id=contract.id).annotate(top=Max("seq")).first().values("top")
    return int((top or {}).get("top") or 0) + 1


async def write_price(org_id: int, contract: Contract, spec: PriceSpec, row: Price | None = None) -> Price:
    values = dict(usage_class_id=spec.usage_class_id, model=spec.model.value, unit_amount=spec.unit_amount)
    if row is None:
        row = await Price.create(organization_id=org_id, contract_id=contract.id, **values)
    else:
        await row.update_from_dict(values).save()
        await PriceTier.filter(price_id=row.id).delete()
    await PriceTier.bulk_create([
        PriceTier(organization_id=org_id, price_id=row.id, position=i, up_to=t.up_to,
                  unit_amount=t.unit_amount, flat_amount=t.flat_amount)
        for i, t in enumerate(spec.tiers)
    ])
    return row


async def write_service_line(
    org_id: int, contract: Contract, spec: ServiceLineSpec, row: ServiceLine | None = None
) -> ServiceLine:
    values = dict(
        product_id=spec.product_id, package_id=spec.package_id,
        package_frequency=spec.package_frequency.value if spec.package_frequency else None,
        quantity=spec.quantity, unit_price=spec.unit_price,
        start_date=spec.start_date or contract.start_date, end_date=spec.end_date,
        external_id=spec.external_id,
    )
    if row is None:
        seq = await next_seq(ServiceLine, contract)
        return await ServiceLine.create(organization_id=org_id, contract_id=contract.id, seq=seq, **values)
    await row.update_from_dict(values).save()
    return row


async def write_commitment(
    org_id: int, contract: Contract, spec: CommitmentSpec, row: Commitment | None = None
) -> Commitment:
    values = dict(
        name=spec.name, type=spec.type.value, start_date=spec.start_date, end_date=spec.end_date,
        frequency=spec.frequency.value, usage_class_id=spec.usage_class_id, service_id=spec.service_id,
        package_id=spec.package_id,
        package_frequency=spec.package_frequency.value if spec.package_frequency else None,
        payment=spec.payment.value if spec.payment else None,
        amount_prepaid=spec.amount_prepaid, amount_first_bill=spec.amount_first_bill,
        fee_billing=spec.fee_billing.value, fee_timing=spec.fee_timing.value,
        eligible_charge_types=[t.value for t in spec.eligible_charge_types],
        overage_surcharge_percent=spec.overage_surcharge_percent,
        separate_overage=spec.separate_overage, rollover_fraction=spec.rollover_fraction,
        rollover_cap=spec.rollover_cap, prorate=spec.prorate, true_up=spec.true_up,
        priority=spec.priority, make_good=spec.make_good,
    )
    if row is None:
        seq = await next_seq(Commitment, contract)
        row = await Commitment.create(organization_id=org_id, contract_id=contract.id, seq=seq, **values)
    else:
        await row.update_from_dict(values).save()
        for model in (RampStep, FeeDate, CommitmentProduct, Penalty):
            await model.filter(commitment_id=row.id).delete()
    await _write_commitment_children(org_id, row, spec)
    return row


async def _write_commitment_children(org_id: int, row: Commitment, spec: CommitmentSpec) -> None:
    base = dict(organization_id=org_id, commitment_id=row.id)
    await RampStep.bulk_create([RampStep(**base, from_window=s.from_window, amount=s.amount) for s in spec.ramp])
    await FeeDate.bulk_create([FeeDate(**base, date=f.date, amount=f.amount) for f in spec.fee_dates])
    await CommitmentProduct.bulk_create(
        [CommitmentProduct(**base, product_id=pid) for pid in dict.fromkeys(spec.eligible_product_ids)]
    )
    for i, pen in enumerate(spec.penalties):
        prow = await Penalty.create(**base, position=i, kind=pen.kind.value, amount=pen.amount,
                                    rate=pen.rate, basis=pen.basis.value, mode=pen.mode.value)
        await PenaltyTier.bulk_create([
            PenaltyTier(organization_id=org_id, penalty_id=prow.id, position=j, up_to=t.up_to,
                        rate=t.rate, flat=t.flat)
            for j, t in enumerate(pen.tiers)
        ])
