"""The append-only ledger: signed entries, balances as folds, never negative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from money_builders import months

from app.billing.credit import new_balance, top_up
from app.billing.errors import BillingError, BillingErrorCode
from app.billing.ledger import (
    EntryKind,
    LedgerEntry,
    Pool,
    PoolKind,
    apply,
    apply_all,
    balances,
    entry,
    issue,
    next_seq,
    running_balances_ok,
    sort_pools,
)

D = Decimal
DAY = date(2025, 1, 1)


def pool(key: str = "p", balance: str = "0", seq: int = 0) -> Pool:
    return Pool(key, PoolKind.BALANCE, months(1), D(balance), seq=seq)


@pytest.mark.parametrize(
    ("kind", "sign"),
    [
        (EntryKind.ISSUE, 1),
        (EntryKind.ROLLOVER_IN, 1),
        (EntryKind.CREDIT_BACK, 1),
        (EntryKind.CONSUME, -1),
        (EntryKind.EXPIRE, -1),
        (EntryKind.ROLLOVER_OUT, -1),
    ],
)
def test_entries_are_signed_by_their_kind(kind: EntryKind, sign: int) -> None:
    assert entry(pool(), kind, D("2.50"), DAY).amount == D("2.50") * sign


def test_a_pool_is_made_by_an_issue_and_its_balance_is_the_fold_of_its_entries() -> None:
    made, first = issue(pool(balance="99"), D(100), DAY)  # the template's balance is ignored
    spent = entry(made, EntryKind.CONSUME, D(30), DAY, charge_key="usage:x")
    back = entry(made, EntryKind.CREDIT_BACK, D(5), DAY)
    gone = entry(made, EntryKind.EXPIRE, D(75), DAY)
    after = apply_all([made], [spent, back, gone])
    assert after[0].balance == D(0)
    assert balances([first, spent, back, gone]) == {"p": D(0)}
    assert running_balances_ok([first, spent, back, gone])


def test_taking_more_than_a_pool_holds_is_insufficient_balance() -> None:
    with pytest.raises(BillingError) as error:
        apply(pool(balance="10"), entry(pool(), EntryKind.CONSUME, D("10.01"), DAY))
    assert error.value.code is BillingErrorCode.INSUFFICIENT_BALANCE
    assert not running_balances_ok(
        [
            LedgerEntry("p", EntryKind.ISSUE, D(1), DAY),
            LedgerEntry("p", EntryKind.CONSUME, D(-2), DAY),
        ]
    )


@pytest.mark.parametrize(
    "bad",
    [
        LedgerEntry("p", EntryKind.CONSUME, D(5), DAY),  # wrong sign
        LedgerEntry("p", EntryKind.ISSUE, D(-5), DAY),  # wrong sign
        LedgerEntry("p", EntryKind.EXPIRE, D(0), DAY),  # zero is for ISSUE only
        LedgerEntry("p", EntryKind.ISSUE, D("NaN"), DAY),
        LedgerEntry("other", EntryKind.ISSUE, D(1), DAY),  # another pool's entry
    ],
)
def test_malformed_entries_are_refused(bad: LedgerEntry) -> None:
    with pytest.raises(BillingError) as error:
        apply(pool(balance="100"), bad)
    assert error.value.code is BillingErrorCode.INVALID_LEDGER_ENTRY


def test_negative_magnitudes_and_unknown_or_duplicate_pools_are_refused() -> None:
    with pytest.raises(BillingError):
        entry(pool(), EntryKind.CONSUME, D(-1), DAY)
    with pytest.raises(BillingError) as unknown:
        apply_all([pool()], [LedgerEntry("nope", EntryKind.ISSUE, D(1), DAY)])
    assert unknown.value.code is BillingErrorCode.INVALID_LEDGER_ENTRY
    with pytest.raises(BillingError) as duplicate:
        apply_all([pool(), pool()], [])
    assert duplicate.value.code is BillingErrorCode.INVALID_LEDGER_ENTRY


def test_pools_sort_by_creation_order_and_the_next_seq_follows_the_highest() -> None:
    pools = [pool("b", seq=2), pool("a", seq=2), pool("c", seq=0)]
    assert [p.key for p in sort_pools(pools)] == ["c", "a", "b"]
    assert next_seq(pools) == 3
    assert next_seq([]) == 0


def test_a_new_balance_is_one_issue_entry_and_a_top_up_adds_another() -> None:
    made, first = new_balance("bal", D("50.00"), months(6), DAY, "USD", seq=7, priority=2)
    assert (made.kind, made.balance, made.seq, made.priority) == (PoolKind.BALANCE, D(50), 7, 2)
    assert (first.kind, first.amount, first.on) == (EntryKind.ISSUE, D(50), DAY)
    topped, second = top_up(made, D("25.50"), date(2025, 2, 1), "USD")
    assert topped.balance == D("75.50")
    assert balances([first, second]) == {"bal": D("75.50")}


@pytest.mark.parametrize("amount", ["0", "-5", "1.005"])
def test_balances_take_positive_amounts_exact_in_the_currency(amount: str) -> None:
    with pytest.raises(BillingError) as error:
        new_balance("bal", D(amount), months(1), DAY, "USD", seq=0)
    assert error.value.code is BillingErrorCode.INVALID_AMOUNT


def test_jpy_balances_are_whole_yen_and_only_balances_can_be_topped_up() -> None:
    made, _ = new_balance("yen", D(500), months(1), DAY, "JPY", seq=0)
    with pytest.raises(BillingError):
        top_up(made, D("0.5"), DAY, "JPY")
    tracking = Pool("t", PoolKind.TRACKING, months(1), D(1))
    with pytest.raises(BillingError):
        top_up(tracking, D(1), DAY, "JPY")
    with pytest.raises(BillingError) as empty:
        new_balance("x", D(1), months(0), DAY, "JPY", seq=0)
    assert empty.value.code is BillingErrorCode.INVALID_INTERVAL
