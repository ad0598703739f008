"""The billing core's enums as GraphQL enums (same names and values)."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.billing import terms

Frequency = strawberry.enum(terms.Frequency, description="Billing or commit frequency: 1, 3, 6 or 12 months.")
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
