"""Issue 8, finding 4: every bad input gets a clear, stable code, never a masked "Unexpected error.".

- A value that does not fit its GraphQL type is refused by GraphQL, as a variable or inline, with
  ``extensions.code: BAD_USER_INPUT`` (and the variable's path); unexpected faults stay masked.
- Every Decimal input field that NUMERIC(32, 12) cannot hold is an ``INVALID_AMOUNT`` user error on
  its path, whatever its size (no ``decimal.InvalidOperation``).
- Every text input field refuses NUL, an unpaired surrogate and text over its documented length
  with a user error on its path, before the database sees it; nothing is written.
Tables at the bottom check that every Decimal and every text input field of the schema is covered.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import get_named_type, is_input_object_type

from app.api.schema import schema
from app.db import models
from tests.api.helpers import gql, gql_raw, new_org

ERRORS = "userErrors { code field message }"
CONTRACT = f"mutation($input: CreateContractInput!) {{ createContract(input: $input) {{ contract {{ id }} {ERRORS} }} }}"
AMEND = f"""mutation($c: ID!, $changes: ContractChangesInput!) {{ amendContract(contractId: $c, expectedVersion: 1,
  effectiveDate: "2026-02-01", reason: "r", changes: $changes) {{ {ERRORS} }} }}"""
UPDATE_CONTRACT = f"""mutation($id: ID!, $input: UpdateContractInput!) {{
  updateContract(id: $id, input: $input) {{ contract {{ id }} {ERRORS} }} }}"""
PRICE = f"""mutation($c: ID!, $input: PriceInput!) {{ createPrice(contractId: $c, input: $input) {{ {ERRORS} }} }}"""
LINE = f"""mutation($c: ID!, $input: ServiceLineInput!) {{ createServiceLine(contractId: $c, input: $input) {{ {ERRORS} }} }}"""
COMMITMENT = f"""mutation($c: ID!, $input: CommitmentInput!) {{
  createCommitment(contractId: $c, input: $input) {{ {ERRORS} }} }}"""
PRODUCT = f"mutation($input: ProductInput!) {{ createProduct(input: $input) {{ product {{ id }} {ERRORS} }} }}"
ACCOUNT = f"mutation($input: AccountInput!) {{ createAccount(input: $input) {{ account {{ id }} {ERRORS} }} }}"
ORGANIZATION = f"mutation($input: UpdateOrganizationInput!) {{ updateOrganization(input: $input) {{ {ERRORS} }} }}"
BALANCE = f"mutation($input: CreateBalanceInput!) {{ createBalance(input: $input) {{ balance {{ id }} {ERRORS} }} }}"
TOP_UP = f"""mutation($b: ID!, $amount: Decimal!) {{
  topUpBalance(balanceId: $b, amount: $amount, on: "2026-03-01") {{ {ERRORS} }} }}"""
CREDIT_BACK = f"""mutation($e: ID!, $amount: Decimal!) {{
  creditBack(ledgerEntryId: $e, amount: $amount) {{ {ERRORS} }} }}"""
CHARGE = f"mutation($input: PostChargeInput!) {{ postCharge(input: $input) {{ {ERRORS} }} }}"
CREDIT_NOTE = f"""mutation($i: ID!, $lines: [CreditNoteLineInput!]!, $r: String!) {{
  issueCreditNote(invoiceId: $i, lines: $lines, reason: $r) {{ {ERRORS} }} }}"""
NO_INVOICE, NO_LINE = "SW52b2ljZTo5OTk5OQ==", "SW52b2ljZUxpbmU6OTk5OTk="  # Invoice:99999, InvoiceLine:99999
USAGE = """mutation($events: [UsageEventInput!]!) { recordUsage(events: $events) {
  results { status code field } userErrors { code field } } }"""


@dataclass
class World:
    org: int
    gb: str
    sim: str
    account: str
    contract: str
    balance: str


@pytest.fixture
async def world(db: str) -> World:
    org = await new_org()

    async def product(code: str, kind: str) -> str:
        out = await gql(org, PRODUCT, {"input": {"code": code, "name": code, "kind": kind, "unit": "u"}})
        return str(out["createProduct"]["product"]["id"])

    gb, sim = await product("gb", "USAGE_CLASS"), await product("sim", "SERVICE")
    account = (await gql(org, ACCOUNT, {"input": {"name": "Acme"}}))["createAccount"]["account"]["id"]
    contract = (await gql(org, CONTRACT, {"input": {
        "accountId": account, "name": "Draft", "currency": "GBP", "startDate": "2026-01-01",
        "endDate": "2027-01-01", "billingFrequency": "MONTHLY"}}))["createContract"]["contract"]["id"]
    balance = (await gql(org, BALANCE, {"input": {
        "accountId": account, "name": "Credit", "currency": "GBP", "amount": "100", "startDate": "2026-01-01",
        "endDate": "2027-01-01"}}))["createBalance"]["balance"]["id"]
    return World(org, gb, sim, account, contract, balance)


def commitment(w: World) -> dict[str, Any]:
    return {"name": "Prepaid", "type": "SPEND", "frequency": "ANNUAL", "payment": "PREPAID",
            "rampSteps": [{"fromWindow": 1, "amount": "1200"}], "amountPrepaid": "200", "amountFirstBill": "100",
            "feeBilling": "FEE_DATES", "feeDates": [{"date": "2026-03-01", "amount": "900"}],
            "rolloverFraction": "0", "rolloverCap": "0", "overageSurchargePercent": "0",
            "penalties": [{"kind": "TIERED", "tiers": [{"upTo": None, "rate": "0", "flat": "0"}]}]}


def price(w: World) -> dict[str, Any]:
    return {"usageClassId": w.gb, "model": "GRADUATED", "unitAmount": "0",
            "tiers": [{"upTo": "100", "unitAmount": "2", "flatAmount": "0"}, {"upTo": None, "unitAmount": "1"}]}


def line(w: World) -> dict[str, Any]:
    return {"productId": w.sim, "quantity": "10", "unitPrice": "1", "externalId": "sim-1"}


def contract(w: World) -> dict[str, Any]:
    return {"accountId": w.account, "name": "Deal", "currency": "GBP", "startDate": "2026-01-01",
            "endDate": "2027-01-01", "billingFrequency": "MONTHLY", "standingCharge": "0", "minimumSpend": "0",
            "prices": [price(w)], "serviceLines": [line(w)], "commitments": [commitment(w)]}


def event(w: World) -> dict[str, Any]:
    return {"contractId": w.contract, "usageClass": "gb", "quantity": "1", "timestamp": "2026-02-01T00:00:00Z",
            "idempotencyKey": "k1", "connectionId": "c1"}


# Each mutation: (document, variables of a valid call, the root path of its input in userErrors).
MUTATIONS: dict[str, Any] = {
    "createContract": (CONTRACT, lambda w: {"input": contract(w)}),
    "amendContract": (AMEND, lambda w: {"c": w.contract, "changes": {
        "standingCharge": "0", "minimumSpend": "0",
        "changeServiceLines": [{"serviceLineId": "U2VydmljZUxpbmU6OTk5", "quantity": "1", "unitPrice": "1"}]}}),
    "updateContract": (UPDATE_CONTRACT, lambda w: {"id": w.contract, "input": {"name": "Deal", "currency": "GBP"}}),
    "createPrice": (PRICE, lambda w: {"c": w.contract, "input": price(w)}),
    "createServiceLine": (LINE, lambda w: {"c": w.contract, "input": line(w)}),
    "createCommitment": (COMMITMENT, lambda w: {"c": w.contract, "input": commitment(w)}),
    "createProduct": (PRODUCT, lambda w: {"input": {"code": "pkg", "name": "Package", "kind": "PACKAGE", "unit": "p",
                                                    "packageItems": [{"serviceId": w.sim, "quantity": "1"}]}}),
    "createAccount": (ACCOUNT, lambda w: {"input": {"name": "Beta", "externalId": "crm-2"}}),
    "updateOrganization": (ORGANIZATION, lambda w: {"input": {"name": "Org", "defaultCurrency": "GBP"}}),
    "createBalance": (BALANCE, lambda w: {"input": {
        "accountId": w.account, "name": "Credit", "currency": "GBP", "amount": "10", "startDate": "2026-01-01",
        "endDate": "2027-01-01"}}),
    "topUpBalance": (TOP_UP, lambda w: {"b": w.balance, "amount": "5"}),
    "creditBack": (CREDIT_BACK, lambda w: {"e": "TGVkZ2VyRW50cnk6OTk5OTk=", "amount": "5"}),
    "postCharge": (CHARGE, lambda w: {"input": {"contractId": w.contract, "productId": w.sim, "amount": "5",
                                                "serviceDate": "2026-02-01", "idempotencyKey": "c1"}}),
    "recordUsage": (USAGE, lambda w: {"events": [event(w)]}),
    "issueCreditNote": (CREDIT_NOTE, lambda w: {"i": NO_INVOICE, "lines": [{"invoiceLineId": NO_LINE, "amount": "5"}],
                                                "r": "Goodwill"}),
}


def put(variables: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``variables`` with the value at the dotted ``path`` (list indexes as numbers) replaced."""
    out = copy.deepcopy(variables)
    *head, last = path.split(".")
    target: Any = out
    for step in head:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return out


async def written(w: World) -> tuple[int, ...]:
    tables = (models.Product, models.Account, models.Contract, models.Price, models.ServiceLine, models.Commitment,
              models.Balance, models.LedgerEntry, models.OneTimeCharge, models.UsageEvent, models.Adjustment,
              models.AdjustmentLine)
    org = await models.Organization.get(id=w.org)
    return (*[await t.filter(organization_id=w.org).count() for t in tables], hash(org.name + org.default_currency))


async def refused(w: World, mutation: str, path: str, value: Any) -> list[tuple[str, str]]:
    """Send ``mutation`` with ``value`` at ``path``; the (code, field) pairs it answered; nothing written."""
    document, valid = MUTATIONS[mutation]
    before = await written(w)
    result = await gql_raw(w.org, document, put(valid(w), path, value))
    assert result.errors is None, result.errors
    json.dumps(result.data, ensure_ascii=False).encode()  # the answer never echoes what UTF-8 cannot encode
    assert await written(w) == before
    payload = result.data[mutation]
    if mutation == "recordUsage":
        return [(r["code"], r["field"]) for r in payload["results"]]
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_every_valid_base_call_is_accepted(world: World) -> None:
    """The tables below change one value of these calls: everything else in them is valid."""
    for mutation, (document, valid) in MUTATIONS.items():
        if mutation == "creditBack":
            continue  # needs a consumed ledger entry; its amount is checked before the entry is looked up
        result = await gql_raw(world.org, document, valid(world))
        assert result.errors is None, (mutation, result.errors)
        payload = result.data[mutation]
        problems = [(e["code"], e["field"]) for e in payload["userErrors"]]
        if mutation == "recordUsage":
            problems = [(r["code"], r["field"]) for r in payload["results"]]
        # Only the draft contract's status stands in the way of a charge or an event (checked last).
        assert problems == {"postCharge": [("CONTRACT_NOT_ACTIVE", "input.contractId")],
                            "amendContract": [("CONTRACT_NOT_ACTIVE", "contractId")],
                            "recordUsage": [("CONTRACT_NOT_ACTIVE", "events.0.contractId")],
                            # the world has no invoice: its amounts are checked before the invoice is looked up
                            "issueCreditNote": [("NOT_FOUND", "invoiceId")]}.get(mutation, []), (
            mutation, problems)


# --- Values GraphQL cannot coerce: BAD_USER_INPUT, with the variable's path, never masked -------------

# (what, document, variables, the variable path, a phrase of GraphQL's message)
COERCION = [
    ("date-feb-30", CONTRACT, {"startDate": "2026-02-30"}, "input.startDate", "day is out of range for month"),
    ("date-garbage", CONTRACT, {"endDate": "next year"}, "input.endDate", "Value cannot represent a Date"),
    ("decimal-word", CONTRACT, {"standingCharge": "ten"}, "input.standingCharge", "cannot represent a Decimal"),
    ("decimal-nested", CONTRACT, {"prices": [{"usageClassId": "x", "model": "PER_UNIT", "unitAmount": "1,5"}]},
     "input.prices.0.unitAmount", "cannot represent a Decimal"),
    ("decimal-argument", TOP_UP, None, "amount", "cannot represent a Decimal"),
    ("int-beyond-32-bits", ORGANIZATION, {"closeGraceDays": 2**40}, "input.closeGraceDays", "32-bit"),
    ("int-as-string", ORGANIZATION, {"closeGraceDays": "3"}, "input.closeGraceDays", "Int cannot represent"),
    ("int-as-float", CONTRACT, {"commitments": [{"name": "c", "type": "SPEND", "frequency": "MONTHLY",
                                                  "rampSteps": [{"fromWindow": 1.5, "amount": "1"}]}]},
     "input.commitments.0.rampSteps.0.fromWindow", "Int cannot represent"),
    ("unknown-enum", CONTRACT, {"billingFrequency": "FORTNIGHTLY"}, "input.billingFrequency", "FORTNIGHTLY"),
    ("string-as-number", USAGE, None, "events.3.quantity", "String cannot represent"),
    ("object-for-string", ACCOUNT, {"name": {"first": "A"}}, "input.name", "String cannot represent"),
    ("missing-required-field", CONTRACT, {"name": None}, "input.name", "not to be None"),
    ("unknown-field", ACCOUNT, {"nickname": "x"}, "input", "nickname"),
    ("missing-variable", ACCOUNT, "missing", "input", "to be provided"),
    ("list-for-object", ACCOUNT, "list", "input", "to be an object"),
]


def _coercion_variables(w: World, document: str, change: Any) -> dict[str, Any]:
    if document == TOP_UP:
        return {"b": w.balance, "amount": "ten"}
    if document == USAGE:
        return {"events": [event(w) | {"idempotencyKey": f"k{i}"} for i in range(3)] + [event(w) | {"quantity": 12}]}
    base = {CONTRACT: lambda: contract(w), ORGANIZATION: lambda: {"name": "Org"},
            ACCOUNT: lambda: {"name": "Beta"}}[document]()
    if change == "missing":
        return {}
    if change == "list":
        return {"input": [base]}
    return {"input": base | change}


@pytest.mark.parametrize(("what", "document", "change", "variable", "phrase"), COERCION, ids=[c[0] for c in COERCION])
async def test_a_bad_variable_value_is_bad_user_input_with_its_path(world: World, what: str, document: str,
                                                                   change: Any, variable: str, phrase: str) -> None:
    before = await written(world)
    result = await gql_raw(world.org, document, _coercion_variables(world, document, change))
    assert result.data is None and result.errors
    error = result.errors[0]
    assert error.extensions["code"] == "BAD_USER_INPUT", error.formatted
    assert error.extensions["variable"] == variable
    assert phrase in error.message and "Unexpected error" not in error.message
    assert await written(world) == before


# (GraphQL type, a literal it cannot take, an argument position of that type)
INLINE = [
    ("Date", '"2026-02-30"', 'closePeriod(contractId: "x", periodStart: {v}) {{ userErrors {{ code }} }}'),
    ("Decimal", '"ten"', 'topUpBalance(balanceId: "x", amount: {v}) {{ userErrors {{ code }} }}'),
    ("Decimal", "true", 'topUpBalance(balanceId: "x", amount: {v}) {{ userErrors {{ code }} }}'),
    ("Int", "1099511627776", "updateOrganization(input: {{closeGraceDays: {v}}}) {{ userErrors {{ code }} }}"),
    ("enum", "FORTNIGHTLY", "updateOrganization(input: {{drawdownOrder: {v}}}) {{ userErrors {{ code }} }}"),
    ("String", "12", "createAccount(input: {{name: {v}}}) {{ userErrors {{ code }} }}"),
]


@pytest.mark.parametrize(("kind", "literal", "field"), INLINE, ids=[f"{i[0]}-{i[1]}" for i in INLINE])
async def test_the_same_bad_value_inline_is_bad_user_input_too(world: World, kind: str, literal: str,
                                                               field: str) -> None:
    result = await gql_raw(world.org, "mutation { " + field.format(v=literal) + " }")
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["BAD_USER_INPUT"], result.errors
    assert literal.strip('"').lower() in result.errors[0].message.lower()


async def test_documents_that_are_not_graphql_or_do_not_fit_the_schema_have_codes(world: World) -> None:
    broken = await gql_raw(world.org, "mutation { createAccount(input: {name: ")
    assert [e.extensions["code"] for e in broken.errors] == ["GRAPHQL_PARSE_FAILED"]
    unknown = await gql_raw(world.org, "{ organisation { name } }")
    assert [e.extensions["code"] for e in unknown.errors] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "organisation" in unknown.errors[0].message


@pytest.mark.parametrize("key", [2**31, 2**40, 10**30])
async def test_a_cursor_beyond_32_bits_is_an_invalid_input_error(world: World, key: int) -> None:
    import base64

    after = base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode()
    result = await gql_raw(world.org, "query($a: String) { contracts(first: 5, after: $a) { nodes { id } } }",
                           {"a": after})
    assert [(e.extensions or {}).get("code") for e in result.errors] == ["INVALID_INPUT"], result.errors
    assert "cursor" in result.errors[0].message or "after" in result.errors[0].message


async def test_an_unexpected_fault_is_still_masked(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.api.schema as schema_module

    async def broken(*_: Any) -> None:
        raise RuntimeError("secret: connection string postgres://user:pw@db")

    monkeypatch.setattr(schema_module, "resolve_node", broken)
    result = await gql_raw(world.org, f'{{ node(id: "{world.account}") {{ id }} }}')
    assert [e.message for e in result.errors] == ["Unexpected error."]
    assert "code" not in (result.errors[0].extensions or {})


# --- Decimals ---------------------------------------------------------------------------------------

# (input type.field, mutation, path in the variables, path in userErrors)
DECIMALS = [
    ("CreateContractInput.standingCharge", "createContract", "input.standingCharge", None),
    ("CreateContractInput.minimumSpend", "createContract", "input.minimumSpend", None),
    ("UpdateContractInput.standingCharge", "updateContract", "input.standingCharge", None),
    ("ContractChangesInput.standingCharge", "amendContract", "changes.standingCharge", None),
    ("ContractChangesInput.minimumSpend", "amendContract", "changes.minimumSpend", None),
    ("ServiceLineChangeInput.quantity", "amendContract", "changes.changeServiceLines.0.quantity", None),
    ("ServiceLineChangeInput.unitPrice", "amendContract", "changes.changeServiceLines.0.unitPrice", None),
    ("UpdateContractInput.minimumSpend", "updateContract", "input.minimumSpend", None),
    ("CreateContractInput.earlyTerminationFee", "createContract", "input.earlyTerminationFee", None),
    ("UpdateContractInput.earlyTerminationFee", "updateContract", "input.earlyTerminationFee", None),
    ("PriceInput.unitAmount", "createContract", "input.prices.0.unitAmount", None),
    ("PriceTierInput.upTo", "createContract", "input.prices.0.tiers.0.upTo", None),
    ("PriceTierInput.unitAmount", "createPrice", "input.tiers.1.unitAmount", None),
    ("PriceTierInput.flatAmount", "createContract", "input.prices.0.tiers.0.flatAmount", None),
    ("ServiceLineInput.quantity", "createServiceLine", "input.quantity", None),
    ("ServiceLineInput.unitPrice", "createContract", "input.serviceLines.0.unitPrice", None),
    ("CommitmentInput.amountPrepaid", "createContract", "input.commitments.0.amountPrepaid", None),
    ("CommitmentInput.amountFirstBill", "createCommitment", "input.amountFirstBill", None),
    ("CommitmentInput.overageSurchargePercent", "createContract", "input.commitments.0.overageSurchargePercent", None),
    ("CommitmentInput.rolloverFraction", "createCommitment", "input.rolloverFraction", None),
    ("CommitmentInput.rolloverCap", "createContract", "input.commitments.0.rolloverCap", None),
    ("RampStepInput.amount", "createContract", "input.commitments.0.rampSteps.0.amount", None),
    ("FeeDateInput.amount", "createCommitment", "input.feeDates.0.amount", None),
    ("PenaltyInput.amount", "createContract", "input.commitments.0.penalties.0.amount", None),
    ("PenaltyInput.rate", "createCommitment", "input.penalties.0.rate", None),
    ("PenaltyTierInput.upTo", "createContract", "input.commitments.0.penalties.0.tiers.0.upTo", None),
    ("PenaltyTierInput.rate", "createCommitment", "input.penalties.0.tiers.0.rate", None),
    ("PenaltyTierInput.flat", "createContract", "input.commitments.0.penalties.0.tiers.0.flat", None),
    ("PackageItemInput.quantity", "createProduct", "input.packageItems.0.quantity", None),
    ("CreateBalanceInput.amount", "createBalance", "input.amount", None),
    ("PostChargeInput.amount", "postCharge", "input.amount", None),
    ("Mutation.topUpBalance.amount", "topUpBalance", "amount", "amount"),
    ("Mutation.creditBack.amount", "creditBack", "amount", "amount"),
    ("UsageEventInput.quantity", "recordUsage", "events.0.quantity", None),
    ("CreditNoteLineInput.amount", "issueCreditNote", "lines.0.amount", None),
]
TOO_BIG = [
    "1" * 30 + "." + "1" * 13,  # 43 digits: raised decimal.InvalidOperation (precision 38) before
    "123456789012345678901",  # 21 integer digits
    "0.0000000000001",  # 13 decimal places
    "NaN", "sNaN", "-Infinity",
    "1E+1000000", "1E-1000000",
    "9" * 100_000,
]


@pytest.mark.parametrize("value", TOO_BIG, ids=lambda v: v if len(v) < 20 else f"{len(v)}-chars")
@pytest.mark.parametrize(("key", "mutation", "path", "field"), DECIMALS, ids=[d[0] for d in DECIMALS])
async def test_a_decimal_the_column_cannot_hold_is_invalid_amount(world: World, key: str, mutation: str, path: str,
                                                                    field: str | None, value: str) -> None:
    assert await refused(world, mutation, path, value) == [("INVALID_AMOUNT", field or path)]


async def test_the_43_digit_amount_inline_is_an_invalid_amount_too(world: World) -> None:
    result = await gql_raw(world.org, f"""mutation {{ topUpBalance(balanceId: "{world.balance}",
      amount: "{'1' * 30}.{'1' * 13}") {{ {ERRORS} }} }}""")
    assert result.errors is None
    assert [e["code"] for e in result.data["topUpBalance"]["userErrors"]] == ["INVALID_AMOUNT"]


# --- Text -------------------------------------------------------------------------------------------

# (input type.field, mutation, path in the variables, limit, code for an over-long / unstorable value)
TEXTS = [
    ("UpdateOrganizationInput.name", "updateOrganization", "input.name", 200, "INVALID_INPUT"),
    ("UpdateOrganizationInput.defaultCurrency", "updateOrganization", "input.defaultCurrency", 3, "INVALID_INPUT"),
    ("AccountInput.name", "createAccount", "input.name", 200, "INVALID_INPUT"),
    ("AccountInput.externalId", "createAccount", "input.externalId", 200, "INVALID_INPUT"),
    ("ProductInput.code", "createProduct", "input.code", 100, "INVALID_INPUT"),
    ("ProductInput.name", "createProduct", "input.name", 200, "INVALID_INPUT"),
    ("ProductInput.unit", "createProduct", "input.unit", 50, "INVALID_INPUT"),
    ("CreateContractInput.name", "createContract", "input.name", 200, "INVALID_INPUT"),
    ("CreateContractInput.currency", "createContract", "input.currency", 3, "INVALID_INPUT"),
    ("UpdateContractInput.name", "updateContract", "input.name", 200, "INVALID_INPUT"),
    ("UpdateContractInput.currency", "updateContract", "input.currency", 3, "INVALID_INPUT"),
    ("ServiceLineInput.externalId", "createContract", "input.serviceLines.0.externalId", 200, "INVALID_INPUT"),
    ("CommitmentInput.name", "createCommitment", "input.name", 200, "INVALID_INPUT"),
    ("CreateBalanceInput.name", "createBalance", "input.name", 200, "INVALID_INPUT"),
    ("CreateBalanceInput.currency", "createBalance", "input.currency", 3, "INVALID_INPUT"),
    ("PostChargeInput.idempotencyKey", "postCharge", "input.idempotencyKey", 200, "INVALID_INPUT"),
    ("PostChargeInput.description", "postCharge", "input.description", 200, "INVALID_INPUT"),
    ("UsageEventInput.usageClass", "recordUsage", "events.0.usageClass", 100, "INVALID_INPUT"),
    ("UsageEventInput.idempotencyKey", "recordUsage", "events.0.idempotencyKey", 200, "INVALID_INPUT"),
    ("UsageEventInput.connectionId", "recordUsage", "events.0.connectionId", 200, "INVALID_INPUT"),
    ("UsageEventInput.quantity", "recordUsage", "events.0.quantity", 100, "INVALID_AMOUNT"),
    ("UsageEventInput.timestamp", "recordUsage", "events.0.timestamp", 64, "INVALID_TIMESTAMP"),
]
BAD_TEXT = {"nul": "a\x00b", "surrogate": "a\ud800b", "low-surrogate": "\udfff", "over-by-one": None,
            "one-megabyte": "x" * 1_000_000}


@pytest.mark.parametrize("kind", list(BAD_TEXT))
@pytest.mark.parametrize(("key", "mutation", "path", "limit", "code"), TEXTS, ids=[t[0] for t in TEXTS])
async def test_text_a_column_cannot_hold_is_refused_on_its_field(world: World, key: str, mutation: str, path: str,
                                                                 limit: int, code: str, kind: str) -> None:
    value = BAD_TEXT[kind] or "x" * (limit + 1)
    assert await refused(world, mutation, path, value) == [(code, path)]


async def test_text_at_its_limit_is_stored(world: World) -> None:
    out = await gql(world.org, ACCOUNT, {"input": {"name": "n" * 200, "externalId": "e" * 200}})
    assert out["createAccount"]["userErrors"] == []


# --- Every Decimal and text input field is in the tables above --------------------------------------

def _input_fields(type_name: str) -> set[str]:
    found = set()
    for t in schema._schema.type_map.values():
        if is_input_object_type(t) and not t.name.startswith("__"):
            found |= {f"{t.name}.{n}" for n, f in t.fields.items() if get_named_type(f.type).name == type_name}
    return found


def test_every_decimal_input_is_covered() -> None:
    arguments = {f"Mutation.{n}.{a}" for n, f in schema._schema.mutation_type.fields.items()
                 for a, arg in f.args.items() if get_named_type(arg.type).name == "Decimal"}
    assert {d[0] for d in DECIMALS} == _input_fields("Decimal") | arguments | {"UsageEventInput.quantity"}


def test_every_text_input_field_declares_its_limit_and_is_covered() -> None:
    from app.api.input_limits import MAX_LENGTH

    assert {t[0] for t in TEXTS} == _input_fields("String")
    for key, *_, limit, _code in TEXTS:
        type_name, field = key.split(".")
        definition = schema._schema.type_map[type_name].fields[field].extensions["strawberry-definition"]
        assert definition.metadata[MAX_LENGTH] == limit, key
        assert f"At most {limit} characters." in definition.description, key


def test_the_limits_are_the_widths_of_the_columns() -> None:
    def width(model: Any, field: str) -> int:
        return int(model._meta.fields_map[field].max_length)

    from app.services import checks

    assert checks.MAX_NAME == width(models.Account, "name") == width(models.Contract, "name") == width(
        models.Product, "name") == width(models.Balance, "name") == width(models.Commitment, "name") == width(
        models.Organization, "name")
    assert checks.MAX_CODE == width(models.Product, "code")
    assert checks.MAX_UNIT == width(models.Product, "unit")
    assert checks.MAX_CURRENCY == width(models.Contract, "currency") == width(models.Organization, "default_currency")
    assert checks.MAX_EXTERNAL_ID == width(models.Account, "external_id") == width(models.ServiceLine, "external_id")
    assert checks.MAX_KEY == width(models.UsageEvent, "idempotency_key") == width(models.OneTimeCharge,
                                                                                   "idempotency_key")
    assert checks.MAX_CONNECTION_ID == width(models.UsageEvent, "connection_id")
    assert checks.MAX_DESCRIPTION == width(models.OneTimeCharge, "description")
