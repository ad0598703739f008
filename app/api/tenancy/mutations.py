"""Mutations on the organization and its accounts."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.api import ids
from app.api.args import NodeId
from app.api.context import org_of
from app.api.enums import DrawdownOrder, LateUsage
from app.api.errors import UserErrorType
from app.api.input_limits import limited, require_valid
from app.api.mutation_guard import IdempotencyKey, guard
from app.api.payloads import DeletePayloadFields, Refusable
from app.api.tenancy.types import Account, Organization
from app.services import accounts, organizations
from app.services.checks import MAX_CURRENCY, MAX_EXTERNAL_ID, MAX_NAME


@strawberry.input(description="Fields of the organization to change; omitted fields keep their value.")
class UpdateOrganizationInput:
    name: str | None = strawberry.field(default=None, **limited("Display name.", max_length=MAX_NAME))
    default_currency: str | None = strawberry.field(default=None, **limited("ISO 4217 code.", max_length=MAX_CURRENCY))
    drawdown_order: DrawdownOrder | None = strawberry.field(default=None, description="Default drawdown order.")
    close_grace_days: int | None = strawberry.field(
        default=None, description="Days after a billing period's end before it may be closed, 0 to 31.")
    late_usage: LateUsage | None = strawberry.field(
        default=None, description="ADJUST (store late data, then correct) or REJECT (PERIOD_CLOSED).")
    correction_window_days: int | None = strawberry.field(
        default=None, description="Days after a period's end during which its late data is accepted, 0 to 3650.")

    def to_patch(self) -> organizations.OrganizationPatch:
        require_valid(self)
        return organizations.OrganizationPatch(self.name, self.default_currency, self.drawdown_order,
                                               close_grace_days=self.close_grace_days,
                                               late_usage=self.late_usage.value if self.late_usage else None,
                                               correction_window_days=self.correction_window_days)


@strawberry.input(description="An account; on update, omitted fields keep their value.")
class AccountInput:
    name: str | None = strawberry.field(default=None, **limited("Display name (required on create).", max_length=MAX_NAME))
    external_id: str | None = strawberry.field(default=None, **limited("Your id for the customer.",
                                                                       max_length=MAX_EXTERNAL_ID))
    drawdown_order: DrawdownOrder | None = strawberry.field(default=None, description="Override of the organization's order.")
    clear_drawdown_order: bool = strawberry.field(default=False, description="Update only: remove the override.")

    def to_spec(self) -> accounts.AccountSpec:
        require_valid(self)
        return accounts.AccountSpec(name=self.name, external_id=self.external_id,
                                    drawdown_order=self.drawdown_order,
                                    clear_drawdown_order=self.clear_drawdown_order)


@strawberry.type(description="Result of updateOrganization.")
class UpdateOrganizationPayload(Refusable):
    organization: Organization | None = strawberry.field(description="The organization, if updated.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was changed.")


@strawberry.type
class AccountPayloadFields(Refusable):
    """The fields of createAccount's and updateAccount's payloads."""

    account: Account | None = strawberry.field(description="The account as written; null when nothing was written.")
    user_errors: list[UserErrorType] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="Result of createAccount.")
class CreateAccountPayload(AccountPayloadFields):
    pass


@strawberry.type(description="Result of updateAccount.")
class UpdateAccountPayload(AccountPayloadFields):
    pass


@strawberry.type(description="Result of deleteAccount.")
class DeleteAccountPayload(DeletePayloadFields):
    pass


@strawberry.type
class TenancyMutations:
    @strawberry.mutation(description="Change the organization's name, default currency, drawdown order or close "
                         "grace days.")
    async def update_organization(self, info: Info, input: Annotated[UpdateOrganizationInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateOrganizationPayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateOrganizationPayload.refused,
            lambda: organizations.update_organization(org_id, input.to_patch()),
            lambda row: UpdateOrganizationPayload(organization=Organization.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Create an account (an end customer).")
    async def create_account(self, info: Info, input: Annotated[AccountInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> CreateAccountPayload:
        org_id = org_of(info)
        return await guard(
            info,
            CreateAccountPayload.refused,
            lambda: accounts.create_account(org_id, input.to_spec()),
            lambda row: CreateAccountPayload(account=Account.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Change an account; omitted fields keep their value.")
    async def update_account(self, info: Info, id: NodeId, input: Annotated[AccountInput, strawberry.argument(description="The fields to write.")], idempotency_key: IdempotencyKey = None) -> UpdateAccountPayload:
        org_id = org_of(info)
        return await guard(
            info,
            UpdateAccountPayload.refused,
            lambda: accounts.update_account(org_id, ids.decode(id, "Account", "id"), input.to_spec()),
            lambda row: UpdateAccountPayload(account=Account.from_row(row), user_errors=[]),
            key=idempotency_key,
        )

    @strawberry.mutation(description="Delete an account that has no contracts or balances.")
    async def delete_account(self, info: Info, id: NodeId, idempotency_key: IdempotencyKey = None) -> DeleteAccountPayload:
        org_id = org_of(info)
        return await guard(
            info,
            DeleteAccountPayload.refused,
            lambda: accounts.delete_account(org_id, ids.decode(id, "Account", "id")),
            lambda _: DeleteAccountPayload.deleted(id),
            key=idempotency_key,
        )
