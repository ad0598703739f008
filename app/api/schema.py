"""The GraphQL schema: root Query and Mutation built from one mixin per area, with guard rails."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import Info

from app.api.args import NodeId, NodeIds
from app.api.balances.mutations import BalanceMutations
from app.api.catalog.mutations import CatalogMutations
from app.api.catalog.queries import CatalogQueries
from app.api.commitments.mutations import CommitmentMutations
from app.api.context import org_of
from app.api.contracts.mutations import ContractMutations
from app.api.contracts.queries import ContractQueries
from app.api.invoices.queries import InvoiceQueries
from app.api.lifecycle.mutations import LifecycleMutations
from app.api.nodes import resolve_node, resolve_nodes
from app.api.tenancy.mutations import TenancyMutations
from app.api.tenancy.queries import TenancyQueries
from app.api.usage.mutations import ChargeMutations, UsageMutations
from app.settings import load_settings

MAX_NODES = 100


@strawberry.type(description="Read the caller's organization: every object is scoped to the API key's tenant.")
class Query(TenancyQueries, CatalogQueries, ContractQueries, InvoiceQueries):
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
class Mutation(TenancyMutations, CatalogMutations, ContractMutations, CommitmentMutations, BalanceMutations,
               UsageMutations, ChargeMutations, LifecycleMutations):
    pass


def _should_mask(error: Exception) -> bool:
    """Mask unexpected errors; keep GraphQL's own errors and the ones we raise with a code."""
    from graphql import GraphQLError

    original = getattr(error, "original_error", None)
    if original is None:
        return False
    return not (isinstance(original, GraphQLError) and (original.extensions or {}).get("code"))


def build_schema() -> strawberry.Schema:
    settings = load_settings()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
        ],
    )


schema = build_schema()
