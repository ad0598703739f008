"""Renew an ACTIVE contract (SPEC §15): a DRAFT successor starting on its end date.

The successor has the old contract's account, currency, billing frequency, standing charge and
minimum spend; its current prices (with tiers); the service lines still active at its end (from
the new start, keeping an end date that falls inside the new term); and its commitments that run
to its end, restarted at window 1 on the new term, each with ``renews`` naming the commitment it
renews and the same terms (type, frequency, ramp, payment, fee settings, eligibility, surcharge,
rollover, penalties with their tiers, priority). Explicit fee dates move by the months between the
two commitments' starts; one that falls outside the new term is dropped (activation then refuses
a schedule that no longer adds up, and the caller sets it). The caller edits the draft and
activates it like any contract; once it is ACTIVE, the rollover of the old commitments' last
windows is carried into it (``successors.py``, ``billing/renewal.py``).

One transaction with the old contract locked: a contract has at most one successor that is not
CANCELLED (``ALREADY_RENEWED``), even when two renewals race.
"""

from __future__ import annotations

from datetime import date

from tortoise.transactions import in_transaction

from app.billing.calendar import add_months
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
from app.services.checks import require
from app.services.errors import ErrorCode, fail


async def renew_contract(org_id: int, contract_id: int, end_date: date) -> Contract:
    """The DRAFT successor of ACTIVE contract ``contract_id``, for ``[its end, end_date)``."""
    async with in_transaction():
        old = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        if old.status != "ACTIVE":
            raise fail(ErrorCode.CONTRACT_NOT_ACTIVE,
                       f"the contract is {old.status}; only an ACTIVE contract can be renewed", "contractId")
        if end_date <= old.end_date:
            raise fail(ErrorCode.INVALID_INTERVAL,
                       f"the renewal starts on {old.end_date}: endDate must be after it", "endDate")
        taken = await Contract.filter(organization_id=org_id, renews_id=old.id).exclude(status="CANCELLED").first()
        if taken is not None:
            raise fail(ErrorCode.ALREADY_RENEWED,
                       f"the contract is already renewed (its successor is {taken.status})", "contractId")
        new = await Contract.create(
            organization_id=org_id, account_id=old.account_id, name=old.name, currency=old.currency,
            start_date=old.end_date, end_date=end_date, billing_frequency=old.billing_frequency,
            standing_charge=old.standing_charge, minimum_spend=old.minimum_spend, status="DRAFT",
            early_termination_fee=old.early_termination_fee,
            renews_id=old.id,
        )
        await _copy_prices(org_id, old, new)
        await _copy_service_lines(org_id, old, new)
        await _copy_commitments(org_id, old, new)
    return new


async def _copy_prices(org_id: int, old: Contract, new: Contract) -> None:
    for price in await Price.filter(organization_id=org_id, contract_id=old.id).order_by("id"):
        copy = await Price.create(organization_id=org_id, contract_id=new.id, usage_class_id=price.usage_class_id,
                                  model=price.model, unit_amount=price.unit_amount)
        await PriceTier.bulk_create([
            PriceTier(organization_id=org_id, price_id=copy.id, position=t.position, up_to=t.up_to,
                      unit_amount=t.unit_amount, flat_amount=t.flat_amount)
            for t in await PriceTier.filter(price_id=price.id).order_by("position")
        ])


async def _copy_service_lines(org_id: int, old: Contract, new: Contract) -> None:
    """The lines still active at the old end (no end date, or one after it), from the new start."""
    lines = await ServiceLine.filter(organization_id=org_id, contract_id=old.id).order_by("seq", "id")
    await ServiceLine.bulk_create([
        ServiceLine(organization_id=org_id, contract_id=new.id, product_id=line.product_id, seq=line.seq,
                    package_id=line.package_id, package_frequency=line.package_frequency,
                    quantity=line.quantity, unit_price=line.unit_price, start_date=new.start_date,
                    end_date=line.end_date if line.end_date and line.end_date < new.end_date else None,
                    external_id=line.external_id)
        for line in lines if line.end_date is None or line.end_date > old.end_date
    ])


_COPIED = (
    "name", "seq", "type", "frequency", "usage_class_id", "service_id", "package_id", "package_frequency",
    "payment", "amount_prepaid", "amount_first_bill", "fee_billing", "fee_timing",
    "eligible_charge_types",
    "overage_surcharge_percent", "separate_overage", "rollover_fraction", "rollover_cap", "prorate",
    "true_up", "priority", "make_good",
)


async def _copy_commitments(org_id: int, old: Contract, new: Contract) -> None:
    """Every commitment running to the old end, on the new term (window 1 from its start)."""
    for com in await Commitment.filter(organization_id=org_id, contract_id=old.id).order_by("seq", "id"):
        if com.end_date is not None and com.end_date < old.end_date:
            continue  # ended before the contract did: nothing to renew
        copy = await Commitment.create(organization_id=org_id, contract_id=new.id, renews_id=com.id,
                                       **{f: getattr(com, f) for f in _COPIED})
        base = dict(organization_id=org_id, commitment_id=copy.id)
        await RampStep.bulk_create([RampStep(**base, from_window=s.from_window, amount=s.amount)
                                    for s in await RampStep.filter(commitment_id=com.id).order_by("from_window")])
        shift = _months_between(com.start_date or old.start_date, new.start_date)
        await FeeDate.bulk_create([
            FeeDate(**base, date=moved, amount=f.amount)
            for f in await FeeDate.filter(commitment_id=com.id).order_by("date")
            if new.start_date <= (moved := add_months(f.date, shift)) < new.end_date
        ])
        await CommitmentProduct.bulk_create([CommitmentProduct(**base, product_id=p.product_id)
                                             for p in await CommitmentProduct.filter(commitment_id=com.id).order_by("id")])
        for pen in await Penalty.filter(commitment_id=com.id).order_by("position"):
            prow = await Penalty.create(**base, position=pen.position, kind=pen.kind, amount=pen.amount,
                                        rate=pen.rate, basis=pen.basis, mode=pen.mode)
            await PenaltyTier.bulk_create([
                PenaltyTier(organization_id=org_id, penalty_id=prow.id, position=t.position, up_to=t.up_to,
                            rate=t.rate, flat=t.flat)
                for t in await PenaltyTier.filter(penalty_id=pen.id).order_by("position")
            ])


def _months_between(start: date, later: date) -> int:
    return (later.year - start.year) * 12 + later.month - start.month
