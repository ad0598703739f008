"""Issue 8, finding 2: a retried mutation never applies twice (idempotency keys, Stripe's model),
and finding 7: concurrent closeDuePeriods report what each closed, adding up to what was closed."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from app.api.ids import encode
from app.billing.terms import CommitmentType, Frequency, PaymentTiming, RampStep
from app.clock import frozen_clock
from app.db.models import (
    Account,
    Balance,
    BillingPeriod,
    Contract,
    IdempotencyRecord,
    Invoice,
    LedgerEntry,
)
from app.services import accounts, activation, balances, closing
from app.services.specs import CommitmentSpec
from tests.api.helpers import gql, new_org
from tests.conftest import TEST_TODAY
from tests.services.test_closing import YEAR, setup, use

ERRORS = "userErrors { code field message }"
CREATE_ACCOUNT = f"""mutation($name: String!, $key: String) {{
  createAccount(input: {{name: $name}}, idempotencyKey: $key) {{ account {{ id name }} {ERRORS} }} }}"""
TOP_UP = f"""mutation($balance: ID!, $amount: Decimal!, $key: String) {{
  topUpBalance(balanceId: $balance, amount: $amount, on: "2026-03-01", idempotencyKey: $key) {{
    balance {{ id name amount }} {ERRORS} }} }}"""
CREATE_CONTRACT = f"""mutation($input: CreateContractInput!, $key: String) {{
  createContract(input: $input, idempotencyKey: $key) {{
    contract {{ id name status currency startDate endDate standingCharge }} {ERRORS} }} }}"""


async def _account(org: int) -> int:
    return (await accounts.create_account(org, accounts.AccountSpec(name="Acme"))).id


async def _balance(org: int, currency: str = "GBP") -> int:
    account = await _account(org)
    spec = balances.BalanceSpec(account, "Sign-up credit", currency, D(100), *YEAR)
    return (await balances.create_balance(org, spec)).id


async def _issued(balance_id: int) -> list[D]:
    balance = await Balance.get(id=balance_id)
    from app.db.models import CreditPool

    pool = await CreditPool.get(balance_source_id=balance.id)
    return [e.amount for e in await LedgerEntry.filter(pool_id=pool.id, kind="ISSUE").order_by("id")]


# --- the findings: money and objects are not applied twice ------------------------------------------

async def test_top_up_sent_twice_with_one_key_adds_once(db: str) -> None:
    org = await new_org()
    balance = await _balance(org)
    variables = {"balance": encode("Balance", balance), "amount": "50", "key": "top-up-1"}
    first = await gql(org, TOP_UP, variables)
    second = await gql(org, TOP_UP, variables)
    assert first["topUpBalance"]["userErrors"] == []
    assert second == first
    assert await _issued(balance) == [D(100), D(50)]  # the opening credit and one top-up, not two


async def test_top_up_without_a_key_still_adds_each_time(db: str) -> None:
    org = await new_org()
    balance = await _balance(org)
    variables = {"balance": encode("Balance", balance), "amount": "5"}
    await gql(org, TOP_UP, variables)
    await gql(org, TOP_UP, variables)
    assert await _issued(balance) == [D(100), D(5), D(5)]
    assert await IdempotencyRecord.all().count() == 0


def _contract_input(account: int, name: str = "Retried") -> dict[str, Any]:
    return {"accountId": encode("Account", account), "name": name, "currency": "GBP",
            "startDate": "2026-01-01", "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}


async def test_create_contract_sent_twice_with_one_key_makes_one_contract_and_answers_the_same(db: str) -> None:
    org = await new_org()
    account = await _account(org)
    variables = {"input": _contract_input(account), "key": "contract-1"}
    first = await gql(org, CREATE_CONTRACT, variables)
    second = await gql(org, CREATE_CONTRACT, variables)
    assert first["createContract"]["contract"]["id"]
    assert second == first
    assert await Contract.filter(organization_id=org).count() == 1


async def test_the_same_key_with_other_arguments_is_refused_and_writes_nothing(db: str) -> None:
    org = await new_org()
    account = await _account(org)
    await gql(org, CREATE_CONTRACT, {"input": _contract_input(account), "key": "k"})
    other = await gql(org, CREATE_CONTRACT, {"input": _contract_input(account, "Other name"), "key": "k"})
    assert other["createContract"]["contract"] is None
    [error] = other["createContract"]["userErrors"]
    assert (error["code"], error["field"]) == ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    another_mutation = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"})
    assert another_mutation["createAccount"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await Contract.filter(organization_id=org).count() == 1
    assert await Account.filter(organization_id=org).count() == 1


async def test_equal_arguments_written_differently_are_the_same_call(db: str) -> None:
    org = await new_org()
    balance = encode("Balance", await _balance(org))
    first = await gql(org, TOP_UP, {"balance": balance, "amount": "50", "key": "k"})
    inline = await gql(org, f'mutation {{ topUpBalance(balanceId: "{balance}", amount: "50.00", on: "2026-03-01", '
                            f'idempotencyKey: "k") {{ balance {{ id name amount }} {ERRORS} }} }}')
    assert inline == first


async def test_an_answer_with_user_errors_is_not_stored_so_a_corrected_retry_runs(db: str) -> None:
    org = await new_org()
    balance = encode("Balance", await _balance(org))
    refused = await gql(org, TOP_UP, {"balance": balance, "amount": "-1", "key": "k"})
    assert refused["topUpBalance"]["userErrors"]
    assert await IdempotencyRecord.all().count() == 0
    fixed = await gql(org, TOP_UP, {"balance": balance, "amount": "1", "key": "k"})
    assert fixed["topUpBalance"]["userErrors"] == []


@pytest.mark.parametrize("key", ["", " ", "x" * 201, "a\x00b", "tab\there"])
async def test_a_malformed_key_is_refused_before_anything_runs(db: str, key: str) -> None:
    org = await new_org()
    out = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": key})
    [error] = out["createAccount"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "idempotencyKey")
    assert await Account.all().count() == 0


async def test_a_replay_runs_nothing(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await new_org()
    first = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"})

    async def must_not_run(*_: object) -> None:
        raise AssertionError("the service ran on a replay")

    monkeypatch.setattr(accounts, "create_account", must_not_run)
    assert await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"}) == first


# --- creditBack, createBalance, activateContract, closeDuePeriods replay ------------------------------

async def _counts() -> tuple[int, ...]:
    return (await LedgerEntry.all().count(), await Balance.all().count(), await Invoice.all().count(),
            await BillingPeriod.filter(status="CLOSED").count(), await Contract.filter(status="ACTIVE").count())


async def _replayed(org: int, query: str, variables: dict[str, Any], key: str = "retry-me") -> dict[str, Any]:
    """Send twice with one key: the second answer is the first, and it writes nothing."""
    first = await gql(org, query, {**variables, "key": key})
    written = await _counts()
    second = await gql(org, query, {**variables, "key": key})
    assert second == first
    assert await _counts() == written
    return first


async def test_credit_back_with_a_key_replays(db: str) -> None:
    org, _, contract, usage = await setup(CommitmentSpec(
        name="Quarterly", type=CommitmentType.SPEND, frequency=Frequency.QUARTERLY,
        payment=PaymentTiming.PREPAID, ramp=(RampStep(1, D(300)),), amount_prepaid=D(1200)))
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "150")
    await closing.close_period(org, contract)
    entry = await LedgerEntry.filter(kind="CONSUME").order_by("id").first()
    assert entry is not None
    query = f"""mutation($entry: ID!, $key: String) {{ creditBack(ledgerEntryId: $entry, amount: "50",
      idempotencyKey: $key) {{ entry {{ id kind amount }} {ERRORS} }} }}"""
    out = await _replayed(org, query, {"entry": encode("LedgerEntry", entry.id)})
    assert out["creditBack"]["entry"]["kind"] == "CREDIT_BACK"
    assert await LedgerEntry.filter(kind="CREDIT_BACK").count() == 1


async def test_create_balance_with_a_key_replays(db: str) -> None:
    org = await new_org()
    account = encode("Account", await _account(org))
    query = f"""mutation($account: ID!, $key: String) {{ createBalance(input: {{accountId: $account,
      name: "Goodwill", currency: "GBP", amount: "25", startDate: "2026-01-01", endDate: "2027-01-01"}},
      idempotencyKey: $key) {{ balance {{ id name amount }} {ERRORS} }} }}"""
    out = await _replayed(org, query, {"account": account})
    assert out["createBalance"]["balance"]["amount"] == "25.00"
    assert await Balance.all().count() == 1


async def test_activate_contract_with_a_key_replays_instead_of_refusing_the_retry(db: str) -> None:
    org, _, contract, _ = await setup(None)
    query = f"""mutation($id: ID!, $key: String) {{ activateContract(id: $id, idempotencyKey: $key) {{
      contract {{ id status }} {ERRORS} }} }}"""
    out = await _replayed(org, query, {"id": encode("Contract", contract)})
    assert out["activateContract"]["contract"]["status"] == "ACTIVE"
    assert out["activateContract"]["userErrors"] == []


async def test_every_payload_shape_replays_as_first_answered(db: str) -> None:
    """Products, commitments, invoices and deletes come back from the store as they were sent."""
    org, account, contract, usage = await setup(None)
    product = f"""mutation($key: String) {{ createProduct(input: {{code: "sim", name: "SIM", kind: SERVICE,
      unit: "SIM"}}, idempotencyKey: $key) {{ product {{ id code name kind unit }} {ERRORS} }} }}"""
    assert (await _replayed(org, product, {}, "product"))["createProduct"]["product"]["kind"] == "SERVICE"
    commitment = f"""mutation($c: ID!, $key: String) {{ createCommitment(contractId: $c, input: {{name: "X",
      type: SPEND, frequency: MONTHLY, payment: POSTPAID, rampSteps: [{{fromWindow: 1, amount: "1"}}]}},
      idempotencyKey: $key) {{ commitment {{ id name type }} {ERRORS} }} }}"""
    made = await gql(org, commitment, {"c": encode("Contract", contract), "key": "commitment"})
    assert await gql(org, commitment, {"c": encode("Contract", contract), "key": "commitment"}) == made
    await activation.activate_contract(org, contract)
    close = f"""mutation($c: ID!, $key: String) {{ closePeriod(contractId: $c, idempotencyKey: $key) {{
      invoice {{ id number total periodStart }} {ERRORS} }} }}"""
    closed = await _replayed(org, close, {"c": encode("Contract", contract)}, "close")
    assert closed["closePeriod"]["userErrors"] == [], closed
    assert closed["closePeriod"]["invoice"]["periodStart"] == "2026-01-01"  # the retry did not close February
    other = await _account(org)
    delete = f"""mutation($id: ID!, $key: String) {{ deleteAccount(id: $id, idempotencyKey: $key) {{
      deletedId {ERRORS} }} }}"""
    gone = await _replayed(org, delete, {"id": encode("Account", other)}, "delete")
    assert gone["deleteAccount"]["deletedId"] == encode("Account", other)  # not NOT_FOUND on the retry


CLOSE_DUE = f"""mutation($asOf: Date, $key: String) {{ closeDuePeriods(asOf: $asOf, idempotencyKey: $key) {{
  closed alreadyClosed asOf failures {{ contractId code }} {ERRORS} }} }}"""


async def test_close_due_periods_with_a_key_replays_what_it_closed(db: str) -> None:
    org, _, contract, usage = await setup(None)
    await activation.activate_contract(org, contract)
    await use(org, contract, usage, date(2026, 1, 5), "7")
    out = await _replayed(org, CLOSE_DUE, {"asOf": "2026-04-02"})
    assert out["closeDuePeriods"]["closed"] == 3  # January to March; the replay says 3 again, not 0
    unkeyed = await gql(org, CLOSE_DUE, {"asOf": "2026-04-02"})
    assert unkeyed["closeDuePeriods"]["closed"] == 0


# --- keys per organization, expiry ----------------------------------------------------------------

async def test_keys_are_per_organization(db: str) -> None:
    a, b = await new_org("A"), await new_org("B")
    in_a = await gql(a, CREATE_ACCOUNT, {"name": "Acme", "key": "shared"})
    in_b = await gql(b, CREATE_ACCOUNT, {"name": "Acme", "key": "shared"})
    assert in_a["createAccount"]["account"]["id"] != in_b["createAccount"]["account"]["id"]
    assert await Account.filter(organization_id=a).count() == 1
    assert await Account.filter(organization_id=b).count() == 1
    other_args_in_b = await gql(b, CREATE_ACCOUNT, {"name": "Other", "key": "shared"})
    assert other_args_in_b["createAccount"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_key_replays_for_seven_days_then_may_be_used_again(db: str) -> None:
    org = await new_org()
    first = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"})
    with frozen_clock(TEST_TODAY + timedelta(days=6, hours=23)):
        assert await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"}) == first
    with frozen_clock(TEST_TODAY + timedelta(days=7, seconds=1)):
        later = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"})
    assert later["createAccount"]["account"]["id"] != first["createAccount"]["account"]["id"]
    assert await Account.filter(organization_id=org).count() == 2
    assert await IdempotencyRecord.filter(organization_id=org).count() == 1  # the expired one was purged


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------

async def test_ten_concurrent_calls_with_one_key_run_once(db: str, postgres_only: None) -> None:
    org = await new_org()
    balance = await _balance(org)
    variables = {"balance": encode("Balance", balance), "amount": "50", "key": "burst"}
    answers = await asyncio.gather(*(gql(org, TOP_UP, variables) for _ in range(10)))
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["topUpBalance"]["userErrors"] == []
    assert await _issued(balance) == [D(100), D(50)]


async def test_a_call_waiting_too_long_for_the_same_key_gets_in_use(db: str, postgres_only: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import idempotency

    org = await new_org()
    real = accounts.create_account
    release = asyncio.Event()

    async def slow(org_id: int, spec: accounts.AccountSpec) -> Account:
        row = await real(org_id, spec)
        await release.wait()
        return row

    monkeypatch.setattr(accounts, "create_account", slow)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    first = asyncio.create_task(gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"}))
    await asyncio.sleep(0.2)
    second = await gql(org, CREATE_ACCOUNT, {"name": "Acme", "key": "k"})
    release.set()
    done = await first
    assert second["createAccount"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert done["createAccount"]["userErrors"] == []
    assert await Account.filter(organization_id=org).count() == 1


# --- closeDuePeriods reports what this call closed ----------------------------------------------------

async def test_four_concurrent_close_due_periods_add_up_to_the_periods_closed(db: str) -> None:
    org, account, _, usage = await setup(None)
    from app.services.contracts import create_contract
    from app.services.specs import ContractSpec, PriceSpec
    from app.billing.terms import PricingModel

    contracts = []
    for i in range(15):  # 15 contracts x 12 monthly periods of 2026 = 180 due periods
        spec = ContractSpec(account_id=account, name=f"C{i}", currency="USD", start_date=YEAR[0],
                            end_date=YEAR[1], billing_frequency=Frequency.MONTHLY,
                            prices=(PriceSpec(usage, PricingModel.PER_UNIT, D(1)),))
        contract = await create_contract(org, spec)
        await activation.activate_contract(org, contract.id)
        contracts.append(contract.id)
    await Contract.filter(organization_id=org, status="DRAFT").delete()
    due = len(await closing.due_periods(org))
    assert due == 180
    reports = await asyncio.gather(*(closing.close_due_periods(org) for _ in range(4)))
    assert sum(r.closed for r in reports) == 180
    assert all(r.closed + r.already_closed + len(r.failures) <= 180 for r in reports)
    assert all(not r.failures for r in reports)
    assert await Invoice.filter(organization_id=org).count() == 180


async def test_the_cli_says_what_this_run_closed_and_what_another_run_closed(
        db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli
    from app.db import config
    from app.settings import load_settings

    async def noop(*_: object) -> None:
        return None

    async def raced(org_id: int, as_of: date | None, progress: object = None) -> closing.DueCloseReport:
        return closing.DueCloseReport(closed=2, failures=(), as_of=date(2026, 3, 15), already_closed=3)

    monkeypatch.setattr(config, "init_db", noop)  # the test's database is already open
    monkeypatch.setattr(config, "close_db", noop)
    monkeypatch.setattr(closing, "close_due_periods", raced)
    assert await cli._close_due(load_settings(), None, [7]) == 0
    assert ("organization 7: 2 closed, 0 failed (due by 2026-03-15); 3 closed meanwhile by another run"
            in capsys.readouterr().out)


# --- what is stored -----------------------------------------------------------------------------------

def test_a_stored_answer_only_ever_builds_classes_of_this_service() -> None:
    from app.api.payload_codec import decode

    with pytest.raises(TypeError):
        decode({"$type": "subprocess:Popen", "fields": {"args": ["true"]}})
    with pytest.raises(TypeError):
        decode({"$type": "app.services.closing:close_period", "fields": {}})  # not a GraphQL type


def test_equal_amounts_fingerprint_alike_and_distinct_ones_never_do() -> None:
    from app.api.payload_codec import canonical
    from app.services.idempotency import fingerprint

    def of(amount: str) -> str:
        return fingerprint("topUpBalance", canonical({"amount": D(amount), "on": date(2026, 3, 1)}))

    assert of("10") == of("10.00") == of("1E+1")
    assert of("10") != of("10.000000000001")
    assert of("1" * 39) != of("1" * 38 + "2")  # never rounded to the context's precision
