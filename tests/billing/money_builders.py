"""Small builders for the money-commitment tests: contracts, commitments and a close loop.

``simulate`` plays the services layer: it activates the contract, then closes its billing periods
in order, feeding each close the pools the previous one left, the usage so far and the charges of
the earlier periods, exactly as ``CloseInput`` asks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.billing.activation import activate
from app.billing.calendar import add_months, billing_periods
from app.billing.charges import Charge, OneTimeCharge, UsageTotal
from app.billing.close import CloseInput, CloseResult, close_period
from app.billing.ledger import LedgerEntry, Pool
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    DateRange,
    Frequency,
    LineType,
    PaymentTiming,
    Price,
    PricingModel,
    RampStep,
)

D = Decimal
START = date(2025, 1, 1)


def months(count: int, start: date = START) -> DateRange:
    """``[start, start + count months)``."""
    return DateRange(start, add_months(start, count))


def price(usage_class: str = "api-calls", unit: str = "1") -> Price:
    """A per-unit price: with unit 1, a usage quantity is its own money amount."""
    return Price(usage_class, PricingModel.PER_UNIT, D(unit))


def ramp(*steps: tuple[int, str]) -> tuple[RampStep, ...]:
    return tuple(RampStep(window, D(amount)) for window, amount in steps)


def spend(
    key: str,
    payment: PaymentTiming,
    amount: str | tuple[RampStep, ...],
    term: DateRange,
    frequency: Frequency = Frequency.MONTHLY,
    **kw: Any,
) -> Commitment:
    """A SPEND commitment: ``amount`` per window, or a ramp."""
    steps = ramp((1, amount)) if isinstance(amount, str) else amount
    return Commitment(key, CommitmentType.SPEND, term, frequency, steps, payment=payment, **kw)


def prepaid(key: str, amount: str | tuple[RampStep, ...], term: DateRange, **kw: Any) -> Commitment:
    return spend(key, PaymentTiming.PREPAID, amount, term, **kw)


def postpaid(
    key: str, amount: str | tuple[RampStep, ...], term: DateRange, **kw: Any
) -> Commitment:
    return spend(key, PaymentTiming.POSTPAID, amount, term, **kw)


def contract(
    *commitments: Commitment,
    term: DateRange | None = None,
    currency: str = "USD",
    frequency: Frequency = Frequency.MONTHLY,
    prices: tuple[Price, ...] = (price(),),
    **kw: Any,
) -> ContractTerms:
    return ContractTerms(
        currency=currency,
        term=term or months(12),
        billing_frequency=frequency,
        prices=prices,
        commitments=tuple(commitments),
        **kw,
    )


@dataclass
class Run:
    """The state of a simulated contract between closes."""

    terms: ContractTerms
    pools: tuple[Pool, ...]
    entries: list[LedgerEntry] = field(default_factory=list)
    usage: list[UsageTotal] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    results: list[CloseResult] = field(default_factory=list)
    inputs: list[CloseInput] = field(default_factory=list)

    def close_next(
        self,
        usage: Mapping[str, str | Decimal] | None = None,
        one_time: Sequence[OneTimeCharge] = (),
    ) -> CloseResult:
        period = billing_periods(self.terms)[len(self.results)]
        for usage_class, quantity in (usage or {}).items():
            self.usage.append(UsageTotal(usage_class, period.span, D(quantity)))
        inp = CloseInput(
            terms=self.terms,
            period=period,
            usage=tuple(self.usage),
            one_time=tuple(one_time),
            prior_charges=tuple(self.charges),
            pools=self.pools,
        )
        result = close_period(inp)
        self.inputs.append(inp)
        self.pools = result.pools
        self.entries.extend(result.entries)
        self.charges.extend(result.charges)
        self.results.append(result)
        return result


def start(terms: ContractTerms, balances: Sequence[tuple[Pool, LedgerEntry]] = ()) -> Run:
    """Activate ``terms`` and add the given balances (pool, ISSUE entry) to the run."""
    activation = activate(terms, first_seq=100)
    pools = activation.pools + tuple(pool for pool, _ in balances)
    entries = list(activation.entries) + [item for _, item in balances]
    return Run(terms, pools, entries)


def simulate(
    terms: ContractTerms,
    usage: Sequence[Mapping[str, str | Decimal]],
    balances: Sequence[tuple[Pool, LedgerEntry]] = (),
) -> Run:
    """Activate, then close one period per item of ``usage`` (usage class → quantity)."""
    run = start(terms, balances)
    for period_usage in usage:
        run.close_next(period_usage)
    return run


def amounts(result: CloseResult, line_type: LineType) -> list[Decimal]:
    """The amounts of the lines of one type, in invoice order."""
    return [line.amount for line in result.lines if line.type is line_type]


def total(result: CloseResult, line_type: LineType) -> Decimal:
    return sum(amounts(result, line_type), D(0))


def pool_of(run: Run, key: str) -> Pool:
    return next(pool for pool in run.pools if pool.key == key)
