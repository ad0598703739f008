"""GraphQL inputs of contracts, prices and service lines, mapped onto the service's specs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from app.api import ids
from app.api.commitments.inputs import CommitmentInput
from app.api.enums import Frequency, PricingModel
from app.api.input_limits import limited, require_valid
from app.billing import terms
from app.services.checks import (
    MAX_COMMITMENTS,
    MAX_CURRENCY,
    MAX_EXTERNAL_ID,
    MAX_NAME,
    MAX_PRICES,
    MAX_SERVICE_LINES,
    MAX_TIERS,
)
from app.services.specs import ContractPatch, ContractSpec, PriceSpec, ServiceLineSpec


@strawberry.input(description="A tier of a graduated or volume price.")
class PriceTierInput:
    up_to: Decimal | None = strawberry.field(default=None, description="Inclusive bound in units; null only on the last tier.")
    unit_amount: Decimal = strawberry.field(default=Decimal(0), description="Price per unit in the tier.")
    flat_amount: Decimal = strawberry.field(default=Decimal(0), description="Flat fee when the tier is reached.")


@strawberry.input(description="The price of one usage class.")
class PriceInput:
    usage_class_id: strawberry.ID = strawberry.field(description="A USAGE_CLASS product.")
    model: PricingModel = strawberry.field(description="PER_UNIT, GRADUATED or VOLUME.")
    unit_amount: Decimal = strawberry.field(default=Decimal(0), description="PER_UNIT: price per unit.")
    tiers: list[PriceTierInput] = strawberry.field(default_factory=list, **limited(
        "GRADUATED / VOLUME: ascending tiers.", max_items=MAX_TIERS))

    def to_spec(self, path: str = "input") -> PriceSpec:
        require_valid(self, path)
        return PriceSpec(
            usage_class_id=ids.decode(self.usage_class_id, "Product", f"{path}.usageClassId"),
            model=self.model, unit_amount=self.unit_amount,
            tiers=tuple(terms.PriceTier(t.up_to, t.unit_amount, t.flat_amount) for t in self.tiers),
        )


@strawberry.input(description="A service or package on the contract.")
class ServiceLineInput:
    product_id: strawberry.ID = strawberry.field(description="A SERVICE or PACKAGE product.")
    quantity: Decimal = strawberry.field(description="Number of units (>= 0).")
    unit_price: Decimal = strawberry.field(default=Decimal(0), description="Recurring price per unit per period.")
    package_id: strawberry.ID | None = strawberry.field(default=None, description="The package the line belongs to.")
    package_frequency: Frequency | None = strawberry.field(default=None, description="Frequency of that package instance.")
    start_date: date | None = strawberry.field(default=None, description="Default: the contract's start.")
    end_date: date | None = strawberry.field(default=None, description="Default (null): the term's end.")
    external_id: str | None = strawberry.field(default=None, **limited(
        "Your id, e.g. a SIM's number.", max_length=MAX_EXTERNAL_ID))

    def to_spec(self, path: str = "input") -> ServiceLineSpec:
        require_valid(self, path)
        return ServiceLineSpec(
            product_id=ids.decode(self.product_id, "Product", f"{path}.productId"), quantity=self.quantity,
            unit_price=self.unit_price, package_id=ids.decode_optional(self.package_id, "Product", f"{path}.packageId"),
            package_frequency=self.package_frequency, start_date=self.start_date, end_date=self.end_date,
            external_id=self.external_id,
        )


@strawberry.input(description="A new draft contract with all its parts.")
class CreateContractInput:
    account_id: strawberry.ID = strawberry.field(description="The account the contract is for.")
    name: str = strawberry.field(**limited("Display name.", max_length=MAX_NAME))
    currency: str = strawberry.field(**limited("ISO 4217 code.", max_length=MAX_CURRENCY))
    start_date: date = strawberry.field(description="First day of the term.")
    end_date: date = strawberry.field(description="Day after the last day of the term.")
    billing_frequency: Frequency = strawberry.field(description="Length of a billing period (never TERM).")
    standing_charge: Decimal = strawberry.field(default=Decimal(0), description="Fixed charge per period.")
    minimum_spend: Decimal = strawberry.field(default=Decimal(0), description="Minimum usage spend per period.")
    early_termination_fee: Decimal = strawberry.field(
        default=Decimal(0), description="Billed once on the final invoice of an early termination (SPEC §14), unless waived.")
    prices: list[PriceInput] = strawberry.field(default_factory=list, **limited(
        "One per usage class.", max_items=MAX_PRICES))
    service_lines: list[ServiceLineInput] = strawberry.field(default_factory=list, **limited(
        "Services and packages.", max_items=MAX_SERVICE_LINES))
    commitments: list[CommitmentInput] = strawberry.field(default_factory=list, **limited(
        "Commitments.", max_items=MAX_COMMITMENTS))

    def to_spec(self) -> ContractSpec:
        require_valid(self)
        return ContractSpec(
            account_id=ids.decode(self.account_id, "Account", "input.accountId"), name=self.name,
            currency=self.currency, start_date=self.start_date, end_date=self.end_date,
            billing_frequency=self.billing_frequency, standing_charge=self.standing_charge,
            minimum_spend=self.minimum_spend, early_termination_fee=self.early_termination_fee,
            prices=tuple(p.to_spec(f"input.prices.{i}") for i, p in enumerate(self.prices)),
            service_lines=tuple(s.to_spec(f"input.serviceLines.{i}") for i, s in enumerate(self.service_lines)),
            commitments=tuple(c.to_spec(f"input.commitments.{i}") for i, c in enumerate(self.commitments)),
        )


@strawberry.input(description="Fields of a draft contract to change; omitted fields keep their value.")
class UpdateContractInput:
    name: str | None = strawberry.field(default=None, **limited("Display name.", max_length=MAX_NAME))
    currency: str | None = strawberry.field(default=None, **limited("ISO 4217 code.", max_length=MAX_CURRENCY))
    start_date: date | None = strawberry.field(default=None, description="First day of the term.")
    end_date: date | None = strawberry.field(default=None, description="Day after the last day.")
    billing_frequency: Frequency | None = strawberry.field(default=None, description="Length of a billing period (never TERM).")
    standing_charge: Decimal | None = strawberry.field(default=None, description="Fixed charge per period.")
    minimum_spend: Decimal | None = strawberry.field(default=None, description="Minimum usage spend per period.")
    early_termination_fee: Decimal | None = strawberry.field(
        default=None, description="Billed once on the final invoice of an early termination (SPEC §14), unless waived.")

    def to_patch(self) -> ContractPatch:
        require_valid(self)
        return ContractPatch(self.name, self.currency, self.start_date, self.end_date, self.billing_frequency,
                             self.standing_charge, self.minimum_spend, self.early_termination_fee)
