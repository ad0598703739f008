"""The GraphQL schema: root Query and Mutation built from one mixin per area, with guard rails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from graphql.validation import ASTValidationRule
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.types import Info

from app.api.adjustments.mutations import AdjustmentMutations
from app.api.adjustments.queries import AdjustmentQueries
from app.api.args import MAX_NODES, NodeId, NodeIds
from app.api.balances.mutations import BalanceMutations
from app.api.catalog.mutations import CatalogMutations
from app.api.catalog.queries import CatalogQueries
from app.api.commitments.mutations import CommitmentMutations
from app.api.context import org_of
from app.api.input_errors import InputErrorCodes
from app.api.input_limits import ShortenLists
from app.api.contracts.amend import AmendMutations
from app.api.contracts.mutations import ContractMutations
from app.api.contracts.queries import ContractQueries
from app.api.cost import QueryCost
from app.api.invoices.queries import InvoiceQueries
from app.api.lifecycle.close_runs import CloseRunQueries
from app.api.lifecycle.corrections import CorrectionMutations
from app.api.lifecycle.mutations import LifecycleMutations
from app.api.nodes import resolve_node, resolve_nodes
from app.api.operation_metrics import MeasuredSchema
from app.api.scalars import UTC_DATETIME
from app.api.switches import production_switches
from app.api.tenancy.mutations import TenancyMutations
from app.api.tenancy.queries import TenancyQueries
from app.api.timeout import ExecutionTimeout
from app.api.usage.mutations import ChargeMutations, UsageMutations
from app.api.usage.queries import UsageEventQueries
from app.observability.tracing import graphql_extension
from app.settings import load_settings



@strawberry.type(description="Read the caller's organization: every object is scoped to the API key's tenant.")
class Query(TenancyQueries, CatalogQueries, ContractQueries, InvoiceQueries, AdjustmentQueries, UsageEventQueries,
            CloseRunQueries):
    @strawberry.field(description="Any object by its global id; null if it does not exist in your organization.")
    async def node(self, info: Info, id: NodeId) -> relay.Node | None:
        org_of(info)
        return await resolve_node(info, id)

    @strawberry.field(description=f"Several objects by global id (at most {MAX_NODES}); null where not found.")
    async def nodes(self, info: Info, ids: NodeIds) -> list[relay.Node | None]:
        org_of(info)
        if len(ids) > MAX_NODES:
            raise GraphQLError(f"at most {MAX_NODES} ids per request", extensions={"code": "INVALID_INPUT"})
        return await resolve_nodes(info, list(ids))


@strawberry.type(description="Create and edit the objects of your organization. Errors come back as userErrors.")
class Mutation(TenancyMutations, CatalogMutations, ContractMutations, AmendMutations, CommitmentMutations, BalanceMutations,
               UsageMutations, ChargeMutations, LifecycleMutations, AdjustmentMutations, CorrectionMutations):
    pass


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors only: an exception that is not a GraphQL error, or a GraphQL error
    without a code raised while resolving a field. GraphQL's own errors about the request (syntax,
    validation, variable values: they have no path) and errors raised with a code are kept."""
    original = error.original_error
    if original is None:
        return False
    if not isinstance(original, GraphQLError):
        return True
    return error.path is not None and not (original.extensions or {}).get("code")


class LimitedSchema(MeasuredSchema):
    """The schema with its fixed limits set on every operation's execution context where Strawberry
    creates it: the depth and alias rules added to the validation rules, the token limit to the
    parse options. Strawberry's AddValidationRules and MaxTokensLimiter did the same from an
    ``on_operation`` hook, but each extension hook costs every request a context manager built,
    entered and left (the two were ~7 % of a ``{ __typename }``'s CPU in the process); these limits
    never vary, so they need no hook. ``_create_execution_context`` is Strawberry's one place where
    execute, execute_sync and subscribe make the context (pinned: strawberry-graphql < 0.400)."""

    def __init__(self, *, rules: tuple[type[ASTValidationRule], ...], max_tokens: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.limit_rules = rules
        self.max_tokens = max_tokens

    def _create_execution_context(self, *args: object, **kwargs: object) -> ExecutionContext:
        context = super()._create_execution_context(*args, **kwargs)  # type: ignore[arg-type]
        context.validation_rules = context.validation_rules + self.limit_rules
        context.parse_options["max_tokens"] = self.max_tokens
        return context


def build_schema(tracer_provider: Any = None) -> strawberry.Schema:
    """The schema; with a tracer provider, Strawberry's OpenTelemetry extension first (README "Tracing")."""
    settings = load_settings()
    tracing = [] if tracer_provider is None else [graphql_extension(tracer_provider)]
    # The depth and alias rules are made once: the validation cache is keyed by the rule classes, and
    # QueryDepthLimiter / MaxAliasesLimiter made new ones per request, so it never hit.
    limits = (depth_rule(settings.max_query_depth, None, None), aliases_rule(settings.max_aliases))
    return LimitedSchema(  # logs expected errors at INFO, unexpected ones at ERROR (error_log.py)
        rules=limits,
        max_tokens=settings.max_tokens,
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={datetime: UTC_DATETIME}),
        extensions=[
            *tracing,  # its operation span holds the others' work
            *production_switches(settings),  # first, so that it sees the final errors
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryCost(settings.max_query_cost),
            lambda: ExecutionTimeout(settings.request_timeout_seconds),
            ShortenLists,
            InputErrorCodes,
            lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
        ],
    )


schema = build_schema()
