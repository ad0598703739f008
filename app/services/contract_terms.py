"""Load a contract's rows and map them onto the billing core's ``ContractTerms``."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from app.billing.terms import (
    ChargeType,
    CommitmentType,
    ContractTerms,
    DateRange,
    DrawdownOrder,
    FeeBilling,
    FeeTiming,
    FeeSchedule,
    Frequency,
    PaymentTiming,
    PenaltyKind,
    PricingModel,
    ProductKind,
    TierBasis,
    TierMode,
)
from app.billing.terms import (
    Commitment as CoreCommitment,
)
from app.billing.terms import (
    FeeDate as CoreFeeDate,
)
from app.billing.terms import (
    Penalty as CorePenalty,
)
from app.billing.terms import (
    PenaltyTier as CorePenaltyTier,
)
from app.billing.terms import (
    Price as CorePrice,
)
from app.billing.terms import (
    PriceTier as CorePriceTier,
)
from app.billing.terms import (
    RampStep as CoreRampStep,
)
from app.billing.terms import Termination
from app.billing.terms import (
    ServiceLine as CoreServiceLine,
)
from app.billing.termination import terminated
from app.db import repo
from app.db.models import (
    Account,
    Commitment,
    CommitmentProduct,
    Contract,
    FeeDate,
    Organization,
    Penalty,
    PenaltyTier,
    Price,
    PriceTier,
    Product,
    RampStep,
    ServiceLine,
)


def _opt_freq(value: str | None) -> Frequency | None:
    return Frequency(value) if value else None


def core_commitment(
    row: Commitment, term: DateRange, codes: dict[int, str], ramp: list[RampStep],
    fee_dates: list[FeeDate], product_ids: list[int], penalties: list[CorePenalty],
) -> CoreCommitment:
    """One commitment row (with its children already loaded) as the core sees it."""
    return CoreCommitment(
        key=str(row.id),
        type=CommitmentType(row.type),
        term=DateRange(row.start_date or term.start, row.end_date or term.end),
        frequency=Frequency(row.frequency),
        ramp=tuple(CoreRampStep(s.from_window, s.amount) for s in sorted(ramp, key=lambda s: s.from_window)),
        usage_class=codes.get(row.usage_class_id) if row.usage_class_id else None,
        service=codes.get(row.service_id) if row.service_id else None,
        package=codes.get(row.package_id) if row.package_id else None,
        package_frequency=_opt_freq(row.package_frequency),
        payment=PaymentTiming(row.payment) if row.payment else None,
        fees=FeeSchedule(
            amount_prepaid=row.amount_prepaid,
            amount_first_bill=row.amount_first_bill,
            billing=FeeBilling(row.fee_billing),
            timing=FeeTiming(row.fee_timing),
            fee_dates=tuple(CoreFeeDate(f.date, f.amount) for f in sorted(fee_dates, key=lambda f: f.date)),
        ),
        eligible_charge_types=frozenset(ChargeType(t) for t in row.eligible_charge_types),
        eligible_products=frozenset(codes[p] for p in product_ids),
        overage_surcharge_percent=row.overage_surcharge_percent,
        separate_overage=row.separate_overage,
        rollover_fraction=row.rollover_fraction,
        rollover_cap=row.rollover_cap,
        prorate=row.prorate,
        true_up=row.true_up,
        make_good=row.make_good,
        priority=row.priority,
        penalties=tuple(penalties),
        seq=row.seq,
        name=row.name,
    )


def core_penalty(row: Penalty, tiers: list[PenaltyTier]) -> CorePenalty:
    return CorePenalty(
        kind=PenaltyKind(row.kind),
        amount=row.amount,
        rate=row.rate,
        basis=TierBasis(row.basis),
        mode=TierMode(row.mode),
        tiers=tuple(CorePenaltyTier(t.up_to, t.rate, t.flat) for t in sorted(tiers, key=lambda t: t.position)),
    )


class _Row:
    """A row read as plain values (``.values()``), with attribute access like a model instance.

    The terms are read as values, not model objects: Tortoise building an object per row (its
    ``__setattr__`` per field) was about a third of ``load_terms_many``'s CPU. The values are the same:
    ``.values()`` converts each field as the model does (``to_python_value``).
    """

    __slots__ = ("__dict__",)

    def __init__(self, values: dict) -> None:  # type: ignore[type-arg]
        self.__dict__ = values


async def _children(model: type, org_id: int, fk: str, parent_ids: list[int]) -> list:  # type: ignore[type-arg]
    """``repo.children`` as plain rows (``_Row``): same filter, same id order."""
    if not parent_ids:
        return []
    rows = await model.filter(organization_id=org_id, **{f"{fk}__in": parent_ids}).order_by("id").values()
    return [_Row(r) for r in rows]


def _group(rows: list, attr: str) -> dict[int, list]:  # type: ignore[type-arg]
    out: dict[int, list] = defaultdict(list)  # type: ignore[type-arg]
    for r in rows:
        out[getattr(r, attr)].append(r)
    return out


async def load_terms(org_id: int, contract: Contract) -> ContractTerms:
    """The whole contract as ``ContractTerms`` (a fixed number of queries, whatever its size)."""
    return (await load_terms_many(org_id, [contract]))[contract.id]


async def load_terms_many(org_id: int, contracts: list[Contract]) -> dict[int, ContractTerms]:
    """``ContractTerms`` of several contracts, as their term rows say, cut by their termination if
    they have one: one query per table, whatever their number."""
    agreed = await load_agreed_terms_many(org_id, contracts)
    return {c.id: as_terminated(c, agreed[c.id]) for c in contracts}


async def load_agreed_terms_many(org_id: int, contracts: list[Contract]) -> dict[int, ContractTerms]:
    """``ContractTerms`` of several contracts as their term rows say, before any termination."""
    ids = [c.id for c in contracts]
    org = await Organization.get(id=org_id)
    accounts = {a.id: a for a in await repo.by_ids(Account, org_id, list({c.account_id for c in contracts}))}
    prices = await _children(Price, org_id, "contract_id", ids)
    tiers = _group(await _children(PriceTier, org_id, "price_id", [p.id for p in prices]), "price_id")
    lines = await _children(ServiceLine, org_id, "contract_id", ids)
    commitments = await _children(Commitment, org_id, "contract_id", ids)
    cids = [c.id for c in commitments]
    ramps = _group(await _children(RampStep, org_id, "commitment_id", cids), "commitment_id")
    fees = _group(await _children(FeeDate, org_id, "commitment_id", cids), "commitment_id")
    cprods = _group(await _children(CommitmentProduct, org_id, "commitment_id", cids), "commitment_id")
    penalties = await _children(Penalty, org_id, "commitment_id", cids)
    ptiers = _group(await _children(PenaltyTier, org_id, "penalty_id", [p.id for p in penalties]), "penalty_id")
    products = await Product.filter(organization_id=org_id)
    codes = {p.id: p.code for p in products}
    kinds = {p.id: p.kind for p in products}
    by_contract = {name: _group(rows, "contract_id") for name, rows in
                   (("prices", prices), ("lines", lines), ("commitments", commitments))}
    by_commitment = _group(penalties, "commitment_id")
    out = {}
    for contract in contracts:
        term = DateRange(contract.start_date, contract.original_end_date or contract.end_date)  # as agreed
        account = accounts[contract.account_id]
        agreed = ContractTerms(
            currency=contract.currency,
            term=term,
            billing_frequency=Frequency(contract.billing_frequency),
            standing_charge=contract.standing_charge,
            minimum_spend=contract.minimum_spend,
            prices=tuple(
                CorePrice(codes[p.usage_class_id], PricingModel(p.model), p.unit_amount,
                          tuple(CorePriceTier(t.up_to, t.unit_amount, t.flat_amount)
                                for t in sorted(tiers[p.id], key=lambda t: t.position)))
                for p in by_contract["prices"][contract.id]
            ),
            service_lines=tuple(
                CoreServiceLine(
                    key=str(l.id), product=codes[l.product_id], kind=ProductKind(kinds[l.product_id]),
                    quantity=l.quantity, unit_price=l.unit_price,
                    active=DateRange(l.start_date, l.end_date or term.end),
                    package=codes.get(l.package_id) if l.package_id else None,
                    package_frequency=_opt_freq(l.package_frequency), external_id=l.external_id,
                    seq=l.seq,
                )
                for l in by_contract["lines"][contract.id]
            ),
            commitments=tuple(
                core_commitment(
                    c, term, codes, ramps[c.id], fees[c.id], [cp.product_id for cp in cprods[c.id]],
                    [core_penalty(p, ptiers[p.id]) for p in sorted(by_commitment[c.id], key=lambda p: p.position)],
                )
                for c in by_contract["commitments"][contract.id]
            ),
            drawdown_order=DrawdownOrder(account.drawdown_order or org.drawdown_order),
        )
        out[contract.id] = agreed
    return out


def termination_of(contract: Contract) -> Termination | None:
    """The contract's termination as the core takes it (SPEC §14); ``None`` if it has none."""
    if contract.terminated_on is None:
        return None
    fee = Decimal(0) if contract.termination_fee_waived else contract.early_termination_fee
    consumed = tuple(sorted((k, Decimal(v)) for k, v in (contract.termination_consumed or {}).items()))
    return Termination(contract.terminated_on, charge_remaining=contract.termination_charge_remaining,
                       fee=fee, consumed=consumed)


def as_terminated(contract: Contract, agreed: ContractTerms) -> ContractTerms:
    """The one place the terms are cut: ``agreed`` as if the term had always ended at the
    termination date (``billing.termination.terminated``), or ``agreed`` if not terminated."""
    termination = termination_of(contract)
    return agreed if termination is None else terminated(agreed, termination)
