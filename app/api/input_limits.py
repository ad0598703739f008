"""Limits of the GraphQL inputs: declared once on each field, checked in one place.

- ``limited(description, max_length=..., max_items=...)`` gives the keyword arguments of a
  ``strawberry.field`` or ``strawberry.argument``: the description states the limit, the field's
  metadata holds it (README, "Limits", lists them all; a test checks every text and list input).
- ``require_valid(input, path)`` refuses an input object (before any per-item work and before the
  service looks anything up) with every breach as an ``INVALID_INPUT`` user error on its path: text
  over its length or holding NUL / an unpaired surrogate, a list over its limit (its items are then
  not looked at). Each input's ``to_spec`` calls it. Decimals are bounded by the services
  (``checks.decimal_problem``), which report them together with their other findings.
- ``ShortenLists`` (a schema extension) cuts, before GraphQL coerces the variables, every list
  variable longer than its limit to limit + 1 items: the field still refuses it as above, but a
  100,000-item list costs no more than a 101-item one. Literal lists are bounded by the token limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLInputType,
    GraphQLSchema,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_operation_ast,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    type_from_ast,
    visit,
)
from graphql.validation import ASTValidationContext
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

from app.services.checks import count_problem, text_problem
from app.services.errors import InvalidInput, UserError

MAX_LENGTH = "max_length"
MAX_ITEMS = "max_items"
_BACKREF = "strawberry-definition"  # where Strawberry keeps its definition of a GraphQL field


def limited(description: str, *, max_length: int | None = None, max_items: int | None = None) -> dict[str, Any]:
    """``description`` with its limit stated, and the limit as metadata (``**limited(...)``)."""
    metadata: dict[str, int] = {}
    if max_length is not None:
        metadata[MAX_LENGTH] = max_length
        description = f"{description} At most {max_length} characters."
    if max_items is not None:
        metadata[MAX_ITEMS] = max_items
        description = f"{description} At most {max_items} items."
    return {"description": description, "metadata": metadata}


# --- checking a coerced input object ------------------------------------------------------------

@dataclass(frozen=True)
class _Field:
    python_name: str
    graphql_name: str
    max_length: int | None
    max_items: int | None


@cache
def _fields(cls: type) -> tuple[_Field, ...]:
    return tuple(
        _Field(f.python_name, f.graphql_name or to_camel_case(f.python_name),
               f.metadata.get(MAX_LENGTH), f.metadata.get(MAX_ITEMS))
        for f in cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
    )


def problems(value: object, path: str) -> list[UserError]:
    """Every breach of a declared limit in the input object ``value`` (see the module's doc)."""
    found: list[UserError] = []
    _check_object(value, path, found)
    return found


def require_valid(value: object, path: str = "input") -> None:
    """Raise ``InvalidInput`` with every breach in ``value``, if any."""
    found = problems(value, path)
    if found:
        raise InvalidInput(found)


def _is_input(value: object) -> bool:
    return bool(getattr(getattr(type(value), "__strawberry_definition__", None), "is_input", False))


def _check_object(value: object, path: str, found: list[UserError]) -> None:
    for field in _fields(type(value)):
        _check_value(getattr(value, field.python_name), f"{path}.{field.graphql_name}", field, found)


def _check_value(value: object, path: str, field: _Field, found: list[UserError]) -> None:
    problem: UserError | None = None
    if isinstance(value, str) and field.max_length is not None:
        problem = text_problem(value, path, field.max_length)
    elif isinstance(value, list):
        if field.max_items is not None:
            problem = count_problem(value, path, field.max_items)
        if problem is None:
            for i, item in enumerate(value):
                if _is_input(item):
                    _check_object(item, f"{path}.{i}", found)
    elif _is_input(value):
        _check_object(value, path, found)
    if problem is not None:
        found.append(problem)


# --- cutting over-long list variables before coercion -------------------------------------------

def max_items(extensions: Mapping[str, Any] | None) -> int | None:
    """The declared item limit of a GraphQL argument or input field, if any."""
    definition = (extensions or {}).get(_BACKREF)
    limit = (getattr(definition, "metadata", None) or {}).get(MAX_ITEMS)
    return limit if isinstance(limit, int) else None


@cache
def _holding_limits(schema: GraphQLSchema) -> frozenset[str]:
    """Input types with a limited list field somewhere inside (the ones worth walking)."""
    inputs = [t for t in schema.type_map.values() if is_input_object_type(t)]
    holding = {t.name for t in inputs if any(max_items(f.extensions) for f in t.fields.values())}
    grown = True
    while grown:
        before = len(holding)
        holding |= {t.name for t in inputs
                    if any(get_named_type(f.type).name in holding for f in t.fields.values())}
        grown = len(holding) > before
    return frozenset(holding)


def _direct_limits(schema: GraphQLSchema, document: DocumentNode,
                   operation: OperationDefinitionNode) -> dict[str, int]:
    """For each variable passed straight to limited list positions only: the largest such limit."""
    limits: dict[str, list[int | None]] = {}
    type_info = TypeInfo(schema)

    class Uses(Visitor):
        def enter_variable(self, node: VariableNode, _key: Any, parent: Any, *_: Any) -> None:
            if isinstance(parent, VariableDefinitionNode):
                return  # the declaration, not a use
            limit: int | None = None
            if isinstance(parent, ArgumentNode) and type_info.get_argument() is not None:
                limit = max_items(type_info.get_argument().extensions)  # type: ignore[union-attr]
            elif isinstance(parent, ObjectFieldNode):
                owner: Any = get_named_type(type_info.get_parent_input_type())
                field = owner.fields.get(parent.name.value) if is_input_object_type(owner) else None
                limit = max_items(field.extensions) if field is not None else None
            limits.setdefault(node.name.value, []).append(limit)

    context = ASTValidationContext(document, lambda _error: None)
    for node in [operation, *context.get_recursively_referenced_fragments(operation)]:
        visit(node, TypeInfoVisitor(type_info, Uses()))
    # Cutting to the largest limit + 1 makes every use refuse it; a use without a limit forbids it.
    return {name: max(uses) for name, uses in limits.items()  # type: ignore[type-var]
            if all(u is not None for u in uses)}


def _shorten(value: Any, type_: GraphQLInputType, limit: int | None, holding: frozenset[str]) -> Any:
    if is_non_null_type(type_):
        type_ = type_.of_type  # type: ignore[union-attr]
    if is_list_type(type_):
        item_type = type_.of_type  # type: ignore[union-attr]
        if not isinstance(value, list):
            return _shorten(value, item_type, None, holding)  # a single value is a list of one
        if limit is not None and len(value) > limit:
            value = value[: limit + 1]
        if get_named_type(item_type).name in holding:
            items = [_shorten(v, item_type, None, holding) for v in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                value = items
        return value
    if is_input_object_type(type_) and type_.name in holding and isinstance(value, dict):  # type: ignore[union-attr]
        out = value
        for name, field in type_.fields.items():  # type: ignore[union-attr]
            if name in value:
                new = _shorten(value[name], field.type, max_items(field.extensions), holding)
                if new is not value[name]:
                    out = dict(out) if out is value else out
                    out[name] = new
        return out
    return value


def shorten_variables(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                      variables: dict[str, Any]) -> dict[str, Any]:
    """``variables`` with every list over its limit cut to limit + 1 items (a copy if any was cut)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or not operation.variable_definitions:
        return variables
    holding = _holding_limits(schema)
    direct = (_direct_limits(schema, document, operation)
              if any(isinstance(v, list) for v in variables.values()) else {})
    out = variables
    for definition in operation.variable_definitions:
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        if name not in variables or type_ is None:
            continue
        new = _shorten(variables[name], type_, direct.get(name), holding)  # type: ignore[arg-type]
        if new is not variables[name]:
            out = dict(out) if out is variables else out
            out[name] = new
    return out


class ShortenLists(SchemaExtension):
    """Cut over-long list variables before coercion (see the module's doc)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.variables and context.graphql_document is not None:
            context.variables = shorten_variables(context.schema._schema, context.graphql_document,
                                                  context.operation_name, context.variables)
        yield
