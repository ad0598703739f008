"""Calculated query cost (Shopify's model), checked before execution.

- Every object costs 1, every scalar and enum 0.
- A connection costs 1 and multiplies its children (``edges`` / ``nodes``) by its ``first`` (or
  its ``last`` when paging backward): the literal, or the variable's value, or the default page
  size (20) when absent; at most 100 (a larger one is refused by the field itself). An edge is free: its node is what counts.
- A list that is not a connection has a documented maximum and multiplies its items by it
  (``LIST_SIZES``; ``nodes(ids:)`` by the number of ids). Introspection is counted exactly on the
  schema (``cost_introspection``).
- Aliases, fragment spreads and inline fragments all count; on an interface (``node``) the most
  costly of the possible types counts. ``@skip`` / ``@include`` are honoured when their condition is
  known.

An operation whose cost is over the limit is answered with ``extensions.code: QUERY_TOO_COSTLY``
and nothing runs; every response carries ``extensions.cost { requested limit }``. The cost depends
on the variables, so it is computed per request (not in validation, whose result is cached per
document); fragments are memoized, so a document of fragments spread many times costs linear time.

No library was used: graphql-complexity (PyPI, the one candidate) pins strawberry-graphql < 0.292
for its extension, ignores variables and expands fragments without memoization.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from app.api.cost_introspection import IntrospectionCounter
from app.api.pagination import DEFAULT_PAGE, MAX_PAGE
from app.services import checks
from app.services.usage import MAX_BATCH

CODE = "QUERY_TOO_COSTLY"
MAX_NODE_IDS = 100  # Query.nodes(ids:)
USER_ERRORS_COUNTED = 10  # a payload's userErrors: scalars only, counted as 10 objects

# Lists that are not connections, by (type, field): the most items the cost counts.
LIST_SIZES: dict[tuple[str, str], int] = {
    ("Commitment", "rampSteps"): checks.MAX_RAMP_STEPS,
    ("Commitment", "feeDates"): checks.MAX_FEE_DATES,
    ("Commitment", "penalties"): checks.MAX_PENALTIES,
    ("Commitment", "eligibleProducts"): checks.MAX_PRODUCT_IDS,
    ("Balance", "eligibleProducts"): checks.MAX_PRODUCT_IDS,
    ("Penalty", "tiers"): checks.MAX_TIERS,
    ("Price", "tiers"): checks.MAX_TIERS,
    ("Product", "packageItems"): checks.MAX_PACKAGE_ITEMS,
    ("RecordUsagePayload", "results"): MAX_BATCH,
    ("CloseDuePeriodsPayload", "failures"): MAX_PAGE,
    ("CloseRun", "failures"): MAX_PAGE,  # counted like the payload's
}


def is_connection(named: GraphQLNamedType) -> bool:
    return is_object_type(named) and {"edges", "nodes", "pageInfo"} <= set(named.fields)


def _is_edge(named: GraphQLNamedType) -> bool:
    return is_object_type(named) and named.name.endswith("Edge") and {"node", "cursor"} <= set(named.fields)


class CostCalculator:
    """The requested cost of one operation of ``document`` with these raw ``variables``."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.defaults: dict[str, Any] = {}
        self._memo: dict[tuple[str, str, int | None], int] = {}
        self.introspection = IntrospectionCounter(schema, self.fragments, self._included)

    def operation(self, document: DocumentNode, operation_name: str | None) -> int | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return None
        self.defaults = {v.variable.name.value: v.default_value for v in operation.variable_definitions or ()}
        return self._selections(operation.selection_set, root, None)

    def _selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None) -> int:
        if selection_set is None:
            return 0
        if is_abstract_type(parent):
            possible = self.schema.get_possible_types(parent)
            return max((self._fields(selection_set, t, page) for t in possible), default=0)
        if not is_object_type(parent):
            return 0
        return self._fields(selection_set, parent, page)

    def _fields(self, selection_set: SelectionSetNode, parent: GraphQLObjectType, page: int | None) -> int:
        total = 0
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                total += self._field(node, parent, page)
            elif isinstance(node, InlineFragmentNode):
                if self._applies(node.type_condition.name.value if node.type_condition else None, parent):
                    total += self._fields(node.selection_set, parent, page)
            elif isinstance(node, FragmentSpreadNode):
                total += self._spread(node.name.value, parent, page)
        return total

    def _spread(self, name: str, parent: GraphQLObjectType, page: int | None) -> int:
        key = (name, parent.name, page)
        if key not in self._memo:
            self._memo[key] = 0  # a cycle (refused by validation anyway) adds nothing
            fragment = self.fragments.get(name)
            if fragment is not None and self._applies(fragment.type_condition.name.value, parent):
                self._memo[key] = self._fields(fragment.selection_set, parent, page)
        return self._memo[key]

    def _applies(self, condition: str | None, parent: GraphQLObjectType) -> bool:
        if condition is None or condition == parent.name:
            return True
        target = self.schema.get_type(condition)
        return target is not None and is_abstract_type(target) and self.schema.is_sub_type(target, parent)

    def _field(self, node: FieldNode, parent: GraphQLObjectType, page: int | None) -> int:
        if node.name.value in ("__schema", "__type") and parent is self.schema.query_type:
            return self._introspection(node)
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if is_connection(named):
            return 1 + self._selections(node.selection_set, named, self._first(node, definition))
        if page is not None and node.name.value in ("edges", "nodes"):
            count = page
        elif is_list_type(get_nullable_type(definition.type)):
            count = self._list_size(node, parent, definition)
        else:
            count = 1
        own = 0 if _is_edge(named) else 1
        return count * (own + self._selections(node.selection_set, named, None))

    def _introspection(self, node: FieldNode) -> int:
        if node.name.value == "__schema":
            return self.introspection.count(node.selection_set, "__Schema", self.schema)
        name = self._argument(node, "name")
        found = self.schema.get_type(name) if isinstance(name, str) else None
        return self.introspection.count(node.selection_set, "__Type", found)

    def _list_size(self, node: FieldNode, parent: GraphQLObjectType, definition: GraphQLField) -> int:
        name = node.name.value
        if name == "userErrors":
            return USER_ERRORS_COUNTED
        if (parent.name, name) == (self.schema.query_type.name if self.schema.query_type else "", "nodes"):
            ids = self._argument(node, "ids")
            return min(len(ids), MAX_NODE_IDS) if isinstance(ids, list) else MAX_NODE_IDS
        return LIST_SIZES.get((parent.name, name), MAX_PAGE)

    def _first(self, node: FieldNode, definition: GraphQLField) -> int:
        """The page a connection asks for: ``first``, else ``last`` (paging backward), else 20."""
        value = self._page_argument(node, definition, "first")
        if value is None or value is _ABSENT:
            value = self._page_argument(node, definition, "last")
        if value is None or value is _ABSENT:
            return DEFAULT_PAGE
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_PAGE  # refused when the variable is coerced; count the most
        return max(0, min(value, MAX_PAGE))

    def _page_argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        value = self._argument(node, name)
        if value is _ABSENT:
            argument = definition.args.get(name)
            value = argument.default_value if argument is not None else None
        return value

    def _argument(self, node: FieldNode, name: str) -> Any:
        """An argument's value: a literal, or the variable's (its default when not sent)."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self._value(argument.value)
        return _ABSENT

    def _value(self, value: Any) -> Any:
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                return self.variables[name]
            default = self.defaults.get(name)
            return _ABSENT if default is None else self._value(default)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, (BooleanValueNode, StringValueNode)):
            return value.value
        if isinstance(value, ListValueNode):
            return list(value.values)
        return None

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("skip", "include"):
                continue
            condition = next((self._value(a.value) for a in directive.arguments or () if a.name.value == "if"), None)
            if isinstance(condition, bool) and condition == (directive.name.value == "skip"):
                return False
        return True


_ABSENT: Any = object()


def requested_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   variables: Mapping[str, Any] | None) -> int | None:
    """The cost of the operation ``operation_name`` of ``document``; None if there is no such operation."""
    calculator = CostCalculator(schema, document, variables if isinstance(variables, Mapping) else {})
    return calculator.operation(document, operation_name)


def too_costly(requested: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The query's cost is {requested}, over the limit of {limit}: ask for fewer objects (smaller "
        f"`first`, fewer nested connections or aliases). See the README, 'Query cost and limits'.",
        extensions={"code": CODE, "cost": {"requested": requested, "limit": limit}},
    )


class QueryCost(SchemaExtension):
    """Refuses an operation over ``limit`` before it runs; reports the cost on every response."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.requested: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.requested = requested_cost(context.schema._schema, context.graphql_document,
                                            context.operation_name, context.variables)
        if self.requested is not None and self.requested > self.limit:
            context.result = ExecutionResult(data=None, errors=[too_costly(self.requested, self.limit)])
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.requested, "limit": self.limit}}
