"""The billing core's enums as GraphQL enums (same names and values), each value described.

``described_enum`` is the one way an enum enters the schema: Strawberry's ``enum_value(description=)``
only works inside an enum class we write, and the billing core's enums must not import Strawberry, so
the descriptions of the values are given here and set on Strawberry's definition. A value without a
description, or a description of no value, fails at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

from app.billing import adjustments, invoice, ledger, terms

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, description: str, values: Mapping[str, str], name: str | None = None) -> E:
    """``strawberry.enum(cls)`` with a GraphQL description on every value (keyed by member name)."""
    wrapped = strawberry.enum(cls, name=name, description=description)
    definition = wrapped.__strawberry_definition__  # type: ignore[attr-defined]
    names = {v.name for v in definition.values}
    if names != set(values):
        raise ValueError(f"{definition.name}: values without a description {sorted(names - set(values))}, "
                         f"descriptions of no value {sorted(set(values) - names)}")
    for value in definition.values:
        value.description = values[value.name]
    return wrapped


Frequency = described_enum(terms.Frequency, description="Billing or commit frequency: 1, 3, 6 or 12 months, or "
                                                       "(commitments only) TERM.", values={
    "MONTHLY": "Every month: periods or windows of 1 month from the start date.",
    "QUARTERLY": "Every 3 months from the start date (not calendar quarters unless it starts on one).",
    "SEMI_ANNUAL": "Every 6 months from the start date.",
    "ANNUAL": "Every 12 months from the start date.",
    "TERM": "Commitments only: one window from the commitment's start to its end, however many years (a "
            "multi-year prepayment is one pool). Refused as a contract's billing frequency or a package "
            "frequency (INVALID_FREQUENCY).",
})
ChargeType = described_enum(terms.ChargeType, description="The drawable charge types, in drawdown order.", values={
    "USAGE": "Metered usage of a usage class, rated by the contract's price for it (drawn first).",
    "RECURRING": "A service line's quantity × unit price, prorated by the days it is active in the period.",
    "STANDING": "The contract's fixed standing charge per billing period.",
    "MINIMUM_SPEND": "What the period's USAGE charges fall short of the contract's minimum spend.",
    "ONE_TIME": "A one-time charge posted with postCharge, billed in the period holding its service date (drawn last).",
})
LineType = described_enum(
    terms.LineType,
    description="Kind of invoice line: the five charge types, then OVERAGE, COMMITMENT_FEE, OVERAGE_SURCHARGE, "
                "TRUE_UP, PENALTY, DRAWDOWN and TERMINATION_FEE.",
    values={
        "USAGE": "Charge: the period's quantity of a usage class at the contract's price (may be drawn down).",
        "RECURRING": "Charge: a service line's quantity × unit price for its active days (may be drawn down).",
        "STANDING": "Charge: the contract's standing charge, prorated in a partial period (may be drawn down).",
        "MINIMUM_SPEND": "Charge: the minimum spend less the period's USAGE charges, never below 0 (may be drawn "
                         "down).",
        "ONE_TIME": "Charge: a one-time charge posted through postCharge (may be drawn down).",
        "COMMITMENT_FEE": "A prepaid commitment's fee (first bill, billing-plan part or fee date), billed whatever "
                          "the usage; never drawn down.",
        "OVERAGE": "With separateOverage: the part of a charge left unpaid once every prepaid pool it may use "
                   "is empty, shown on its own line.",
        "OVERAGE_SURCHARGE": "The commitment's overageSurchargePercent of the overage (prepaid) or of the spend "
                             "above the window's minimum (postpaid); negative for a discount.",
        "TRUE_UP": "A postpaid commitment's shortfall at its window's end: what the window's eligible spend "
                   "fell short of the committed amount.",
        "PENALTY": "A penalty of a commitment whose window fell short (CHARGE, COUNT or TIERED).",
        "DRAWDOWN": "Negative: the part of a charge paid from a credit pool (prepaid window, rollover credit or "
                    "balance), naming the pool.",
        "TERMINATION_FEE": "The contract's earlyTerminationFee, billed once on the final invoice of an early "
                           "termination unless waived; never drawn down.",
    })
ProductKind = described_enum(terms.ProductKind, description="USAGE_CLASS (metered), SERVICE, or PACKAGE (a bundle of services).", values={
    "USAGE_CLASS": "Metered: usage events are recorded against it and priced per unit or in tiers.",
    "SERVICE": "A service held in a quantity on service lines (e.g. a SIM), billed as RECURRING charges.",
    "PACKAGE": "A bundle of services (its packageItems), put on service lines like a service.",
})
PricingModel = described_enum(terms.PricingModel, description="PER_UNIT, GRADUATED (each tier's part at its price) or VOLUME (all units at the tier reached).", values={
    "PER_UNIT": "Quantity × unitAmount; no tiers.",
    "GRADUATED": "Each tier the quantity reaches bills its part at its own unit price, plus its flat fee.",
    "VOLUME": "The whole quantity at the unit price of the one tier it lands in, plus that tier's flat fee.",
})
CommitmentType = described_enum(terms.CommitmentType, description="What a commitment measures (SPEC §4).", values={
    "SPEND": "Money: the contract's eligible charges in the window, before drawdown; paid PREPAID or POSTPAID.",
    "USAGE": "Quantity of one usage class in the window.",
    "SERVICE": "Time-weighted number of units of a service on any line, in any package.",
    "PACKAGE_SERVICE": "Time-weighted number of units of a service inside the named package with the named "
                       "package frequency.",
    "PACKAGE": "Time-weighted number of a package.",
    "AVERAGE_USAGE": "Usage of a usage class per connection: usage ÷ time-weighted number of the named service.",
})
PaymentTiming = described_enum(terms.PaymentTiming, description="How a SPEND commitment is paid: PREPAID (credit pools) or POSTPAID (true-up).", values={
    "PREPAID": "Credit: each window's amount is a pool that pays eligible charges; the fee is billed as "
               "COMMITMENT_FEE lines and the remainder expires or rolls over.",
    "POSTPAID": "A minimum: charges are billed in full and a window that falls short bills a TRUE_UP line.",
})
FeeBilling = described_enum(terms.FeeBilling, description="How a prepaid commitment's outstanding fee is billed.", values={
    "BILLING_PLAN": "In equal parts on every billing period of the commitment (the last part takes the rounding "
                    "difference).",
    "FEE_DATES": "On the given feeDates, each in the billing period holding its date; they must add up exactly.",
})
FeeTiming = described_enum(terms.FeeTiming, description="When a prepaid commitment's fee due in a billing period is billed (SPEC §16).", values={
    "IN_ARREARS": "On the invoice closing the billing period the fee is due in (the default).",
    "IN_ADVANCE": "Before the period starts: on the invoice closing the period before it, or, for the contract's "
                  "first period, on the ACTIVATION invoice written by activateContract. The last period's invoice "
                  "carries no advance fee.",
})
InvoiceKind = described_enum(invoice.InvoiceKind, description="What wrote an invoice.", values={
    "PERIOD": "The close of one billing period (one per period).",
    "ACTIVATION": "The contract's activation: the commitment fees billed in advance that are due in its first "
                  "billing period (number INV-<contract>-000; written only when it has lines).",
})
PenaltyKind = described_enum(terms.PenaltyKind, description="CHARGE (minimum charge), COUNT (per unit short) or TIERED.", values={
    "CHARGE": "The contract pays at least amount for the window: amount less the window's drawable charges, "
              "never below 0.",
    "COUNT": "The rate times the shortfall: per unit short (per currency unit short for money).",
    "TIERED": "Tiers on the shortfall in units or percent (basis), GRADUATED or VOLUME (mode).",
})
TierBasis = described_enum(terms.TierBasis, description="Whether penalty tiers bound units short or percent short.", values={
    "UNITS": "Tier bounds are the shortfall in the commitment's unit.",
    "PERCENT": "Tier bounds are the shortfall as a percentage of the committed total.",
})
TierMode = described_enum(terms.TierMode, description="GRADUATED (each tier its part) or VOLUME (the tier reached).", values={
    "GRADUATED": "Each tier the shortfall reaches bills its part × its rate, plus its flat fee.",
    "VOLUME": "The one tier the shortfall lands in bills the whole shortfall × its rate, plus its flat fee.",
})
DrawdownOrder = described_enum(terms.DrawdownOrder, description="Which credit pays first: balances or commitments, or only one of them.", values={
    "BALANCE_FIRST": "Account balances pay first, then commitment credit (prepaid pools and rollover credits).",
    "COMMITMENT_FIRST": "Commitment credit pays first, then account balances.",
    "BALANCE_ONLY": "Only account balances pay; commitment pools are never drawn (so never empty: no overage).",
    "COMMITMENT_ONLY": "Only commitment credit pays; balances are never drawn.",
})
PoolKind = described_enum(ledger.PoolKind, description="PREPAID (a prepaid window), TRACKING (a postpaid window: pays nothing), ROLLOVER (rolled credit) or BALANCE (a top-up).", values={
    "PREPAID": "One window of a prepaid commitment: holds its committed amount and pays eligible charges.",
    "TRACKING": "One window of a postpaid commitment: counts eligible spend, pays nothing; what is left at the "
                "window's end is the TRUE_UP.",
    "ROLLOVER": "Credit rolled into a commitment's next window (from a prepaid remainder or a billed true-up); pays "
                "like commitment credit and never rolls again.",
    "BALANCE": "An account balance (top-up credit), separate from commitments.",
})
EntryKind = described_enum(ledger.EntryKind, description="What a ledger entry does: ISSUE, ROLLOVER_IN and CREDIT_BACK add; CONSUME, EXPIRE, ROLLOVER_OUT and VOID take away; ADJUST (a correction) either.", values={
    "ISSUE": "Adds: credit issued (activation of a window, a new balance, a top-up, a postpaid rollover credit).",
    "CONSUME": "Takes away: a charge drawn from the pool at a close (on a tracking pool: spend counted).",
    "EXPIRE": "Takes away: what was left at the pool's end, or a tracking pool's shortfall billed as TRUE_UP.",
    "ROLLOVER_OUT": "Takes away: the part of a prepaid remainder moved to the next window's rollover credit.",
    "ROLLOVER_IN": "Adds: the rolled amount arriving in the rollover credit of the next window.",
    "CREDIT_BACK": "Adds: consumed credit given back (creditBack) while the pool is open.",
    "VOID": "Takes away: unused credit withdrawn because an amendment or a termination removed or shrank its window (SPEC §13–§14).",
    "ADJUST": "Either sign: a correction brought the pool to the balance it has when late data is billed as if it had come on time (SPEC §17).",
})
AdjustmentKind = described_enum(adjustments.AdjustmentKind, description="Whether an adjustment lowers or raises the amount due of its invoice (SPEC §17): the sign of its total.", values={
    "CREDIT_NOTE": "Its total is zero or negative: it lowers the amount due (a goodwill credit, or a correction that found too much billed).",
    "DEBIT_NOTE": "Its total is positive: it raises the amount due (a correction that found too little billed).",
})
AdjustmentSource = described_enum(adjustments.AdjustmentSource, description="What issued an adjustment (SPEC §17).", values={
    "CORRECTION": "A correction: a closed period recomputed with late usage or charges; one line per difference from what was issued.",
    "GOODWILL": "A goodwill or dispute credit issued by issueCreditNote: it credits issued positive lines and changes no measure, pool or window.",
})


class ContractStatus(str, Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"


described_enum(ContractStatus, description="Lifecycle of a contract: DRAFT → ACTIVE → ENDED, or CANCELLED from DRAFT.", values={
    "DRAFT": "Being written: its parts may be edited; nothing is billed and no usage is accepted.",
    "ACTIVE": "Activated: periods, windows and pools exist; usage is accepted and its periods close into invoices.",
    "ENDED": "Its last billing period is closed; nothing more is billed.",
    "CANCELLED": "A draft given up with cancelContract; kept, never billed, may be deleted.",
})


class LateUsage(Enum):
    """What the organization does with data for a billing period already closed (SPEC §17)."""

    ADJUST = "ADJUST"
    REJECT = "REJECT"


described_enum(LateUsage, description="What happens to usage or a one-time charge dated in a closed billing period "
               "(SPEC §17).", values={
    "ADJUST": "Stored as late (ACCEPTED_LATE) within correctionWindowDays of the period's end; a correction "
              "bills it as credit and debit notes. Later: PERIOD_CLOSED.",
    "REJECT": "Refused (PERIOD_CLOSED), as for every closed period.",
})
