"""The billing core's enums as GraphQL enums (same names and values)."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.billing import terms

Frequency = strawberry.enum(
    terms.Frequency,
    description="Billing or commit frequency: 1, 3, 6 or 12 months, or (commitments only) TERM.",
)
_FREQUENCY_VALUES = {
    "MONTHLY": "One month.",
    "QUARTERLY": "Three months.",
    "SEMI_ANNUAL": "Six months.",
    "ANNUAL": "Twelve months.",
    "TERM": "Commitments only: one window from the commitment's start to its end, however many "
    "years (a multi-year prepayment is one pool). Refused as a contract's billing frequency or a "
    "package frequency (INVALID_FREQUENCY).",
}
for _value in Frequency.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _FREQUENCY_VALUES[_value.name]
ChargeType = strawberry.enum(terms.ChargeType, description="The drawable charge types, in drawdown order.")
ProductKind = strawberry.enum(terms.ProductKind, description="USAGE_CLASS (metered), SERVICE, or PACKAGE (a bundle of services).")
PricingModel = strawberry.enum(terms.PricingModel, description="PER_UNIT, GRADUATED (each tier's part at its price) or VOLUME (all units at the tier reached).")
CommitmentType = strawberry.enum(terms.CommitmentType, description="What a commitment measures (SPEC §4).")
PaymentTiming = strawberry.enum(terms.PaymentTiming, description="How a SPEND commitment is paid: PREPAID (credit pools) or POSTPAID (true-up).")
FeeBilling = strawberry.enum(terms.FeeBilling, description="How a prepaid commitment's outstanding fee is billed.")
PenaltyKind = strawberry.enum(terms.PenaltyKind, description="CHARGE (minimum charge), COUNT (per unit short) or TIERED.")
TierBasis = strawberry.enum(terms.TierBasis, description="Whether penalty tiers bound units short or percent short.")
TierMode = strawberry.enum(terms.TierMode, description="GRADUATED (each tier its part) or VOLUME (the tier reached).")
DrawdownOrder = strawberry.enum(terms.DrawdownOrder, description="Which credit pays first: balances or commitments, or only one of them.")


@strawberry.enum(description="Lifecycle of a contract: DRAFT → ACTIVE → ENDED, or CANCELLED from DRAFT.")
class ContractStatus(str, Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"
