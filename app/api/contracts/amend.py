"""amendContract (SPEC §13): its inputs, its payload, and the versions a contract lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.commitments.inputs import CommitmentInput, FeeDateInput, RampStepInput
from app.api.context import org_of
from app.api.contracts.inputs import PriceInput, ServiceLineInput
from app.api.contracts.types import Contract
from app.api.errors import UserErrorType
from app.api.input_limits import limited, require_valid
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import Refusable
from app.billing import terms
from app.services.amendment import AmendmentSpec, LineChange, amend_contract

MAX_CHANGES = 200


@strawberry.input(description="A service line's new quantity and/or unit price from the effective date: the line "
                               "ends there and a new line with the new figures starts.")
class ServiceLineChangeInput:
    service_line_id: strawberry.ID = strawberry.field(description="The service line to change.")
    quantity: Decimal | None = strawberry.field(default=None, description="The new quantity; null: unchanged.")
    unit_price: Decimal | None = strawberry.field(default=None, description="The new unit price; null: unchanged.")


@strawberry.input(description="New ramp amounts for a commitment, from a window starting on or after the effective "
                               "date (a window in progress keeps its committed amount).")
class RampChangeInput:
    commitment_id: strawberry.ID = strawberry.field(description="The commitment.")
    ramp_steps: list[RampStepInput] = strawberry.field(**limited(
        "Steps {fromWindow, amount}; fromWindow counts the commitment's windows from 1.", max_items=MAX_CHANGES))


@strawberry.input(description="New fee dates for the fees still to bill of a prepaid FEE_DATES commitment whose "
                               "total the amendment changes.")
class FeeDatesChangeInput:
    commitment_id: strawberry.ID = strawberry.field(description="The commitment.")
    fee_dates: list[FeeDateInput] = strawberry.field(**limited(
        "On or after the effective date, adding up to the fees still to bill.", max_items=MAX_CHANGES))


@strawberry.input(description="What an amendment changes from its effective date (SPEC §13); omitted fields stay.")
class ContractChangesInput:
    standing_charge: Decimal | None = strawberry.field(default=None, description="The new standing charge per period.")
    minimum_spend: Decimal | None = strawberry.field(default=None, description="The new minimum spend per period.")
    set_prices: list[PriceInput] = strawberry.field(default_factory=list, **limited(
        "Prices to add, or to replace for their usage class.", max_items=MAX_CHANGES))
    remove_prices: list[strawberry.ID] = strawberry.field(default_factory=list, **limited(
        "Usage classes (product ids) whose price is removed.", max_items=MAX_CHANGES))
    add_service_lines: list[ServiceLineInput] = strawberry.field(default_factory=list, **limited(
        "Service lines to add, starting on the effective date (or a later startDate).", max_items=MAX_CHANGES))
    end_service_lines: list[strawberry.ID] = strawberry.field(default_factory=list, **limited(
        "Service lines that end on the effective date.", max_items=MAX_CHANGES))
    change_service_lines: list[ServiceLineChangeInput] = strawberry.field(default_factory=list, **limited(
        "Service lines whose quantity or unit price changes.", max_items=MAX_CHANGES))
    add_commitments: list[CommitmentInput] = strawberry.field(default_factory=list, **limited(
        "Commitments to add, anchored at the effective date.", max_items=MAX_CHANGES))
    end_commitments: list[strawberry.ID] = strawberry.field(default_factory=list, **limited(
        "Commitments that end on the effective date (a window in progress is cut there and settled as partial).",
        max_items=MAX_CHANGES))
    ramp_changes: list[RampChangeInput] = strawberry.field(default_factory=list, **limited(
        "New ramp amounts from a later window.", max_items=MAX_CHANGES))
    fee_dates: list[FeeDatesChangeInput] = strawberry.field(default_factory=list, **limited(
        "New fee dates of FEE_DATES commitments whose total changes.", max_items=MAX_CHANGES))
    end_date: date | None = strawberry.field(default=None, description="A later end date (the term extends); to end "
                                                                       "earlier, use terminateContract.")

    def to_spec(self) -> AmendmentSpec:
        p = "changes"
        require_valid(self, p)
        dec = ids.decode
        return AmendmentSpec(
            standing_charge=self.standing_charge, minimum_spend=self.minimum_spend,
            set_prices=tuple(x.to_spec(f"{p}.setPrices.{i}") for i, x in enumerate(self.set_prices)),
            remove_prices=tuple(dec(x, "Product", f"{p}.removePrices.{i}") for i, x in enumerate(self.remove_prices)),
            add_service_lines=tuple(x.to_spec(f"{p}.addServiceLines.{i}") for i, x in enumerate(self.add_service_lines)),
            end_service_lines=tuple(dec(x, "ServiceLine", f"{p}.endServiceLines.{i}")
                                    for i, x in enumerate(self.end_service_lines)),
            change_service_lines=tuple(
                LineChange(dec(x.service_line_id, "ServiceLine", f"{p}.changeServiceLines.{i}.serviceLineId"),
                           x.quantity, x.unit_price) for i, x in enumerate(self.change_service_lines)),
            add_commitments=tuple(x.to_spec(f"{p}.addCommitments.{i}") for i, x in enumerate(self.add_commitments)),
            end_commitments=tuple(dec(x, "Commitment", f"{p}.endCommitments.{i}")
                                  for i, x in enumerate(self.end_commitments)),
            ramps={dec(x.commitment_id, "Commitment", f"{p}.rampChanges.{i}.commitmentId"):
                   tuple(terms.RampStep(s.from_window, s.amount) for s in x.ramp_steps)
                   for i, x in enumerate(self.ramp_changes)},
            fee_dates={dec(x.commitment_id, "Commitment", f"{p}.feeDates.{i}.commitmentId"):
                       tuple(terms.FeeDate(f.date, f.amount) for f in x.fee_dates)
                       for i, x in enumerate(self.fee_dates)},
            end_date=self.end_date,
            changes=self.describe(),
        )

    def describe(self) -> list[str]:
        """The changes as a person reads them, for Contract.versions."""
        out = []
        if self.standing_charge is not None:
            out.append(f"standing charge {self.standing_charge}")
        if self.minimum_spend is not None:
            out.append(f"minimum spend {self.minimum_spend}")
        out += [f"price of {x.usage_class_id}: {x.model.value} {x.unit_amount}"
                + (f" with {len(x.tiers)} tiers" if x.tiers else "") for x in self.set_prices]
        out += [f"price of {x} removed" for x in self.remove_prices]
        out += [f"service line added: {x.quantity} × {x.product_id} at {x.unit_price}" for x in self.add_service_lines]
        out += [f"service line {x} ended" for x in self.end_service_lines]
        out += [f"service line {x.service_line_id} changed:"
                + (f" quantity {x.quantity}" if x.quantity is not None else "")
                + (f" unit price {x.unit_price}" if x.unit_price is not None else "") for x in self.change_service_lines]
        out += [f"commitment added: {x.name}" for x in self.add_commitments]
        out += [f"commitment {x} ended" for x in self.end_commitments]
        out += [f"commitment {x.commitment_id} ramp from window {min((s.from_window for s in x.ramp_steps), default=0)}: "
                + ", ".join(f"{s.from_window}→{s.amount}" for s in x.ramp_steps) for x in self.ramp_changes]
        out += [f"commitment {x.commitment_id} fee dates: " + ", ".join(f"{f.date} {f.amount}" for f in x.fee_dates)
                for x in self.fee_dates]
        if self.end_date is not None:
            out.append(f"end date {self.end_date}")
        return out


@strawberry.type(description="Result of amendContract.")
class AmendContractPayload(Refusable):
    contract: Contract | None = strawberry.field(
        description="The contract at its new version; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type
class AmendMutations:
    @strawberry.mutation(description="Amend an ACTIVE contract from an effective date (SPEC §13): the start of one of "
                                     "its billing periods that is not closed. Periods before it are never billed "
                                     "again; periods from it bill under the new version. Name the version you amend "
                                     "(Contract.version): if the contract has moved on, VERSION_CONFLICT.")
    async def amend_contract(
        self, info: Info,
        contract_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the ACTIVE contract.")],
        expected_version: Annotated[int, strawberry.argument(description="The version amended (Contract.version).")],
        effective_date: Annotated[date, strawberry.argument(description="Start of an open billing period.")],
        reason: Annotated[str, strawberry.argument(**limited("Why: kept with the version.", max_length=500))],
        changes: Annotated[ContractChangesInput, strawberry.argument(description="What changes.")],
        credit_overbilled_fees: Annotated[bool, strawberry.argument(
            description="If more commitment fees were billed than the new total allows, credit the difference on the "
                        "invoice of the period starting at effectiveDate instead of refusing (FEES_ALREADY_BILLED).")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> AmendContractPayload:
        org_id = org_of(info)
        return await guard(
            info,
            AmendContractPayload.refused,
            lambda: amend_contract(org_id, ids.decode(contract_id, "Contract", "contractId"), expected_version,
                                   effective_date, reason, changes.to_spec(),
                                   credit_overbilled_fees=credit_overbilled_fees),
            lambda row: AmendContractPayload(contract=Contract.from_row(row), user_errors=[]),
            key=idempotency_key,
        )
