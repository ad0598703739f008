"""Codes on the errors GraphQL itself reports about a request, before any resolver runs.

GraphQL refuses a document it cannot parse or validate, and variables it cannot coerce, with clear
messages of its own. This extension adds a stable ``extensions.code`` to each (an error that already
has a code keeps it), so that clients can tell bad input from a fault:

- ``GRAPHQL_PARSE_FAILED``: the document is not GraphQL (or has more tokens than allowed);
- ``BAD_USER_INPUT``: a value does not fit its type: a variable's value (``extensions.variable`` is
  its path, e.g. ``input.startDate`` or ``events.3.quantity``), or a literal written in the document;
- ``GRAPHQL_VALIDATION_FAILED``: any other validation error (an unknown field, a missing argument...).

None of these errors is masked (see ``schema._should_mask``): they only describe the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, ValuesOfCorrectTypeRule, VariableDefinitionNode, validate
from strawberry.extensions import SchemaExtension

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"

# graphql-core: "Variable '$input' has invalid value at .prices[0].unitAmount: <why>".
_VARIABLE = re.compile(r"Variable '\$(?P<name>\w+)' has invalid (?:default )?value(?: at (?P<path>[^:]*))?:")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_WHOLE_VARIABLES = ("Too many errors processing variables", "Variable values are nested too deeply")


def _with_code(error: GraphQLError, code: str, **more: str) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code, **more}


def variable_path(error: GraphQLError) -> str | None:
    """The dotted path of the variable value at fault (``input.prices.0.unitAmount``), if named."""
    match = _VARIABLE.match(error.message)
    if match is None:
        node = (error.nodes or [None])[0]
        return node.variable.name.value if isinstance(node, VariableDefinitionNode) else None
    steps = [key or index for key, index in _STEP.findall(match["path"] or "")]
    return ".".join([match["name"], *steps])


def _is_variable_error(error: GraphQLError) -> bool:
    node = (error.nodes or [None])[0]
    return isinstance(node, VariableDefinitionNode) or error.message.startswith(_WHOLE_VARIABLES)


class InputErrorCodes(SchemaExtension):
    """Add ``extensions.code`` to parse, validation and variable-coercion errors."""

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors: Sequence[GraphQLError] = context.pre_execution_errors or ()
        if not errors or context.graphql_document is None:
            return
        # Which of them are bad literal values: run that one rule again (only on a refused document).
        literal = {(e.message, str(e.locations)) for e in
                   validate(context.schema._schema, context.graphql_document, [ValuesOfCorrectTypeRule])}
        for error in errors:
            bad_value = (error.message, str(error.locations)) in literal
            _with_code(error, BAD_USER_INPUT if bad_value else VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            if error.path is None and _is_variable_error(error):
                path = variable_path(error)
                if path is None:
                    _with_code(error, BAD_USER_INPUT)
                else:
                    _with_code(error, BAD_USER_INPUT, variable=path)

    def get_results(self) -> dict[str, Any]:
        # A syntax error leaves the parser cache's hook as an exception, so no hook sees it after the
        # parse; by the time results are gathered it is the request's error list.
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError):
                _with_code(error, PARSE_FAILED)
        return {}
