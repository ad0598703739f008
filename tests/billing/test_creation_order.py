"""Creation order (SPEC §7): the billing core never orders by the text or the size of a key.

SPEC §7 breaks the last ties of the drawdown by *creation order*: charges of one type and product
by the order their service lines or one-time charges were created, pools of one rank by the oldest
first. The services layer gives every commitment, service line, one-time charge and pool a
creation number (``seq``); keys are database ids as text, and "10" sorts before "9". The property
here: relabel every key of a contract (commitments, service lines, one-time charges, balances),
keeping the ``seq``s, and the activation and every close are the same once the keys are mapped
back: the same lines (types, amounts, order), the same ledger entries, the same pool balances.

The explicit examples flip text order ("9" / "10", "2" / "10") and numeric order ("10" created
before "9"). ``created`` passes ``seq`` only to dataclasses that have it, so this file also runs on
a core without the field (then keys alone decide, and the relabelling changes the invoices).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from money_builders import START, Run, months, price, ramp, start

from app.billing.activation import activate
from app.billing.charges import Charge, OneTimeCharge
from app.billing.close import CloseResult
from app.billing.credit import new_balance
from app.billing.drawdown import Draw
from app.billing.invoice import InvoiceLine
from app.billing.ledger import LedgerEntry, Pool
from app.billing.money import quantum
from app.billing.terms import (
    Commitment,
    CommitmentType,
    ContractTerms,
    DrawdownOrder,
    Frequency,
    LineType,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    ProductKind,
    ServiceLine,
)
from app.billing.window_end import WindowResult

D = Decimal
EXAMPLES = settings(max_examples=200, deadline=None)
T = TypeVar("T")


def created(cls: type[T], seq: int, **kw: Any) -> T:
    """``cls(**kw)`` created ``seq``-th (when ``cls`` knows a creation order)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**kw, **({"seq": seq} if "seq" in names else {}))


# --- a contract with ties at every level ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """A contract and what happens to it, with keys for each kind of object in creation order."""

    currency: str
    count: int
    order: DrawdownOrder
    commitments: tuple[dict[str, Any], ...]
    lines: tuple[dict[str, Any], ...]
    one_time: tuple[dict[str, Any], ...]
    balances: tuple[Decimal, ...]
    usage: tuple[Decimal, ...]


def money(currency: str, max_units: int) -> st.SearchStrategy[Decimal]:
    step = quantum(currency)
    return st.integers(0, max_units * int(1 / step)).map(lambda n: D(n) * step)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(("GBP", "JPY", "KWD")))
    count = draw(st.integers(1, 3))
    percents = st.sampled_from([D("12.5"), D("12.4"), D(10), D(0), D(-25)])
    # Two prepaid commitments whose pools tie on priority, end, rollover and products.
    prepaid = [
        {
            "payment": PaymentTiming.PREPAID,
            "amount": draw(money(currency, 60)),
            "percent": draw(percents),
            "rollover": draw(st.sampled_from([D(0), D("0.5"), D(1)])),
        }
        for _ in range(2)
    ]
    extra = []
    if draw(st.booleans()):
        extra.append(
            {
                "payment": PaymentTiming.POSTPAID,
                "amount": draw(money(currency, 150)),
                "percent": draw(percents),
                "rollover": D(0),
            }
        )
    if draw(st.booleans()):
        extra.append(
            {
                "payment": None,
                "amount": D(draw(st.integers(0, 200))),
                "percent": D(0),
                "rollover": D(0),
            }
        )
    days = (months(count).end - START).days
    lines = tuple(
        {"product": product, "price": draw(money(currency, 30))}
        for product in ("sim", "sim", "router")
    )
    one_time = tuple(
        {
            "product": product,
            "amount": draw(money(currency, 20)),
            "day": START + timedelta(days=draw(st.integers(0, days - 1))),
        }
        for product in ("setup", "setup", "addon", "setup")
    )
    return Case(
        currency=currency,
        count=count,
        order=draw(st.sampled_from(DrawdownOrder)),
        commitments=tuple(prepaid + extra),
        lines=lines,
        one_time=one_time,
        balances=tuple(draw(money(currency, 40)).max(quantum(currency)) for _ in range(2)),
        usage=tuple(D(draw(st.integers(0, 20_000))) / 100 for _ in range(count)),
    )


@dataclasses.dataclass(frozen=True)
class Keys:
    """The key of each object, in creation order, per kind."""

    commitments: tuple[str, ...]
    lines: tuple[str, ...]
    one_time: tuple[str, ...]
    balances: tuple[str, ...]


def in_order(case: Case) -> Keys:
    """Keys whose text, numeric and creation orders all agree: "1", "2", …"""

    def numbers(n: int) -> tuple[str, ...]:
        return tuple(str(i) for i in range(1, n + 1))

    return Keys(
        numbers(len(case.commitments)),
        numbers(len(case.lines)),
        numbers(len(case.one_time)),
        numbers(len(case.balances)),
    )


def build(
    case: Case, keys: Keys
) -> tuple[ContractTerms, list[tuple[Pool, LedgerEntry]], list[OneTimeCharge]]:
    term = months(case.count)
    commitments = []
    for seq, (key, c) in enumerate(zip(keys.commitments, case.commitments, strict=True), start=1):
        if c["payment"] is None:
            commitments.append(
                created(
                    Commitment,
                    seq,
                    key=key,
                    type=CommitmentType.USAGE,
                    term=term,
                    frequency=Frequency.MONTHLY,
                    ramp=ramp((1, str(c["amount"]))),
                    usage_class="mb",
                    penalties=(Penalty(PenaltyKind.COUNT, rate=D("0.125")),),
                )
            )
        else:
            commitments.append(
                created(
                    Commitment,
                    seq,
                    key=key,
                    type=CommitmentType.SPEND,
                    term=term,
                    frequency=Frequency.MONTHLY,
                    ramp=ramp((1, str(c["amount"]))),
                    payment=c["payment"],
                    overage_surcharge_percent=c["percent"],
                    rollover_fraction=c["rollover"],
                )
            )
    lines = [
        created(
            ServiceLine,
            seq,
            key=key,
            product=spec["product"],
            kind=ProductKind.SERVICE,
            quantity=D(1),
            unit_price=spec["price"],
            active=term,
        )
        for seq, (key, spec) in enumerate(zip(keys.lines, case.lines, strict=True), start=1)
    ]
    terms = ContractTerms(
        currency=case.currency,
        term=term,
        billing_frequency=Frequency.MONTHLY,
        prices=(price("mb", "1"),),
        service_lines=tuple(lines),
        commitments=tuple(commitments),
        drawdown_order=case.order,
    )
    balances = [
        new_balance(f"balance:{key}", amount, term, START, case.currency, seq=seq)
        for seq, (key, amount) in enumerate(zip(keys.balances, case.balances, strict=True))
    ]
    one_time = [
        created(
            OneTimeCharge,
            seq,
            key=key,
            product=spec["product"],
            amount=spec["amount"],
            service_date=spec["day"],
        )
        for seq, (key, spec) in enumerate(zip(keys.one_time, case.one_time, strict=True), start=1)
    ]
    return terms, balances, one_time


def run(case: Case, keys: Keys) -> Run:
    terms, balances, one_time = build(case, keys)
    result = start(terms, balances)
    for quantity in case.usage:
        result.close_next({"mb": quantity}, one_time=one_time)
    return result


# --- mapping keys back ---------------------------------------------------------------------------


class Back:
    """Maps the keys of a relabelled run back to the keys of the run in order."""

    def __init__(self, relabelled: Keys, original: Keys) -> None:
        def pairs(new: Sequence[str], old: Sequence[str]) -> dict[str, str]:
            return dict(zip(new, old, strict=True))

        self.commitments = pairs(relabelled.commitments, original.commitments)
        self.lines = pairs(relabelled.lines, original.lines)
        self.one_time = pairs(relabelled.one_time, original.one_time)
        self.balances = pairs(relabelled.balances, original.balances)

    def commitment(self, key: str | None) -> str | None:
        return None if key is None else self.commitments[key]

    def pool(self, key: str | None) -> str | None:
        if key is None:
            return None
        kind, _, rest = key.partition(":")
        if kind == "balance":
            return f"balance:{self.balances[rest]}"
        commitment, _, window = rest.partition(":")
        return f"{kind}:{self.commitments[commitment]}:{window}"

    def charge(self, key: str | None) -> str | None:
        if key is None:
            return None
        kind, _, rest = key.partition(":")
        if kind == "recurring":
            return f"recurring:{self.lines[rest]}"
        if kind == "one_time":
            return f"one_time:{self.one_time[rest]}"
        return key


def text(value: str) -> str:
    """Prose (descriptions, notes) without its numbers: keys named in it are compared through the
    structured fields instead."""
    return re.sub(r"\d+", "#", value)


def normal_line(line: InvoiceLine, back: Back) -> InvoiceLine:
    return dataclasses.replace(
        line,
        charge_key=back.charge(line.charge_key),
        commitment_key=back.commitment(line.commitment_key),
        pool_key=back.pool(line.pool_key),
        description=text(line.description),
    )


def normal_entry(item: LedgerEntry, back: Back) -> LedgerEntry:
    return dataclasses.replace(
        item,
        pool_key=back.pool(item.pool_key) or "",
        charge_key=back.charge(item.charge_key),
        note=text(item.note),
    )


def normal_pool(pool: Pool, back: Back) -> Pool:
    return dataclasses.replace(
        pool, key=back.pool(pool.key) or "", commitment_key=back.commitment(pool.commitment_key)
    )


def normal_charge(charge: Charge, back: Back) -> Charge:
    return dataclasses.replace(charge, key=back.charge(charge.key) or "")


def normal_draw(draw: Draw, back: Back) -> Draw:
    return Draw(back.charge(draw.charge_key) or "", back.pool(draw.pool_key) or "", draw.amount)


def normal_window(window: WindowResult, back: Back) -> WindowResult:
    return dataclasses.replace(window, commitment_key=back.commitment(window.commitment_key) or "")


def normal_close(result: CloseResult, back: Back) -> tuple[object, ...]:
    each: Callable[[Sequence[Any], Callable[[Any, Back], Any]], list[Any]] = lambda items, f: [
        f(i, back) for i in items
    ]
    return (
        each(result.lines, normal_line),
        each(result.entries, normal_entry),
        sorted(each(result.pools, normal_pool), key=lambda p: p.key),
        each(result.charges, normal_charge),
        each(result.draws, normal_draw),
        each(result.windows, normal_window),
    )


def normal_run(result: Run, back: Back) -> list[tuple[object, ...]]:
    activation = activate(result.terms, first_seq=100)
    issued = (
        sorted((normal_pool(p, back) for p in activation.pools), key=lambda p: p.key),
        sorted((normal_entry(e, back) for e in activation.entries), key=lambda e: e.pool_key),
    )
    return [issued, *(normal_close(r, back) for r in result.results)]


# --- the properties ------------------------------------------------------------------------------

FLIPS = [
    # creation order → key: text order flipped ("10" < "9", "10" < "2"),
    # numeric order flipped (10 created before 9).
    Keys(("9", "10", "11", "12"), ("9", "10", "11"), ("9", "10", "100", "99"), ("9", "10")),
    Keys(("2", "10", "3", "20"), ("2", "10", "3"), ("2", "10", "3", "20"), ("2", "10")),
    Keys(("10", "9", "1000", "999"), ("10", "9", "100"), ("10", "9", "99", "100"), ("10", "9")),
]


def relabellings(case: Case) -> st.SearchStrategy[Keys]:
    def labels(n: int) -> st.SearchStrategy[tuple[str, ...]]:
        # Keys of 1 to 4 digits, so text order and numeric order disagree often.
        number = st.one_of(
            st.integers(1, 12), st.integers(95, 105), st.integers(990, 1010), st.integers(1, 5000)
        )
        return st.lists(number, min_size=n, max_size=n, unique=True).map(
            lambda xs: tuple(map(str, xs))
        )

    base = in_order(case)
    return st.builds(
        Keys,
        labels(len(base.commitments)),
        labels(len(base.lines)),
        labels(len(base.one_time)),
        labels(len(base.balances)),
    )


def check_relabelling(case: Case, keys: Keys) -> None:
    base = in_order(case)
    expected = normal_run(run(case, base), Back(base, base))
    assert normal_run(run(case, keys), Back(keys, base)) == expected


FIXED_CASE = Case(
    currency="GBP",
    count=2,
    order=DrawdownOrder.COMMITMENT_FIRST,
    commitments=(
        {
            "payment": PaymentTiming.PREPAID,
            "amount": D(20),
            "percent": D("12.5"),
            "rollover": D("0.5"),
        },
        {"payment": PaymentTiming.PREPAID, "amount": D(20), "percent": D("12.4"), "rollover": D(0)},
        {"payment": PaymentTiming.POSTPAID, "amount": D(100), "percent": D(10), "rollover": D(0)},
        {"payment": None, "amount": D(50), "percent": D(0), "rollover": D(0)},
    ),
    lines=(
        {"product": "sim", "price": D(10)},
        {"product": "sim", "price": D(7)},
        {"product": "router", "price": D(3)},
    ),
    one_time=(
        {"product": "setup", "amount": D("3.00"), "day": date(2025, 1, 5)},
        {"product": "setup", "amount": D("4.36"), "day": date(2025, 1, 6)},
        {"product": "addon", "amount": D("1.00"), "day": date(2025, 2, 3)},
        {"product": "setup", "amount": D("2.50"), "day": date(2025, 2, 3)},
    ),
    balances=(D(5), D(5)),
    usage=(D(30), D("12.34")),
)


@EXAMPLES
@given(cases().flatmap(lambda c: st.tuples(st.just(c), relabellings(c))))
@example((FIXED_CASE, FLIPS[0]))
@example((FIXED_CASE, FLIPS[1]))
@example((FIXED_CASE, FLIPS[2]))
def test_relabelled_keys_with_the_same_creation_order_bill_the_same(
    drawn: tuple[Case, Keys],
) -> None:
    case, keys = drawn
    check_relabelling(case, keys)


def test_a_relabelling_that_flips_text_order_bills_the_same_as_creation_order() -> None:
    for keys in FLIPS:
        check_relabelling(FIXED_CASE, keys)


# --- ties broken by creation order, explicitly ---------------------------------------------------

JAN = months(1)


def _close_january(
    terms: ContractTerms,
    usage: str,
    balances: Sequence[tuple[Pool, LedgerEntry]] = (),
    one_time: Sequence[OneTimeCharge] = (),
) -> CloseResult:
    return start(terms, balances).close_next({"mb": usage}, one_time=one_time)


def _draws(result: CloseResult) -> list[tuple[str | None, str | None, Decimal]]:
    return [
        (ln.charge_key, ln.pool_key, ln.amount)
        for ln in result.lines
        if ln.type is LineType.DRAWDOWN
    ]


def _prepaid(key: str, seq: int, amount: str, percent: str) -> Commitment:
    return created(
        Commitment,
        seq,
        key=key,
        type=CommitmentType.SPEND,
        term=JAN,
        frequency=Frequency.MONTHLY,
        ramp=ramp((1, amount)),
        payment=PaymentTiming.PREPAID,
        overage_surcharge_percent=D(percent),
    )


# (created first, created second): text order flipped, numeric order flipped, text order flipped.
PAIRS = pytest.mark.parametrize(("first", "second"), [("9", "10"), ("10", "9"), ("2", "10")])


@PAIRS
def test_tied_prepaid_pools_are_drawn_in_the_commitments_creation_order(
    first: str, second: str
) -> None:
    """The commitment created first pays first, and once both pools are empty its 12.5 % (not the
    12.4 % of the second) sets the surcharge on the overage: 12.5 % of 4.36 = 0.545 → 0.55."""
    terms = ContractTerms(
        "GBP",
        JAN,
        Frequency.MONTHLY,
        prices=(price("mb", "1"),),
        commitments=(_prepaid(second, 2, "20", "12.4"), _prepaid(first, 1, "20", "12.5")),
    )
    result = _close_january(terms, "44.36")
    assert _draws(result) == [
        ("usage:mb", f"prepaid:{first}:0", D(-20)),
        ("usage:mb", f"prepaid:{second}:0", D(-20)),
    ]
    assert [
        (ln.commitment_key, ln.amount)
        for ln in result.lines
        if ln.type is LineType.OVERAGE_SURCHARGE
    ] == [(first, D("0.55"))]


@PAIRS
def test_tied_balances_are_drawn_oldest_first_whatever_their_keys(first: str, second: str) -> None:
    terms = ContractTerms("GBP", JAN, Frequency.MONTHLY, prices=(price("mb", "1"),))
    balances = [
        new_balance(f"balance:{second}", D(5), JAN, START, "GBP", seq=1),
        new_balance(f"balance:{first}", D(5), JAN, START, "GBP", seq=0),
    ]
    result = _close_january(terms, "7", balances)
    assert _draws(result) == [
        ("usage:mb", f"balance:{first}", D(-5)),
        ("usage:mb", f"balance:{second}", D(-2)),
    ]


@PAIRS
def test_one_time_charges_of_one_product_draw_in_creation_order(first: str, second: str) -> None:
    """The charge created first is paid first, whatever its key or service day; the second is
    left owing."""
    terms = ContractTerms("GBP", JAN, Frequency.MONTHLY, drawdown_order=DrawdownOrder.BALANCE_ONLY)
    balances = [new_balance("balance:1", D(3), JAN, START, "GBP", seq=0)]
    charges = [
        created(
            OneTimeCharge,
            2,
            key=second,
            product="setup",
            amount=D(2),
            service_date=date(2025, 1, 9),
        ),
        created(
            OneTimeCharge,
            1,
            key=first,
            product="setup",
            amount=D(2),
            service_date=date(2025, 1, 20),
        ),
    ]
    result = _close_january(terms, "0", balances, charges)
    assert [c.key for c in result.charges] == [f"one_time:{first}", f"one_time:{second}"]
    assert _draws(result) == [
        (f"one_time:{first}", "balance:1", D(-2)),
        (f"one_time:{second}", "balance:1", D(-1)),
    ]


@PAIRS
def test_service_lines_of_one_product_draw_in_creation_order(first: str, second: str) -> None:
    lines = (
        created(
            ServiceLine,
            2,
            key=second,
            product="sim",
            kind=ProductKind.SERVICE,
            quantity=D(1),
            unit_price=D(7),
            active=JAN,
        ),
        created(
            ServiceLine,
            1,
            key=first,
            product="sim",
            kind=ProductKind.SERVICE,
            quantity=D(1),
            unit_price=D(10),
            active=JAN,
        ),
    )
    terms = ContractTerms(
        "GBP",
        JAN,
        Frequency.MONTHLY,
        service_lines=lines,
        drawdown_order=DrawdownOrder.BALANCE_ONLY,
    )
    result = _close_january(terms, "0", [new_balance("balance:1", D(12), JAN, START, "GBP", seq=0)])
    assert [c.key for c in result.charges] == [f"recurring:{first}", f"recurring:{second}"]
    assert _draws(result) == [
        (f"recurring:{first}", "balance:1", D(-10)),
        (f"recurring:{second}", "balance:1", D(-2)),
    ]


@PAIRS
def test_activation_numbers_pools_in_the_commitments_creation_order(
    first: str, second: str
) -> None:
    two = months(2)
    terms = ContractTerms(
        "GBP",
        two,
        Frequency.MONTHLY,
        commitments=tuple(
            dataclasses.replace(c, term=two)
            for c in (_prepaid(second, 2, "20", "0"), _prepaid(first, 1, "20", "0"))
        ),
    )
    pools = activate(terms, first_seq=7).pools
    assert [(p.key, p.seq) for p in pools] == [
        (f"prepaid:{first}:0", 7),
        (f"prepaid:{first}:1", 8),
        (f"prepaid:{second}:0", 9),
        (f"prepaid:{second}:1", 10),
    ]
