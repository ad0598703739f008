"""The billing core against an exact oracle (SPEC §2, §4–§8), on random contracts (hypothesis).

The oracle below is written from SPEC's formulas alone: its own calendar, its own rounding, every
intermediate a ``fractions.Fraction`` (a share of days, an average, a percent), and one rounding,
half up (away from zero), to the currency's minor unit when a figure becomes a line or a pool. It
calls none of the core's helpers. Contracts are drawn in GBP (2 decimals), JPY (0) and KWD (3),
with terms that end mid-period, so the last billing period and the last commitment window are
partial and every proration is a ratio of odd day counts (2 of 28, 17 of 31, 45 of 92 …).

Each property compares the core's invoice figures with the oracle's to the minor unit:

- rated charges of every billing period (``rate_period``): USAGE, prorated RECURRING, STANDING and
  MINIMUM_SPEND;
- the pools activation issues (the committed amounts of partial windows, prepaid and postpaid) and
  the commitment-fee parts of a billing plan;
- USAGE and AVERAGE_USAGE windows (``close_period``): committed amount, measure, volume and
  shortfall exactly, and COUNT, CHARGE and TIERED (UNITS / PERCENT × GRADUATED / VOLUME) penalties;
- prepaid overage surcharges (with rollover credit), postpaid overage surcharges and true-ups.

The two findings that made these exact are pinned as examples at the end: a standing charge of
£11.69 over 2 of 28 days is £0.835 and bills £0.84, and an AVERAGE_USAGE shortfall of exactly
60.985 MB at a rate of 1 bills 60.99.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from money_builders import simulate

from app.billing.activation import activate
from app.billing.calendar import billing_periods
from app.billing.fees import fee_lines_for_period
from app.billing.rating import rate_period
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    DateRange,
    Frequency,
    LineType,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    Price,
    PricingModel,
    ProductKind,
    RampStep,
    ServiceLine,
    TierBasis,
    TierMode,
)

D = Decimal
F = Fraction
EXAMPLES = settings(max_examples=300, deadline=None)
ZERO = D(0)

# The oracle's own table (the core reads ISO 4217 from a library; this is the independent copy).
PLACES = {"GBP": 2, "JPY": 0, "KWD": 3}
CURRENCIES = tuple(PLACES)
MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


# --- the oracle ---------------------------------------------------------------------------------


def half_up(value: Fraction, currency: str) -> Decimal:
    """``value`` rounded once, half away from zero, to the currency's minor unit."""
    places = PLACES[currency]
    whole = math.floor(abs(value) * 10**places + F(1, 2))
    return D(-whole if value < 0 else whole).scaleb(-places)


def round_down(value: Fraction, currency: str) -> Decimal:
    places = PLACES[currency]
    return D(math.floor(value * 10**places)).scaleb(-places)


def plus_months(day: date, months: int) -> date:
    """SPEC §2's add_months: keep the day of month, clamped to the target month's last day."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Span:
    """Period / window *index* of a series: ``[start, end)`` inside the term, uncut
    ``[start, full_end)``."""

    index: int
    start: date
    end: date
    full_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def full_days(self) -> int:
        return (self.full_end - self.start).days

    @property
    def partial(self) -> bool:
        return self.end != self.full_end

    def holds(self, start: date, end: date) -> bool:
        return self.start <= start and end <= self.end

    def overlap(self, start: date, end: date) -> int:
        return max(0, (min(self.end, end) - max(self.start, start)).days)


def series(anchor: date, months: int, end: date) -> list[Span]:
    """Every period ``k``: ``[anchor + k·n months, anchor + (k+1)·n months)``, cut at ``end``."""
    out: list[Span] = []
    while True:
        start = plus_months(anchor, len(out) * months)
        if start >= end:
            return out
        full_end = plus_months(anchor, (len(out) + 1) * months)
        out.append(Span(len(out), start, min(full_end, end), full_end))


def ramp_at(ramp: Sequence[RampStep], number: int) -> Fraction:
    return F(max((s for s in ramp if s.from_window <= number), key=lambda s: s.from_window).amount)


def committed(c: Commitment, window: Span) -> Fraction:
    """SPEC §2/§3: the ramp amount, × days ÷ uncut days for a partial window of a flow type."""
    amount = ramp_at(c.ramp, window.index + 1)
    if window.partial and c.type in (CommitmentType.SPEND, CommitmentType.USAGE) and c.prorate:
        return amount * F(window.days, window.full_days)
    return amount


def windows_of(c: Commitment) -> list[Span]:
    return series(c.term.start, MONTHS[c.frequency], c.term.end)


def recurring(line: ServiceLine, period: Span) -> Fraction:
    """SPEC §5: quantity × unit price × (days active in the period ÷ days of the uncut period)."""
    days = period.overlap(line.active.start, line.active.end)
    return F(line.quantity) * F(line.unit_price) * F(days, period.full_days)


def per_unit(price: Price, quantity: Decimal) -> Fraction:
    return F(quantity) * F(price.unit_amount)


def tiered_penalty(p: Penalty, shortfall: Fraction, total: Fraction) -> Fraction:
    """SPEC §8 TIERED, worked on x itself (a percent of the committed total for PERCENT)."""
    if p.basis is TierBasis.PERCENT:
        if total <= 0:
            return F(0)
        x, to_units = shortfall / total * 100, total / 100
    else:
        x, to_units = shortfall, F(1)
    if p.mode is TierMode.VOLUME:
        tier = next((t for t in p.tiers if t.up_to is None or x <= F(t.up_to)), p.tiers[-1])
        return shortfall * F(tier.rate) + F(tier.flat)
    amount, lower = F(0), F(0)
    for tier in p.tiers:
        if x <= lower:
            break
        top = x if tier.up_to is None else min(x, F(tier.up_to))
        amount += (top - lower) * to_units * F(tier.rate) + F(tier.flat)
        if tier.up_to is None:
            break
        lower = F(tier.up_to)
    return amount


def penalty(p: Penalty, shortfall: Fraction, total: Fraction, window_charges: Fraction) -> Fraction:
    if shortfall <= 0:
        return F(0)
    if p.kind is PenaltyKind.CHARGE:
        return max(F(0), F(p.amount) - window_charges)
    if p.kind is PenaltyKind.COUNT:
        return shortfall * F(p.rate)
    return tiered_penalty(p, shortfall, total)


# --- generated contracts -------------------------------------------------------------------------

# Anchors on the 1st, mid-month, the 30th and 31st (clamped to 28/29 Feb), in leap and other years.
ANCHORS = (
    date(2024, 1, 31),
    date(2024, 2, 1),
    date(2025, 1, 1),
    date(2025, 11, 30),
    date(2026, 2, 1),
    date(2026, 3, 15),
    date(2026, 8, 31),
)


@st.composite
def terms_spans(draw: st.DrawFn) -> DateRange:
    """A term of 0–3 whole months and, mostly, part of one more month (never empty)."""
    anchor = draw(st.sampled_from(ANCHORS))
    whole = draw(st.integers(0, 3))
    start_last, end_last = plus_months(anchor, whole), plus_months(anchor, whole + 1)
    extra = draw(st.integers(0 if whole else 1, (end_last - start_last).days - 1))
    return DateRange(anchor, start_last + timedelta(days=extra))


def amounts(currency: str, max_units: int, extra_places: int = 2) -> st.SearchStrategy[Decimal]:
    """Money with up to ``extra_places`` more decimals than the currency has."""
    places = PLACES[currency] + extra_places
    return st.integers(0, max_units * 10**places).map(lambda n: D(n).scaleb(-places))


def quantities(max_units: int, places: int = 3) -> st.SearchStrategy[Decimal]:
    return st.integers(0, max_units * 10**places).map(lambda n: D(n).scaleb(-places))


@st.composite
def service_lines(
    draw: st.DrawFn, term: DateRange, currency: str, products: Sequence[str], priced: bool = True
) -> tuple[ServiceLine, ...]:
    lines = []
    for number in range(draw(st.integers(0 if priced else 1, 3))):
        days = (term.end - term.start).days
        first = draw(st.integers(0, days - 1))
        last = draw(st.integers(first + 1, days))
        lines.append(
            ServiceLine(
                key=f"l{number}",
                product=draw(st.sampled_from(products)),
                kind=ProductKind.SERVICE,
                quantity=D(draw(st.integers(0, 5))) if not priced else draw(quantities(5, 1)),
                unit_price=draw(amounts(currency, 40)) if priced else D(0),
                active=DateRange(
                    term.start + timedelta(days=first), term.start + timedelta(days=last)
                ),
            )
        )
    return tuple(lines)


def period_usage(draw: st.DrawFn, count: int) -> list[dict[str, Decimal]]:
    return [{"mb": draw(quantities(400))} for _ in range(count)]


def ramp_for(
    draw: st.DrawFn, windows: int, amount: st.SearchStrategy[Decimal]
) -> tuple[RampStep, ...]:
    starts = sorted(draw(st.sets(st.integers(2, windows), max_size=2))) if windows > 1 else []
    return tuple(RampStep(n, draw(amount)) for n in [1, *starts])


# --- rating --------------------------------------------------------------------------------------


@st.composite
def rating_cases(draw: st.DrawFn) -> tuple[ContractTerms, list[dict[str, Decimal]]]:
    currency = draw(st.sampled_from(CURRENCIES))
    term = draw(terms_spans())
    terms = ContractTerms(
        currency=currency,
        term=term,
        billing_frequency=Frequency.MONTHLY,
        standing_charge=draw(amounts(currency, 500)),
        minimum_spend=draw(amounts(currency, 500)),
        prices=(Price("mb", PricingModel.PER_UNIT, draw(amounts(currency, 2, 3))),),
        service_lines=draw(service_lines(term, currency, ("sim", "router"))),
    )
    return terms, period_usage(draw, len(series(term.start, 1, term.end)))


def expected_charges(terms: ContractTerms, period: Span, quantity: Decimal) -> dict[str, Decimal]:
    """The oracle's charges of one billing period, by charge key (lines rounding to 0 left off)."""
    cur = terms.currency
    share = F(period.days, period.full_days)
    usage = half_up(per_unit(terms.prices[0], quantity), cur) if quantity else None
    out: dict[str, Decimal] = {} if usage is None else {"usage:mb": usage}
    for line in terms.service_lines:
        amount = half_up(recurring(line, period), cur)
        if period.overlap(line.active.start, line.active.end) and amount:
            out[f"recurring:{line.key}"] = amount
    standing = half_up(F(terms.standing_charge) * share, cur)
    minimum = half_up(max(F(0), F(terms.minimum_spend) * share - F(usage or 0)), cur)
    for key, amount in (("standing", standing), ("minimum_spend", minimum)):
        if amount:
            out[key] = amount
    return out


def rated(
    terms: ContractTerms, usage: list[dict[str, Decimal]]
) -> list[tuple[dict[str, Decimal], dict[str, Decimal]]]:
    """(core, oracle) charges of every billing period."""
    spans = series(terms.term.start, 1, terms.term.end)
    periods = billing_periods(terms)
    assert [(p.span.start, p.span.end, p.full.end) for p in periods] == [
        (s.start, s.end, s.full_end) for s in spans
    ]
    return [
        (
            {c.key: c.amount for c in rate_period(terms, period, used, ())},
            expected_charges(terms, span, used["mb"]),
        )
        for period, span, used in zip(periods, spans, usage, strict=True)
    ]


def _only(charges: dict[str, Decimal], *keys: str) -> dict[str, Decimal]:
    return {k: v for k, v in charges.items() if k.split(":")[0] in keys}


@EXAMPLES
@given(rating_cases())
def test_usage_and_prorated_recurring_charges_match_the_oracle(
    case: tuple[ContractTerms, list[dict[str, Decimal]]],
) -> None:
    terms, usage = case
    for core, oracle in rated(terms, usage):
        assert _only(core, "usage", "recurring") == _only(oracle, "usage", "recurring")


def _flat_terms(
    currency: str, amount: str, start: date, days: int
) -> tuple[ContractTerms, list[dict[str, Decimal]]]:
    """A contract whose standing charge and minimum spend are both ``amount``, ending ``days`` into
    the period starting ``start`` (a monthly contract of one, partial, billing period)."""
    term = DateRange(start, start + timedelta(days=days))
    terms = ContractTerms(
        currency,
        term,
        Frequency.MONTHLY,
        standing_charge=D(amount),
        minimum_spend=D(amount),
        prices=(Price("mb", PricingModel.PER_UNIT, D(0)),),
    )
    return terms, [{"mb": D(0)}]


# Exact half-way proratings (x.xx5, x.5, x.xxx5): the cut ratio of a decimal division lands them
# just below the tie, where a decimal computation rounds them down.
STANDING_TIES = [
    _flat_terms("GBP", "11.69", date(2026, 2, 1), 2),  # 11.69 × 2 ÷ 28 = 0.835 → 0.84
    _flat_terms("JPY", "1169", date(2026, 2, 1), 2),  # 83.5 → ¥84
    _flat_terms("JPY", "119", date(2026, 2, 1), 2),  # 8.5 → ¥9
    _flat_terms("KWD", "1.169", date(2026, 2, 1), 2),  # 0.0835 → 0.084
]

@EXAMPLES
@given(rating_cases())
@example(STANDING_TIES[0])
@example(STANDING_TIES[1])
@example(STANDING_TIES[2])
@example(STANDING_TIES[3])
def test_prorated_standing_charge_and_minimum_spend_match_the_oracle(
    case: tuple[ContractTerms, list[dict[str, Decimal]]],
) -> None:
    terms, usage = case
    for core, oracle in rated(terms, usage):
        assert _only(core, "standing", "minimum_spend") == _only(
            oracle, "standing", "minimum_spend"
        )


# --- activation: pools and billing-plan parts ----------------------------------------------------


@st.composite
def money_commitment_cases(draw: st.DrawFn) -> ContractTerms:
    currency = draw(st.sampled_from(CURRENCIES))
    term = draw(terms_spans())
    commitments = []
    for key, payment in (("pre", PaymentTiming.PREPAID), ("post", PaymentTiming.POSTPAID)):
        frequency = draw(st.sampled_from(list(MONTHS)))
        probe = Commitment(key, CommitmentType.SPEND, term, frequency, (RampStep(1, D(0)),))
        commitments.append(
            Commitment(
                key,
                CommitmentType.SPEND,
                term,
                frequency,
                ramp_for(draw, len(windows_of(probe)), amounts(currency, 5000)),
                payment=payment,
                prorate=draw(st.booleans()),
            )
        )
    return ContractTerms(currency, term, Frequency.MONTHLY, commitments=tuple(commitments))


def expected_plan_parts(rest: Decimal, count: int, currency: str) -> list[Decimal]:
    """SPEC §6 BILLING_PLAN: ``count`` parts of rest ÷ count rounded half up, the last taking the
    difference (docs/billing-rules.md §6: rounded down instead if the last would go negative)."""
    part = half_up(F(rest) / count, currency)
    if part * (count - 1) > rest:
        part = round_down(F(rest) / count, currency)
    return [part] * (count - 1) + [rest - part * (count - 1)]


@EXAMPLES
@given(money_commitment_cases())
def test_pools_hold_the_exact_committed_amount_of_every_window_rounded_once(
    terms: ContractTerms,
) -> None:
    """Prepaid and tracking pools of partial windows, and the prepaid fee's billing-plan parts."""
    result = activate(terms)
    pools = {pool.key: pool.balance for pool in result.pools}
    cur = terms.currency
    expected: dict[str, Decimal] = {}
    for c in terms.commitments:
        kind = "prepaid" if c.payment is PaymentTiming.PREPAID else "tracking"
        for window in windows_of(c):
            expected[f"{kind}:{c.key}:{window.index}"] = half_up(committed(c, window), cur)
    assert pools == expected

    prepaid = terms.commitments[0]
    total = sum((v for k, v in expected.items() if k.startswith("prepaid:")), D(0))
    periods = billing_periods(terms)
    parts = expected_plan_parts(total, len(periods), cur)
    fees = [
        sum((ln.amount for ln in fee_lines_for_period(terms, prepaid, p)), D(0)) for p in periods
    ]
    assert fees == [max(part, D(0)) for part in parts]
    assert sum(fees, D(0)) == total


# --- quantity commitments: shortfalls and penalties ----------------------------------------------


@st.composite
def penalties(draw: st.DrawFn, currency: str) -> tuple[Penalty, ...]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(PenaltyKind))
        if kind is PenaltyKind.COUNT:
            out.append(Penalty(PenaltyKind.COUNT, rate=draw(quantities(3, 4))))
        elif kind is PenaltyKind.CHARGE:
            out.append(Penalty(PenaltyKind.CHARGE, amount=draw(amounts(currency, 300))))
        else:
            basis = draw(st.sampled_from(TierBasis))
            top = 100 if basis is TierBasis.PERCENT else 300
            bounds = sorted(draw(st.sets(st.integers(1, top * 10), min_size=1, max_size=3)))
            open_last = draw(st.booleans())
            tiers = [
                PenaltyTier(D(b).scaleb(-1), draw(quantities(2, 4)), draw(amounts(currency, 20)))
                for b in bounds
            ]
            if open_last:
                tiers.append(PenaltyTier(None, draw(quantities(2, 4)), draw(amounts(currency, 20))))
            out.append(
                Penalty(
                    PenaltyKind.TIERED,
                    basis=basis,
                    mode=draw(st.sampled_from(TierMode)),
                    tiers=tuple(tiers),
                )
            )
    return tuple(out)


@st.composite
def quantity_cases(draw: st.DrawFn) -> tuple[ContractTerms, list[dict[str, Decimal]]]:
    currency = draw(st.sampled_from(CURRENCIES))
    term = draw(terms_spans())
    commitments = []
    for key, type_ in (("use", CommitmentType.USAGE), ("avg", CommitmentType.AVERAGE_USAGE)):
        frequency = draw(st.sampled_from(list(MONTHS)))
        probe = Commitment(key, type_, term, frequency, (RampStep(1, D(0)),))
        commitments.append(
            Commitment(
                key,
                type_,
                term,
                frequency,
                ramp_for(draw, len(windows_of(probe)), quantities(600, 3)),
                usage_class="mb",
                service="sim" if type_ is CommitmentType.AVERAGE_USAGE else None,
                prorate=draw(st.booleans()) if type_ is CommitmentType.USAGE else True,
                penalties=draw(penalties(currency)),
            )
        )
    terms = ContractTerms(
        currency,
        term,
        Frequency.MONTHLY,
        prices=(Price("mb", PricingModel.PER_UNIT, draw(amounts(currency, 1, 3))),),
        service_lines=draw(service_lines(term, currency, ("sim", "router"), priced=False)),
        commitments=tuple(commitments),
    )
    return terms, period_usage(draw, len(series(term.start, 1, term.end)))


@dataclass
class Expected:
    committed: Fraction
    measured: Fraction
    shortfall: Fraction
    volume: Fraction
    committed_total: Fraction
    penalties: tuple[Decimal, ...] = field(default=())


def expected_window(
    terms: ContractTerms, c: Commitment, window: Span, usage: list[dict[str, Decimal]]
) -> Expected:
    periods = series(terms.term.start, 1, terms.term.end)
    inside = [i for i, p in enumerate(periods) if window.holds(p.start, p.end)]
    used = sum((F(usage[i]["mb"]) for i in inside), F(0))
    charged = sum(
        (F(half_up(per_unit(terms.prices[0], usage[i]["mb"]), terms.currency)) for i in inside),
        F(0),
    )
    commit = committed(c, window)
    if c.type is CommitmentType.USAGE:
        measured, volume = used, F(1)
    else:
        volume = sum(
            (
                F(ln.quantity) * F(window.overlap(ln.active.start, ln.active.end), window.days)
                for ln in terms.service_lines
                if ln.product == "sim"
            ),
            F(0),
        )
        measured = used / volume if volume else F(0)
    shortfall = max(F(0), commit - measured) * volume
    total = commit * volume
    amounts_ = tuple(
        half_up(penalty(p, shortfall, total, charged), terms.currency) for p in c.penalties
    )
    return Expected(commit, measured, shortfall, volume, total, amounts_)


@EXAMPLES
@given(quantity_cases())
def test_usage_and_average_usage_shortfalls_and_penalties_match_the_oracle(
    case: tuple[ContractTerms, list[dict[str, Decimal]]],
) -> None:
    terms, usage = case
    run = simulate(terms, usage)
    settled = {
        (w.commitment_key, w.window.index): (w, result)
        for result in run.results
        for w in result.windows
    }
    for c in terms.commitments:
        for window in windows_of(c):
            w, result = settled[(c.key, window.index)]
            want = expected_window(terms, c, window, usage)
            m = w.measurement
            got = Expected(
                F(m.committed),
                F(m.measured),
                F(m.shortfall),
                F(m.volume),
                F(m.committed_total),
                tuple(w.penalties),
            )
            assert got == want, (c.key, window)
            lines = [
                ln.amount
                for ln in result.lines
                if ln.type is LineType.PENALTY
                and ln.commitment_key == c.key
                and ln.window_index == window.index
            ]
            assert lines == [a for a in want.penalties if a != 0]


# --- money commitments: overage surcharges, rollover, true-ups -----------------------------------

PERCENTS = [D("7.5"), D("12.5"), D("-25"), D("33.3"), D("0.5"), D("-100"), D("2.75"), D(10)]


@st.composite
def surcharge_cases(draw: st.DrawFn) -> tuple[ContractTerms, list[dict[str, Decimal]]]:
    currency = draw(st.sampled_from(CURRENCIES))
    term = draw(terms_spans())
    commitments = []
    for key, payment in (("pre", PaymentTiming.PREPAID), ("post", PaymentTiming.POSTPAID)):
        frequency = draw(st.sampled_from(list(MONTHS)))
        probe = Commitment(key, CommitmentType.SPEND, term, frequency, (RampStep(1, D(0)),))
        prepaid = payment is PaymentTiming.PREPAID
        commitments.append(
            Commitment(
                key,
                CommitmentType.SPEND,
                term,
                frequency,
                ramp_for(draw, len(windows_of(probe)), amounts(currency, 300)),
                payment=payment,
                prorate=draw(st.booleans()),
                overage_surcharge_percent=draw(st.sampled_from(PERCENTS)),
                rollover_fraction=draw(st.sampled_from([D(0), D("0.5"), D("0.333"), D(1)]))
                if prepaid
                else D(0),
                rollover_cap=draw(st.none() | amounts(currency, 100)) if prepaid else None,
            )
        )
    terms = ContractTerms(
        currency,
        term,
        Frequency.MONTHLY,
        prices=(Price("mb", PricingModel.PER_UNIT, draw(amounts(currency, 1, 3))),),
        service_lines=draw(service_lines(term, currency, ("sim", "router"))),
        commitments=tuple(commitments),
    )
    return terms, period_usage(draw, len(series(term.start, 1, term.end)))


@dataclass
class Books:
    """What the oracle expects of one close."""

    surcharges: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)
    true_ups: dict[str, Decimal] = field(default_factory=dict)
    drawn: Decimal = ZERO
    rolled: Decimal = ZERO


def window_at(windows: list[Span], period: Span) -> Span:
    return next(w for w in windows if w.start <= period.start < w.end)


def expected_closes(terms: ContractTerms, usage: list[dict[str, Decimal]]) -> list[Books]:
    """Close every period by SPEC §5–§7: rate, draw the prepaid pools (rolled-over credit first),
    surcharge the overage, settle the windows."""
    cur = terms.currency
    pre, post = terms.commitments
    pre_windows, post_windows = windows_of(pre), windows_of(post)
    fresh = {w.index: half_up(committed(pre, w), cur) for w in pre_windows}
    rolled: dict[int, Decimal] = {}
    spent: dict[int, Fraction] = {}
    out = []
    for period in series(terms.term.start, 1, terms.term.end):
        books = Books()
        charges = expected_charges(terms, period, usage[period.index]["mb"])
        # Drawdown order: USAGE, then RECURRING by product and line (SPEC §7).
        lines = sorted(
            (k for k in charges if k.startswith("recurring:")),
            key=lambda k: (
                next(ln.product for ln in terms.service_lines if f"recurring:{ln.key}" == k),
                k,
            ),
        )
        order = [k for k in ("usage:mb",) if k in charges] + lines
        w = window_at(pre_windows, period)
        owed = {}
        for key in order:
            left = charges[key]
            for pools in (rolled, fresh):
                take = min(left, pools.get(w.index, D(0)))
                if take > 0:
                    pools[w.index] -= take
                    books.drawn += take
                    left -= take
            owed[key] = left
        if rolled.get(w.index, D(0)) + fresh[w.index] == 0:
            for key in order:
                amount = half_up(F(owed[key]) * F(pre.overage_surcharge_percent) / 100, cur)
                if owed[key] > 0 and amount:
                    books.surcharges[(pre.key, key)] = amount
        if (
            period.end == w.end
            and w.index + 1 < len(pre_windows)
            and pre.rollover_fraction > 0
            and fresh[w.index] > 0
        ):
            amount = F(fresh[w.index]) * F(pre.rollover_fraction)
            if pre.rollover_cap is not None:
                amount = min(amount, F(pre.rollover_cap))
            books.rolled = half_up(amount, cur)
            if books.rolled:
                rolled[w.index + 1] = books.rolled
        v = window_at(post_windows, period)
        floor = F(half_up(committed(post, v), cur))
        before = spent.get(v.index, F(0))
        after = spent[v.index] = before + sum((F(a) for a in charges.values()), F(0))
        above = max(F(0), after - floor) - max(F(0), before - floor)
        amount = half_up(above * F(post.overage_surcharge_percent) / 100, cur)
        if amount:
            books.surcharges[(post.key, None)] = amount
        if period.end == v.end and floor > after:
            books.true_ups[post.key] = half_up(floor - after, cur)  # both are whole minor units
        out.append(books)
    return out


@EXAMPLES
@given(surcharge_cases())
def test_prepaid_and_postpaid_overage_surcharges_and_true_ups_match_the_oracle(
    case: tuple[ContractTerms, list[dict[str, Decimal]]],
) -> None:
    terms, usage = case
    run = simulate(terms, usage)
    for result, want in zip(run.results, expected_closes(terms, usage), strict=True):
        got = Books(
            surcharges={
                (ln.commitment_key or "", ln.charge_key): ln.amount
                for ln in result.lines
                if ln.type is LineType.OVERAGE_SURCHARGE
            },
            true_ups={
                ln.commitment_key or "": ln.amount
                for ln in result.lines
                if ln.type is LineType.TRUE_UP
            },
            drawn=-sum((ln.amount for ln in result.lines if ln.type is LineType.DRAWDOWN), D(0)),
            rolled=sum((e.amount for e in result.entries if e.kind.value == "ROLLOVER_IN"), D(0)),
        )
        assert got == want, result.period


# --- the two findings, as examples ---------------------------------------------------------------


def test_a_standing_charge_of_11_69_over_2_of_28_days_bills_0_84() -> None:
    """11.69 × 2 ÷ 28 = 0.835 exactly: half a penny, so up to £0.84 (a ratio cut first gave
    0.83)."""
    terms, _ = _flat_terms("GBP", "11.69", date(2026, 2, 1), 2)
    (period,) = billing_periods(terms)
    assert (period.span.days, period.full.days) == (2, 28)
    charges = {c.key: c.amount for c in rate_period(terms, period, {}, ())}
    assert charges == {"standing": D("0.84"), "minimum_spend": D("0.84")}


def test_an_average_usage_shortfall_of_60_985_mb_at_rate_1_bills_60_99() -> None:
    """C = 100 MB per SIM, 3 SIMs all month, U = 239.015 MB: M = 79.67166…, S = (C − M) × 3 =
    300 − 239.015 = 60.985 MB exactly, so COUNT {rate 1} bills 60.99 (an average cut to 38 digits
    made S = 60.98499… and billed 60.98)."""
    term = DateRange(date(2026, 1, 1), date(2026, 2, 1))
    sims = tuple(
        ServiceLine(f"sim{i}", "sim", ProductKind.SERVICE, D(1), D(0), term) for i in range(3)
    )
    avg = Commitment(
        "avg",
        CommitmentType.AVERAGE_USAGE,
        term,
        Frequency.MONTHLY,
        (RampStep(1, D(100)),),
        usage_class="mb",
        service="sim",
        penalties=(Penalty(PenaltyKind.COUNT, rate=D(1)),),
    )
    terms = ContractTerms("GBP", term, Frequency.MONTHLY, service_lines=sims, commitments=(avg,))
    (result,) = simulate(terms, [{"mb": "239.015"}]).results
    (window,) = result.windows
    assert F(window.measurement.shortfall) == F("60.985")
    assert window.penalties == (D("60.99"),)
    assert [ln.amount for ln in result.lines if ln.type is LineType.PENALTY] == [D("60.99")]


def test_a_prorated_usage_commitment_is_an_exact_fraction_of_days() -> None:
    """1,000 GB a month over 2 of February's 28 days commits 1,000 × 2 ÷ 28 = 500/7 GB exactly;
    71 GB used falls 3/7 GB short, and COUNT {rate 0.035} bills 3/7 × 0.035 = 0.015 → 0.02 (a
    committed amount cut to 38 digits left S a hair under 3/7 and billed 0.01)."""
    term = DateRange(date(2026, 2, 1), date(2026, 2, 3))
    use = Commitment(
        "use",
        CommitmentType.USAGE,
        term,
        Frequency.MONTHLY,
        (RampStep(1, D(1000)),),
        usage_class="gb",
        penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.035")),),
    )
    terms = ContractTerms("GBP", term, Frequency.MONTHLY, commitments=(use,))
    (result,) = simulate(terms, [{"gb": "71"}]).results
    (window,) = result.windows
    assert F(window.measurement.committed) == F(500, 7)
    assert F(window.measurement.shortfall) == F(3, 7)
    assert window.penalties == (D("0.02"),)


def test_the_oracle_rounds_half_away_from_zero() -> None:
    assert half_up(F(835, 1000), "GBP") == D("0.84")
    assert half_up(F(-835, 1000), "GBP") == D("-0.84")
    assert half_up(F(1, 2), "JPY") == D(1)
    assert half_up(F(835, 10000), "KWD") == D("0.084")
    assert half_up(F(1, 3), "GBP") == D("0.33")
    assert plus_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert plus_months(date(2024, 1, 31), 2) == date(2024, 3, 31)
    assert [(s.days, s.full_days) for s in series(date(2026, 2, 1), 1, date(2026, 2, 3))] == [
        (2, 28)
    ]
