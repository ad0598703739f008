"""Rating: the drawable charges of one billing period (SPEC §5).

``rate_usage`` prices a quantity, unrounded; ``rate_period`` produces the period's charges, each
rounded half up to the currency's minor unit. Choices where SPEC.md is silent (also in
docs/billing-rules.md §4):

- A tier is *reached* when the quantity is strictly above its lower bound, so quantity 0 bills
  nothing, not even the first tier's flat fee (graduated and volume alike).
- Graduated and volume prices must end with an open tier; per-unit prices have no tiers and tiered
  prices have no ``unit_amount``.
- Usage of a class the contract does not price is not rated (commitments may still measure it).
- Lines are omitted when there is nothing to bill: USAGE with quantity 0, RECURRING / STANDING /
  MINIMUM_SPEND whose rounded amount is 0. ONE_TIME charges always appear as posted.
- Contract-level charges carry the reserved product codes ``standing`` and ``minimum_spend``.
- Charges come out in the drawdown order (type, then product, then usage class / the service
  line's or one-time charge's creation order) and ``seq`` is their position in that tuple.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from app.billing.calendar import Period
from app.billing.charges import Charge, OneTimeCharge
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.guards import is_finite, require_non_negative
from app.billing.money import exact, ratio, round_money
from app.billing.terms import (
    DRAWABLE_ORDER,
    ChargeType,
    ContractTerms,
    DateRange,
    Price,
    PriceTier,
    PricingModel,
    ServiceLine,
    in_creation_order,
)
from app.billing.tiers import bounds_problem, landing_tier, reached_parts

ZERO = Decimal(0)
STANDING_PRODUCT = "standing"
MINIMUM_SPEND_PRODUCT = "minimum_spend"


def validate_price_tiers(tiers: Sequence[PriceTier]) -> None:
    """Refuse tiers that are empty, not strictly ascending (bounds > 0), open before the last,
    bounded at the last, or with a negative unit or flat amount. Raises ``INVALID_TIERS``."""
    problem = bounds_problem([t.up_to for t in tiers], last_must_be_open=True)
    if problem:
        raise BillingError(BillingErrorCode.INVALID_TIERS, problem, "tiers")
    for number, tier in enumerate(tiers, start=1):
        for value, what in ((tier.unit_amount, "unit amount"), (tier.flat_amount, "flat amount")):
            require_non_negative(
                value, BillingErrorCode.INVALID_TIERS, "tiers", f"tier {number}'s {what}"
            )


def validate_price(price: Price) -> None:
    """Refuse a price that cannot rate every quantity (``INVALID_PRICE`` / ``INVALID_TIERS``)."""
    if not price.usage_class:
        raise BillingError(
            BillingErrorCode.INVALID_PRICE, "a price needs a usage class", "usageClass"
        )
    if price.model is PricingModel.PER_UNIT:
        require_non_negative(
            price.unit_amount, BillingErrorCode.INVALID_PRICE, "unitAmount", "the unit amount"
        )
        if price.tiers:
            raise BillingError(
                BillingErrorCode.INVALID_PRICE, "a per-unit price has no tiers", "tiers"
            )
        return
    if not is_finite(price.unit_amount) or price.unit_amount != 0:
        raise BillingError(
            BillingErrorCode.INVALID_PRICE,
            f"a {price.model.value} price is priced by its tiers; leave unitAmount unset",
            "unitAmount",
        )
    validate_price_tiers(price.tiers)


def rate_usage(price: Price, quantity: Decimal) -> Fraction:
    """The exact, unrounded amount of ``quantity`` under ``price``.

    PER_UNIT: quantity × unit amount. GRADUATED: each tier the quantity reaches bills its part at
    its unit amount plus its flat amount. VOLUME: the whole quantity at the unit amount of the tier
    it lands in plus that tier's flat amount. Bounds are inclusive; quantity 0 bills 0.
    """
    if not is_finite(quantity) or quantity < 0:
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT,
            f"usage quantity must be ≥ 0, not {quantity}",
            "quantity",
        )
    if price.model is PricingModel.PER_UNIT:
        return exact(quantity) * exact(price.unit_amount)
    if quantity == 0:
        return Fraction(0)
    bounds = [t.up_to for t in price.tiers]
    if price.model is PricingModel.GRADUATED:
        parts = reached_parts(bounds, quantity)
        covered = sum((part for _, part in parts), ZERO)
        if covered != quantity:
            raise _beyond_tiers(price, quantity)
        return sum(
            (
                exact(part) * exact(price.tiers[i].unit_amount) + exact(price.tiers[i].flat_amount)
                for i, part in parts
            ),
            Fraction(0),
        )
    index = landing_tier(bounds, quantity)
    if index is None:
        raise _beyond_tiers(price, quantity)
    tier = price.tiers[index]
    return exact(quantity) * exact(tier.unit_amount) + exact(tier.flat_amount)


def _beyond_tiers(price: Price, quantity: Decimal) -> BillingError:
    return BillingError(
        BillingErrorCode.INVALID_TIERS,
        f"quantity {quantity} of {price.usage_class} lies above the last tier",
        "tiers",
    )


def _prices_by_class(prices: Sequence[Price]) -> dict[str, Price]:
    by_class: dict[str, Price] = {}
    for price in prices:
        if price.usage_class in by_class:
            raise BillingError(
                BillingErrorCode.INVALID_PRICE,
                f"usage class {price.usage_class} has more than one price",
                "prices",
            )
        by_class[price.usage_class] = price
    return by_class


def _usage_charges(
    terms: ContractTerms, period: Period, usage: Mapping[str, Decimal]
) -> list[Charge]:
    prices = _prices_by_class(terms.prices)
    charges = []
    for usage_class in sorted(usage):
        quantity = usage[usage_class]
        price = prices.get(usage_class)
        if price is None or (is_finite(quantity) and quantity == 0):
            continue
        charges.append(
            Charge(
                key=f"usage:{usage_class}",
                type=ChargeType.USAGE,
                product=usage_class,
                amount=round_money(rate_usage(price, quantity), terms.currency),
                service_period=period.span,
                quantity=quantity,
                unit_amount=price.unit_amount if price.model is PricingModel.PER_UNIT else None,
            )
        )
    return charges


def _recurring_charge(line: ServiceLine, period: Period, currency: str) -> Charge | None:
    start = max(line.active.start, period.span.start)
    end = min(line.active.end, period.span.end)
    if end <= start:
        return None
    share = ratio((end - start).days, period.full.days)
    amount = round_money(exact(line.quantity) * exact(line.unit_price) * share, currency)
    if amount == 0:
        return None
    return Charge(
        key=f"recurring:{line.key}",
        type=ChargeType.RECURRING,
        product=line.product,
        amount=amount,
        service_period=DateRange(start, end),
        quantity=line.quantity,
        unit_amount=line.unit_price,
    )


def _contract_charges(terms: ContractTerms, period: Period, usage_total: Decimal) -> list[Charge]:
    """STANDING and MINIMUM_SPEND, both prorated by ``span.days ÷ full.days`` (an exact share: the
    amount is rounded once, never the share on its own)."""
    share = ratio(period.span.days, period.full.days)
    standing = round_money(exact(terms.standing_charge) * share, terms.currency)
    owed = exact(terms.minimum_spend) * share - exact(usage_total)
    minimum = round_money(max(Fraction(0), owed), terms.currency)
    charges = []
    for type_, product, amount in (
        (ChargeType.STANDING, STANDING_PRODUCT, standing),
        (ChargeType.MINIMUM_SPEND, MINIMUM_SPEND_PRODUCT, minimum),
    ):
        if amount != 0:
            charges.append(
                Charge(
                    key=product,
                    type=type_,
                    product=product,
                    amount=amount,
                    service_period=period.span,
                )
            )
    return charges


def _one_time_charges(
    one_time: Sequence[OneTimeCharge], period: Period, currency: str
) -> list[Charge]:
    charges = []
    for item in in_creation_order(one_time):
        if not period.span.contains(item.service_date):
            continue
        require_non_negative(
            item.amount, BillingErrorCode.INVALID_AMOUNT, "amount", f"one-time charge {item.key}"
        )
        day = DateRange(item.service_date, item.service_date + timedelta(days=1))
        charges.append(
            Charge(
                key=f"one_time:{item.key}",
                type=ChargeType.ONE_TIME,
                product=item.product,
                amount=round_money(item.amount, currency),
                service_period=day,
            )
        )
    return charges


def rate_period(
    terms: ContractTerms,
    period: Period,
    usage: Mapping[str, Decimal],
    one_time: Sequence[OneTimeCharge],
) -> tuple[Charge, ...]:
    """The drawable charges of ``period``, rounded, in drawdown order with ``seq`` = position.

    ``usage`` maps a usage class to its total quantity in the period; ``one_time`` may hold charges
    of any date (only those whose service date lies in the period are billed).
    """
    usage_charges = _usage_charges(terms, period, usage)
    usage_total = sum((c.amount for c in usage_charges), ZERO)
    recurring = [
        charge
        for line in in_creation_order(terms.service_lines)
        if (charge := _recurring_charge(line, period, terms.currency)) is not None
    ]
    charges = (
        usage_charges
        + recurring
        + _contract_charges(terms, period, usage_total)
        + _one_time_charges(one_time, period, terms.currency)
    )
    rank = {type_: i for i, type_ in enumerate(DRAWABLE_ORDER)}
    # Stable sort: within a type and product the groups keep their own order (usage by class,
    # recurring and one-time by creation order).
    ordered = sorted(charges, key=lambda c: (rank[c.type], c.product))
    return tuple(replace(charge, seq=seq) for seq, charge in enumerate(ordered))
