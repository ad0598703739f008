"""Draft-time validation of commitments and contract terms, with the fields the API reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.billing.errors import BillingError, BillingErrorCode
from app.billing.terms import (
    ChargeType,
    Commitment,
    CommitmentType,
    ContractTerms,
    DateRange,
    FeeBilling,
    FeeDate,
    FeeSchedule,
    Frequency,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    Price,
    PricingModel,
    ProductKind,
    RampStep,
    ServiceLine,
)
from app.billing.validation import (
    ValidationErrors,
    commitment_errors,
    contract_errors,
    validate_commitment,
    validate_contract_terms,
)

D = Decimal
T = CommitmentType
E = BillingErrorCode
YEAR = DateRange(date(2024, 1, 1), date(2025, 1, 1))
PREPAID, POSTPAID = PaymentTiming.PREPAID, PaymentTiming.POSTPAID


def d(text: str) -> date:
    return date.fromisoformat(text)


def good(kind: CommitmentType) -> Commitment:
    """A valid commitment of each type."""
    extra: dict[CommitmentType, dict[str, object]] = {
        T.SPEND: {"payment": POSTPAID},
        T.USAGE: {"usage_class": "data-gb"},
        T.SERVICE: {"service": "sim-a"},
        T.PACKAGE_SERVICE: {
            "service": "sim-a",
            "package": "package-a",
            "package_frequency": Frequency.MONTHLY,
        },
        T.PACKAGE: {"package": "package-a"},
        T.AVERAGE_USAGE: {"usage_class": "sms-mo-mb", "service": "sim-a"},
    }
    return Commitment(
        key=f"c-{kind.value.lower()}",
        type=kind,
        term=YEAR,
        frequency=Frequency.MONTHLY,
        ramp=(RampStep(1, D(10000)), RampStep(5, D(20000)), RampStep(9, D(30000))),
        **extra[kind],  # type: ignore[arg-type]
    )


ONE_STEP = (RampStep(1, D(500)),)
PREPAID_SPEND = replace(
    good(T.SPEND),
    key="c-prepaid",
    payment=PREPAID,
    fees=FeeSchedule(amount_prepaid=D(5000)),
    overage_surcharge_percent=D(10),
    rollover_fraction=D("0.5"),
    rollover_cap=D(1000),
    eligible_charge_types=frozenset({ChargeType.USAGE}),
    eligible_products=frozenset({"sms"}),
    priority=2,
    penalties=(Penalty(PenaltyKind.CHARGE, amount=D(5000)),),
)


@pytest.mark.parametrize(
    "commitment",
    [
        *(good(kind) for kind in T),
        PREPAID_SPEND,
        replace(good(T.SPEND), payment=PREPAID, separate_overage=True),
        replace(good(T.SPEND), overage_surcharge_percent=D(-100)),
        replace(good(T.SPEND), rollover_fraction=D(1), rollover_cap=D(0), true_up=False),
        replace(
            good(T.USAGE), prorate=False, penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.01")),)
        ),
        replace(good(T.SPEND), ramp=ONE_STEP, term=DateRange(d("2024-04-01"), d("2024-09-01"))),
        replace(
            good(T.SPEND), term=DateRange(d("2024-01-01"), d("2024-10-01"))
        ),  # step 9 = window 9
    ],
    ids=lambda c: c.key,
)
def test_valid_commitments(commitment: Commitment) -> None:
    assert commitment_errors(commitment, YEAR) == []
    validate_commitment(commitment, YEAR)


def bad(kind: CommitmentType, **changes: object) -> Commitment:
    return replace(good(kind), **changes)  # type: ignore[arg-type]


TIER = (PenaltyTier(D(5), D(1)), PenaltyTier(D(5), D(1)))


@pytest.mark.parametrize(
    ("commitment", "code", "field"),
    [
        # term
        (
            bad(T.SPEND, term=DateRange(d("2024-03-01"), d("2024-03-01"))),
            E.INVALID_INTERVAL,
            "endDate",
        ),
        (
            bad(T.SPEND, ramp=ONE_STEP, term=DateRange(d("2023-12-01"), d("2024-06-01"))),
            E.DATE_OUTSIDE_TERM,
            "startDate",
        ),
        (
            bad(T.SPEND, ramp=ONE_STEP, term=DateRange(d("2024-06-01"), d("2025-02-01"))),
            E.DATE_OUTSIDE_TERM,
            "endDate",
        ),
        # what the type measures
        (bad(T.USAGE, usage_class=None), E.INVALID_COMMITMENT, "usageClass"),
        (bad(T.USAGE, usage_class=""), E.INVALID_COMMITMENT, "usageClass"),
        (bad(T.AVERAGE_USAGE, usage_class=None), E.INVALID_COMMITMENT, "usageClass"),
        (bad(T.AVERAGE_USAGE, service=None), E.INVALID_COMMITMENT, "service"),
        (bad(T.SERVICE, service=None), E.INVALID_COMMITMENT, "service"),
        (bad(T.PACKAGE_SERVICE, package=None), E.INVALID_COMMITMENT, "package"),
        (bad(T.PACKAGE_SERVICE, package_frequency=None), E.INVALID_COMMITMENT, "packageFrequency"),
        (bad(T.PACKAGE, package=None), E.INVALID_COMMITMENT, "package"),
        (bad(T.SPEND, usage_class="sms"), E.INVALID_COMMITMENT, "usageClass"),
        (bad(T.SERVICE, package="package-a"), E.INVALID_COMMITMENT, "package"),
        (
            bad(T.PACKAGE, package_frequency=Frequency.MONTHLY),
            E.INVALID_COMMITMENT,
            "packageFrequency",
        ),
        # payment
        (bad(T.SPEND, payment=None), E.INVALID_COMMITMENT, "payment"),
        (bad(T.USAGE, payment=POSTPAID), E.INVALID_COMMITMENT, "payment"),
        (bad(T.SPEND, fees=FeeSchedule(amount_first_bill=D(1))), E.INVALID_FEE_SCHEDULE, "fees"),
        (
            bad(T.SERVICE, fees=FeeSchedule(billing=FeeBilling.FEE_DATES)),
            E.INVALID_FEE_SCHEDULE,
            "fees",
        ),
        (bad(T.SPEND, separate_overage=True), E.INVALID_COMMITMENT, "separateOverage"),
        (bad(T.SPEND, payment=PREPAID, true_up=False), E.INVALID_COMMITMENT, "trueUp"),
        (bad(T.USAGE, true_up=False), E.INVALID_COMMITMENT, "trueUp"),
        # surcharge
        (
            bad(T.SPEND, overage_surcharge_percent=D("-100.01")),
            E.INVALID_SURCHARGE,
            "overageSurchargePercent",
        ),
        (
            bad(T.SPEND, overage_surcharge_percent=D("NaN")),
            E.INVALID_SURCHARGE,
            "overageSurchargePercent",
        ),
        (
            bad(T.USAGE, overage_surcharge_percent=D(10)),
            E.INVALID_SURCHARGE,
            "overageSurchargePercent",
        ),
        (
            bad(T.SPEND, payment=PREPAID, separate_overage=True, overage_surcharge_percent=D(5)),
            E.INVALID_SURCHARGE,
            "separateOverage",
        ),
        # rollover
        (bad(T.SPEND, rollover_fraction=D("1.01")), E.INVALID_ROLLOVER, "rolloverFraction"),
        (bad(T.SPEND, rollover_fraction=D("-0.1")), E.INVALID_ROLLOVER, "rolloverFraction"),
        (
            bad(T.SPEND, rollover_fraction=D(1), rollover_cap=D(-1)),
            E.INVALID_ROLLOVER,
            "rolloverCap",
        ),
        (bad(T.USAGE, rollover_fraction=D("0.5")), E.INVALID_ROLLOVER, "rolloverFraction"),
        (bad(T.USAGE, rollover_cap=D(5)), E.INVALID_ROLLOVER, "rolloverFraction"),
        # eligibility
        (
            bad(T.SPEND, eligible_charge_types=frozenset()),
            E.INVALID_COMMITMENT,
            "eligibleChargeTypes",
        ),
        (
            bad(T.USAGE, eligible_charge_types=frozenset({ChargeType.USAGE})),
            E.INVALID_COMMITMENT,
            "eligibleChargeTypes",
        ),
        (
            bad(T.USAGE, eligible_products=frozenset({"sms"})),
            E.INVALID_COMMITMENT,
            "eligibleProducts",
        ),
        # other settings
        (bad(T.SPEND, priority=-1), E.INVALID_COMMITMENT, "priority"),
        (bad(T.SERVICE, prorate=False), E.INVALID_COMMITMENT, "prorate"),
        # ramp
        (bad(T.SPEND, ramp=()), E.INVALID_RAMP, "rampSteps"),
        (bad(T.SPEND, ramp=(RampStep(2, D(1)),)), E.INVALID_RAMP, "rampSteps"),
        (bad(T.SPEND, ramp=(RampStep(1, D(-1)),)), E.INVALID_RAMP, "rampSteps"),
        # a step that would never apply: 9 starts at window 9 of a six-window commitment
        (
            bad(T.SPEND, term=DateRange(d("2024-01-01"), d("2024-07-01"))),
            E.INVALID_RAMP,
            "rampSteps",
        ),
        # penalties, with their position
        (
            bad(T.SPEND, penalties=(Penalty(PenaltyKind.CHARGE, amount=D(-1)),)),
            E.INVALID_PENALTY,
            "penalties.0.amount",
        ),
        (
            bad(
                T.USAGE,
                penalties=(
                    Penalty(PenaltyKind.COUNT, rate=D(1)),
                    Penalty(PenaltyKind.COUNT, rate=D(-1)),
                ),
            ),
            E.INVALID_PENALTY,
            "penalties.1.rate",
        ),
        (
            bad(T.USAGE, penalties=(Penalty(PenaltyKind.TIERED, tiers=TIER),)),
            E.INVALID_TIERS,
            "penalties.0.tiers",
        ),
    ],
)
def test_invalid_commitments(commitment: Commitment, code: BillingErrorCode, field: str) -> None:
    errors = commitment_errors(commitment, YEAR)
    assert [(e.code, e.field) for e in errors] == [(code, field)]
    with pytest.raises(BillingError) as caught:
        validate_commitment(commitment, YEAR)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_every_problem_of_a_commitment_is_reported() -> None:
    commitment = bad(
        T.USAGE,
        usage_class=None,
        overage_surcharge_percent=D(10),
        rollover_fraction=D(2),
        priority=-3,
        ramp=(),
        penalties=(Penalty(PenaltyKind.COUNT, rate=D(-1)),),
    )
    with pytest.raises(ValidationErrors) as caught:
        validate_commitment(commitment, YEAR)
    assert [e.field for e in caught.value.errors] == [
        "usageClass",
        "overageSurchargePercent",
        "rolloverFraction",
        "priority",
        "rampSteps",
        "penalties.0.rate",
    ]
    assert caught.value.field == "usageClass"  # a ValidationErrors reads as its first problem
    assert isinstance(caught.value, BillingError)


# --- contract terms ------------------------------------------------------------------------------


def line(key: str, **changes: object) -> ServiceLine:
    base = ServiceLine(key, "sim-a", ProductKind.SERVICE, D(2), D("10.00"), YEAR)
    return replace(base, **changes)  # type: ignore[arg-type]


TIERS = (
    Price("data", PricingModel.GRADUATED, tiers=()),  # invalid: no tiers
)
GOOD_TERMS = ContractTerms(
    currency="GBP",
    term=YEAR,
    billing_frequency=Frequency.MONTHLY,
    standing_charge=D(30),
    minimum_spend=D(100),
    prices=(Price("sms", PricingModel.PER_UNIT, D("0.05")),),
    service_lines=(line("l1"), line("l2", product="package-a", kind=ProductKind.PACKAGE)),
    commitments=(good(T.SPEND), good(T.USAGE), PREPAID_SPEND),
)


def test_valid_contract_terms() -> None:
    assert contract_errors(GOOD_TERMS) == []
    validate_contract_terms(GOOD_TERMS)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"currency": "XYZ"}, E.UNKNOWN_CURRENCY, "currency"),
        ({"currency": "XAU"}, E.UNKNOWN_CURRENCY, "currency"),
        (
            {"term": DateRange(d("2024-01-01"), d("2024-01-01"))},
            E.INVALID_INTERVAL,
            "endDate",
        ),
        ({"standing_charge": D(-1)}, E.INVALID_AMOUNT, "standingCharge"),
        ({"minimum_spend": D("-0.01")}, E.INVALID_AMOUNT, "minimumSpend"),
        (
            {"prices": (Price("sms", PricingModel.PER_UNIT, D(-1)),)},
            E.INVALID_PRICE,
            "prices.0.unitAmount",
        ),
        ({"prices": TIERS}, E.INVALID_TIERS, "prices.0.tiers"),
        (
            {
                "prices": (
                    Price("sms", PricingModel.PER_UNIT, D(1)),
                    Price("sms", PricingModel.PER_UNIT, D(2)),
                )
            },
            E.INVALID_PRICE,
            "prices.1.usageClass",
        ),
        (
            {"service_lines": (line("l1", quantity=D(-1)),)},
            E.INVALID_AMOUNT,
            "serviceLines.0.quantity",
        ),
        (
            {"service_lines": (line("l1", unit_price=D(-1)),)},
            E.INVALID_AMOUNT,
            "serviceLines.0.unitPrice",
        ),
        (
            {"service_lines": (line("l1", active=DateRange(d("2024-05-01"), d("2024-04-01"))),)},
            E.INVALID_INTERVAL,
            "serviceLines.0.endDate",
        ),
        (
            {"service_lines": (line("l1", active=DateRange(d("2023-05-01"), d("2024-04-01"))),)},
            E.DATE_OUTSIDE_TERM,
            "serviceLines.0.startDate",
        ),
        (
            {"service_lines": (line("l1", active=DateRange(d("2024-05-01"), d("2025-04-01"))),)},
            E.DATE_OUTSIDE_TERM,
            "serviceLines.0.endDate",
        ),
        (
            {"service_lines": (line("l1", kind=ProductKind.USAGE_CLASS),)},
            E.INVALID_SERVICE_LINE,
            "serviceLines.0.product",
        ),
        (
            {"service_lines": (line("l1", package_frequency=Frequency.MONTHLY),)},
            E.INVALID_SERVICE_LINE,
            "serviceLines.0.packageFrequency",
        ),
        ({"service_lines": (line("l1"), line("l1"))}, E.INVALID_SERVICE_LINE, "serviceLines.1.key"),
        (
            {"commitments": (good(T.SPEND), bad(T.USAGE, usage_class=None))},
            E.INVALID_COMMITMENT,
            "commitments.1.usageClass",
        ),
        (
            {"commitments": (good(T.SPEND), good(T.SPEND))},
            E.INVALID_COMMITMENT,
            "commitments.1.key",
        ),
        (
            {
                "commitments": (
                    bad(T.SPEND, ramp=ONE_STEP, term=DateRange(d("2024-06-01"), d("2025-06-01"))),
                )
            },
            E.DATE_OUTSIDE_TERM,
            "commitments.0.endDate",
        ),
        # the prepaid fee schedule (checked once the commitment is otherwise valid)
        (
            {"commitments": (replace(PREPAID_SPEND, fees=FeeSchedule(amount_prepaid=D(10**6))),)},
            E.INVALID_FEE_SCHEDULE,
            "commitments.0.fees",
        ),
        (
            {
                "commitments": (
                    replace(
                        PREPAID_SPEND,
                        fees=FeeSchedule(
                            billing=FeeBilling.FEE_DATES,
                            fee_dates=(FeeDate(d("2024-02-01"), D(1)),),
                        ),
                    ),
                )
            },
            E.INVALID_FEE_SCHEDULE,
            "commitments.0.feeDates",
        ),
    ],
)
def test_invalid_contract_terms(
    changes: dict[str, object], code: BillingErrorCode, field: str
) -> None:
    terms = replace(GOOD_TERMS, **changes)  # type: ignore[arg-type]
    assert [(e.code, e.field) for e in contract_errors(terms)] == [(code, field)]
    with pytest.raises(ValidationErrors) as caught:
        validate_contract_terms(terms)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_every_problem_of_a_contract_is_reported_in_order() -> None:
    terms = replace(
        GOOD_TERMS,
        currency="XYZ",
        standing_charge=D(-1),
        prices=TIERS,
        service_lines=(line("l1", quantity=D(-2)),),
        commitments=(good(T.SPEND), bad(T.SERVICE, service=None, priority=-1)),
    )
    assert [(e.code, e.field) for e in contract_errors(terms)] == [
        (E.UNKNOWN_CURRENCY, "currency"),
        (E.INVALID_AMOUNT, "standingCharge"),
        (E.INVALID_TIERS, "prices.0.tiers"),
        (E.INVALID_AMOUNT, "serviceLines.0.quantity"),
        (E.INVALID_COMMITMENT, "commitments.1.service"),
        (E.INVALID_COMMITMENT, "commitments.1.priority"),
    ]
