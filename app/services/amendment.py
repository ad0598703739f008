"""Amend an ACTIVE contract from an effective date (SPEC §13): the next version of its terms.

One transaction with the contract row locked (the close and the ingest of the contract lock it
too, so an amendment never interleaves with them): check the version named (``VERSION_CONFLICT``)
and the effective date (the start of a billing period not closed, not before the latest version's:
``INVALID_EFFECTIVE_DATE``); write the parts the amendment adds (their rows give them their keys);
let the billing core build the next version and its money effects (``amendment_money.amended``);
then write the version (and version 1, the contract as activated, with the first amendment), the
pools' entries, the windows and periods of the new calendar, and bring the term rows to the new
version (they are what GraphQL shows as the contract's current terms). Closed periods, their
invoices and what their closes kept are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from app.billing.amendment import Amendment, RampChange
from app.billing.amendment_money import MoneyEffects, amended
from app.billing.errors import BillingError
from app.billing.terms import ContractTerms, FeeDate, RampStep
from app.billing.validation import ValidationErrors
from app.db.models import BillingPeriod, Contract, ContractVersion, CreditPool, Price, Product, ServiceLine
from app.services.activation import next_seq as next_pool_seq
from app.services.amendment_rows import sync_calendar, sync_pools, sync_term_rows
from app.services.checks import require
from app.services.contract_parts import (
    Problems,
    check_commitment,
    check_price,
    check_service_line,
    write_commitment,
    write_price,
    write_service_line,
)
from app.services.contract_terms import load_terms
from app.services.errors import ErrorCode, InvalidInput, fail, from_billing
from app.services.pools import core_pool
from app.services.specs import CommitmentSpec, PriceSpec, ServiceLineSpec
from app.services.term_versions import load_history
from app.services.terms_snapshot import dump_terms


@dataclass(frozen=True)
class LineChange:
    """A new quantity and/or unit price for a service line from the effective date."""

    service_line_id: int
    quantity: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class AmendmentSpec:
    """What an amendment changes (ids are row ids); see SPEC §13."""

    standing_charge: Decimal | None = None
    minimum_spend: Decimal | None = None
    set_prices: tuple[PriceSpec, ...] = ()
    remove_prices: tuple[int, ...] = ()  # usage class product ids
    add_service_lines: tuple[ServiceLineSpec, ...] = ()
    end_service_lines: tuple[int, ...] = ()
    change_service_lines: tuple[LineChange, ...] = ()
    add_commitments: tuple[CommitmentSpec, ...] = ()
    end_commitments: tuple[int, ...] = ()
    ramps: dict[int, tuple[RampStep, ...]] = field(default_factory=dict)
    fee_dates: dict[int, tuple[FeeDate, ...]] = field(default_factory=dict)
    end_date: date | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)  # as given, for Contract.versions


async def amend_contract(org_id: int, contract_id: int, expected_version: int, effective: date, reason: str,
                         spec: AmendmentSpec, *, credit_overbilled_fees: bool = False,
                         actor: str | None = None) -> Contract:
    """Write the next version of ACTIVE contract ``contract_id`` (see the module docstring)."""
    await _check_parts(org_id, spec)
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        if contract.status != "ACTIVE":
            raise fail(ErrorCode.CONTRACT_NOT_ACTIVE,
                       f"the contract is {contract.status}; only an ACTIVE contract can be amended", "contractId")
        if contract.terminated_on is not None:
            raise fail(ErrorCode.ALREADY_TERMINATED, f"the contract was terminated on {contract.terminated_on}: "
                       "it ends with the close of its final period and can no longer be amended", "contractId")
        history = await load_history(org_id, contract)
        current = history.latest
        if expected_version != current.number:
            raise fail(ErrorCode.VERSION_CONFLICT, f"the contract is at version {current.number}, not "
                       f"{expected_version}: read it again and amend version {current.number}", "expectedVersion")
        await _check_effective(org_id, contract, effective, current.effective)
        change = await _core_change(org_id, contract, current.terms, effective, spec, credit_overbilled_fees)
        pools = await CreditPool.filter(organization_id=org_id, contract_id=contract.id,
                                        commitment_id__not_isnull=True).order_by("id").select_for_update()
        try:
            effects = amended(current.terms, change, {p.key: core_pool(p) for p in pools},
                              first_seq=await next_pool_seq(org_id, contract.account_id))
        except ValidationErrors as many:  # a draft rule broken by the amended terms: named by their path
            raise InvalidInput([from_billing(e, "amendedTerms") for e in many.errors]) from many
        except BillingError as exc:  # the core names the argument or change at fault
            raise InvalidInput([from_billing(exc)]) from exc
        await _write_versions(org_id, contract, history.versions[0].terms if len(history.versions) == 1 else None,
                              current.number + 1, effective, reason, spec.changes, effects, actor)
        contract.version = current.number + 1
        await sync_pools(org_id, contract, {p.key: p for p in pools}, effects)
        await sync_calendar(org_id, contract, current.terms, effects.terms, effective)
        await sync_term_rows(org_id, contract, effects.terms, effective)
    return contract


async def _check_parts(org_id: int, spec: AmendmentSpec) -> None:
    """The added parts, checked as a draft's are (every problem at once, with its path)."""
    problems = Problems()
    problems.amount(spec.standing_charge, "changes.standingCharge")
    problems.amount(spec.minimum_spend, "changes.minimumSpend")
    for i, change in enumerate(spec.change_service_lines):
        problems.amount(change.quantity, f"changes.changeServiceLines.{i}.quantity")
        problems.amount(change.unit_price, f"changes.changeServiceLines.{i}.unitPrice")
    for i, price in enumerate(spec.set_prices):
        await check_price(org_id, price, f"changes.setPrices.{i}", problems)
    for i, line in enumerate(spec.add_service_lines):
        await check_service_line(org_id, line, f"changes.addServiceLines.{i}", problems)
    for i, commitment in enumerate(spec.add_commitments):
        await check_commitment(org_id, commitment, f"changes.addCommitments.{i}", problems)
    problems.raise_if_any()


async def _check_effective(org_id: int, contract: Contract, effective: date, latest: date) -> None:
    first_open = await BillingPeriod.filter(organization_id=org_id, contract_id=contract.id) \
        .exclude(status="CLOSED").order_by("number").first()
    if first_open is None or effective < first_open.start_date:
        raise fail(ErrorCode.INVALID_EFFECTIVE_DATE,
                   f"the billing period starting {effective} is closed" if first_open else "every period is closed",
                   "effectiveDate")
    if effective < latest:
        raise fail(ErrorCode.INVALID_EFFECTIVE_DATE,
                   f"the latest version takes effect on {latest}: a new one cannot take effect before it",
                   "effectiveDate")


async def _core_change(org_id: int, contract: Contract, terms: ContractTerms, e: date, spec: AmendmentSpec,
                       credit: bool) -> Amendment:
    """The changes as the billing core reads them. The added prices, lines and commitments are
    written first (as rows of the contract) so that they have their keys, then read back."""
    mine = {int(c.key) for c in terms.commitments}
    lines = {int(line.key): line for line in terms.service_lines}
    for key, label in ((spec.end_commitments, "endCommitments"), (tuple(spec.ramps), "rampChanges"),
                       (tuple(spec.fee_dates), "feeDates")):
        for cid in key:
            if cid not in mine:
                raise fail(ErrorCode.NOT_FOUND, "no commitment of this contract with this id", f"changes.{label}")
    for cid in spec.end_commitments:
        commitment = next(c for c in terms.commitments if int(c.key) == cid)
        if commitment.term.start >= e:
            raise fail(ErrorCode.INVALID_EFFECTIVE_DATE, f"{commitment.label} starts on {commitment.term.start}: "
                       "only a commitment that has started by the effective date can be ended", "changes.endCommitments")
    for lid in [*spec.end_service_lines, *(c.service_line_id for c in spec.change_service_lines)]:
        if lid not in lines:
            raise fail(ErrorCode.NOT_FOUND, "no service line of this contract with this id", "changes.serviceLines")
    added_lines = [await write_service_line(org_id, contract, s if s.start_date else _from(s, e))
                   for s in spec.add_service_lines]
    for c in spec.change_service_lines:
        old = await ServiceLine.get(id=c.service_line_id)
        added_lines.append(await ServiceLine.create(
            organization_id=org_id, contract_id=contract.id, seq=old.seq, product_id=old.product_id,
            package_id=old.package_id, package_frequency=old.package_frequency,
            quantity=old.quantity if c.quantity is None else c.quantity,
            unit_price=old.unit_price if c.unit_price is None else c.unit_price,
            start_date=max(e, old.start_date), end_date=old.end_date, external_id=old.external_id))
    added_commitments = [await write_commitment(org_id, contract, _anchored(s, e)) for s in spec.add_commitments]
    prices = {p.usage_class_id: p for p in await Price.filter(organization_id=org_id, contract_id=contract.id)}
    for p in spec.set_prices:
        await write_price(org_id, contract, p, prices.get(p.usage_class_id))
    rows = await load_terms(org_id, contract)  # the written parts as the core reads them
    set_classes = {await _code(org_id, pid) for pid in (p.usage_class_id for p in spec.set_prices)}
    line_keys = {str(r.id) for r in added_lines}
    commitment_keys = {str(r.id) for r in added_commitments}
    return Amendment(
        effective=e, standing_charge=spec.standing_charge, minimum_spend=spec.minimum_spend,
        prices=tuple(p for p in rows.prices if p.usage_class in set_classes),
        remove_prices=frozenset([await _code(org_id, pid) for pid in spec.remove_prices]),
        add_lines=tuple(line for line in rows.service_lines if line.key in line_keys),
        end_lines=frozenset(str(i) for i in [*spec.end_service_lines, *(c.service_line_id for c in spec.change_service_lines)]),
        add_commitments=tuple(c for c in rows.commitments if c.key in commitment_keys),
        end_commitments=frozenset(str(i) for i in spec.end_commitments),
        ramps=tuple(RampChange(str(k), v) for k, v in spec.ramps.items()),
        end_date=spec.end_date,
        fee_dates={str(k): v for k, v in spec.fee_dates.items()},
        credit_overbilled_fees=credit,
    )


def _from(spec: ServiceLineSpec, e: date) -> ServiceLineSpec:
    return replace(spec, start_date=e)


def _anchored(spec: CommitmentSpec, e: date) -> CommitmentSpec:
    if spec.start_date not in (None, e):
        raise fail(ErrorCode.INVALID_EFFECTIVE_DATE, f"an added commitment starts on the effective date {e}",
                   "changes.addCommitments")
    return replace(spec, start_date=e)


async def _code(org_id: int, product_id: int) -> str:
    product = await Product.get_or_none(organization_id=org_id, id=product_id)
    return product.code if product else ""


async def _write_versions(org_id: int, contract: Contract, first: ContractTerms | None, number: int, effective: date,
                          reason: str, changes: list[dict[str, Any]], effects: MoneyEffects,
                          actor: str | None) -> None:
    if first is not None:  # the first amendment: version 1 is the contract as activated
        await ContractVersion.create(organization_id=org_id, contract_id=contract.id, number=1,
                                     effective_date=contract.start_date, reason="activation", changes=[],
                                     terms=dump_terms(first), created_at=contract.activated_at)
    await ContractVersion.create(organization_id=org_id, contract_id=contract.id, number=number,
                                 effective_date=effective, reason=reason, changes=changes,
                                 terms=dump_terms(effects.terms), created_by=actor)
