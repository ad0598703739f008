"""GraphQL types of usage ingestion and one-time charges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.catalog.types import Product
from app.api.enums import described_enum
from app.api.errors import ErrorCodeEnum, UserErrorType
from app.api.input_limits import limited, require_valid
from app.api.scalars import money
from app.db import models
from app.services.checks import MAX_CODE, MAX_CONNECTION_ID, MAX_DESCRIPTION, MAX_KEY
from app.services.errors import InvalidInput
from app.services.one_time_charges import OneTimeChargeSpec
from app.services.usage_rules import (
    MAX_QUANTITY_TEXT,
    MAX_TIMESTAMP_TEXT,
    EventResult,
    EventStatus,
    UsageEventSpec,
)

UsageEventStatus = described_enum(
    EventStatus, name="UsageEventStatus", description="What became of one usage event of a batch.", values={
        "ACCEPTED": "Stored now; it counts towards the period's usage charges and the commitments measuring it.",
        "ACCEPTED_LATE": "Stored for a billing period already closed (late data, SPEC §17): within the organization's "
                         "correctionWindowDays with lateUsage ADJUST. The next correction of the contract "
                         "(correctContract, or the scheduled due-close run) bills it as adjustments.",
        "DUPLICATE": "Its idempotency key is already stored (or came earlier in the batch): not stored or counted "
                     "again. Retrying an accepted batch is safe.",
        "REJECTED": "Not stored, for the reason in code (e.g. NO_MATCHING_CONTRACT, PERIOD_CLOSED, INVALID_AMOUNT); "
                    "the rest of the batch is unaffected.",
    })


@strawberry.input(description="One metered event. Name a contract or an account (the account's one active "
                              "contract whose term holds the day and that prices or commits on the usage "
                              "class), and a usage class by id or by code. quantity and timestamp are "
                              "strings so that one malformed event is rejected alone instead of failing the "
                              "whole request at GraphQL validation.")
class UsageEventInput:
    contract_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of an ACTIVE contract (or give accountId).")
    account_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of an account (or give contractId).")
    usage_class_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of a USAGE_CLASS product (or give usageClass).")
    usage_class: str | None = strawberry.field(default=None, **limited(
        "Code of a USAGE_CLASS product (or give usageClassId).", max_length=MAX_CODE))
    quantity: str = strawberry.field(**limited(
        "Decimal quantity >= 0 as a string, at most 12 decimal places, e.g. \"12.5\".", max_length=MAX_QUANTITY_TEXT))
    timestamp: str = strawberry.field(**limited(
        "ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z; without an offset it is UTC. The event's day is its UTC day.",
        max_length=MAX_TIMESTAMP_TEXT))
    idempotency_key: str = strawberry.field(**limited(
        "Unique within your organization: a repeated key is a DUPLICATE, never counted twice.", max_length=MAX_KEY))
    connection_id: str | None = strawberry.field(default=None, **limited(
        "Optional source reference (e.g. the SIM or connection).", max_length=MAX_CONNECTION_ID))

    def to_spec(self, path: str) -> UsageEventSpec:
        return UsageEventSpec(
            quantity=self.quantity, timestamp=self.timestamp, idempotency_key=self.idempotency_key,
            contract_id=ids.decode_optional(self.contract_id, "Contract", f"{path}.contractId"),
            account_id=ids.decode_optional(self.account_id, "Account", f"{path}.accountId"),
            usage_class_id=ids.decode_optional(self.usage_class_id, "Product", f"{path}.usageClassId"),
            usage_class_code=self.usage_class, connection_id=self.connection_id,
        )


def _event_from_input(cls: type[UsageEventInput], value: Mapping[str, Any], _context: object) -> UsageEventInput:
    """Build one event straight from GraphQL's coerced value (keyed by GraphQL names).

    Strawberry's generic conversion resolves every field's type again for every item (about half of
    a 1,000-event ``recordUsage`` request's CPU, bench/README.md); every field here is a string or
    an ID that needs no conversion, and graphql-core has already checked the types and the required
    fields. Strawberry calls this hook (``StrawberryObjectDefinition.from_input``) for each item."""
    get = value.get
    return cls(contract_id=get("contractId"), account_id=get("accountId"), usage_class_id=get("usageClassId"),
               usage_class=get("usageClass"), quantity=value["quantity"], timestamp=value["timestamp"],
               idempotency_key=value["idempotencyKey"], connection_id=get("connectionId"))


UsageEventInput.__strawberry_definition__.from_input = _event_from_input  # type: ignore[attr-defined]


@strawberry.type(description="What became of one event of the batch.")
class UsageEventResult:
    index: int = strawberry.field(description="Position of the event in the events argument (from 0).")
    status: UsageEventStatus = strawberry.field(description="ACCEPTED, ACCEPTED_LATE, DUPLICATE or REJECTED.")  # type: ignore[valid-type]
    code: ErrorCodeEnum | None = strawberry.field(description="Why it was not accepted (DUPLICATE for duplicates); null when accepted.")  # type: ignore[valid-type]
    field: str | None = strawberry.field(description="Path of the offending input field, e.g. events.3.quantity.")
    message: str | None = strawberry.field(description="Human-readable explanation; null when accepted.")

    @classmethod
    def from_result(cls, result: EventResult, index: int) -> UsageEventResult:
        return cls(index=index, status=result.status, code=result.code,
                   field=f"events.{index}.{result.field}" if result.field else None, message=result.message)

    @classmethod
    def from_error(cls, error: InvalidInput, index: int) -> UsageEventResult:
        first = error.errors[0]
        return cls(index=index, status=EventStatus.REJECTED, code=first.code, field=first.field, message=first.message)


@strawberry.type(description="Result of recordUsage: one result per event, in order, and the counts.")
class RecordUsagePayload:
    results: list[UsageEventResult] = strawberry.field(description="One per event, in the order sent.")
    accepted: int = strawberry.field(description="Events stored by this request (late ones included).")
    accepted_late: int = strawberry.field(description="Of those, events stored late: for a closed period (SPEC §17).")
    duplicates: int = strawberry.field(description="Events whose idempotency key was already stored or repeated in the batch.")
    rejected: int = strawberry.field(description="Events refused (see their code); nothing stored for them.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why the whole batch was refused (e.g. more than 1,000 events); then no event was looked at.")


@strawberry.input(description="A one-time charge on an ACTIVE contract, billed in the period holding serviceDate.")
class PostChargeInput:
    contract_id: strawberry.ID = strawberry.field(description="Global id of an ACTIVE contract.")
    product_id: strawberry.ID = strawberry.field(description="Global id of the product charged (any kind).")
    amount: Decimal = strawberry.field(description="Amount in the contract's currency, >= 0 (credits are a separate feature).")
    service_date: date = strawberry.field(description="Day of the service: inside the term and in a billing period not yet closed.")
    idempotency_key: str = strawberry.field(**limited(
        "Unique within your organization: repeating the same request returns the stored charge (created false); a "
        "different request with the key is a DUPLICATE.", max_length=MAX_KEY))
    description: str = strawberry.field(default="", **limited("Shown on the invoice line.", max_length=MAX_DESCRIPTION))

    def to_spec(self) -> OneTimeChargeSpec:
        require_valid(self)
        return OneTimeChargeSpec(
            contract_id=ids.decode(self.contract_id, "Contract", "input.contractId"),
            product_id=ids.decode(self.product_id, "Product", "input.productId"),
            amount=self.amount, service_date=self.service_date, idempotency_key=self.idempotency_key,
            description=self.description,
        )


@strawberry.type(description="A one-time charge posted through the API.")
class OneTimeCharge:
    id: strawberry.ID = strawberry.field(description="Global id of the charge.")
    amount: Decimal = strawberry.field(description="Amount in the contract's currency.")
    service_date: date = strawberry.field(description="Day of the service; the charge is billed in the period holding it.")
    description: str = strawberry.field(description="Shown on the invoice line.")
    idempotency_key: str = strawberry.field(description="The key it was posted with.")
    product_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.OneTimeCharge, currency: str) -> OneTimeCharge:
        return cls(id=strawberry.ID(ids.encode("OneTimeCharge", row.id)), amount=money(row.amount, currency),
                   service_date=row.service_date, description=row.description,
                   idempotency_key=row.idempotency_key, product_id=row.product_id)

    @strawberry.field(description="The product charged.")
    async def product(self, info: Info) -> Product:
        row = await info.context.loaders.by_id(models.Product).load(self.product_id)
        return Product.from_row(row)


@strawberry.type(description="Result of postCharge.")
class PostChargePayload:
    charge: OneTimeCharge | None = strawberry.field(description="The charge: new, or the stored one for a repeated request.")
    created: bool = strawberry.field(description="True if this request stored the charge, false for a repeat.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written.")
