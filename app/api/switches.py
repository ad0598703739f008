"""Production switches: introspection and field suggestions, each on or off by a setting.

Introspection off: Strawberry's ``DisableIntrospection`` (graphql-core's
``NoSchemaIntrospectionCustomRule``: ``__schema`` and ``__type`` are refused at validation,
``__typename`` still works). It adds one fixed rule class, so the validation cache keeps hitting.

Suggestions off: graphql-core 3.3 can leave out its "Did you mean …?" hints (``hide_suggestions``),
but Strawberry 0.341 passes no such flag to ``validate`` or ``execute``. ``HideSuggestions`` removes
the sentence from every error of the result instead; graphql-core writes every hint through one
helper (``did_you_mean``), always as `` Did you mean <names>?`` at the end of a sentence. This
covers validation (unknown fields, arguments, types, enum values) and variable coercion alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension

from app.settings import Settings

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=error.original_error,
                        extensions=error.extensions)


class HideSuggestions(SchemaExtension):
    """Strips graphql-core's "Did you mean …?" from the errors of every result."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            stripped = [without_suggestion(error) for error in errors]
            result.errors = stripped  # type: ignore[union-attr]


def production_switches(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions the settings ask for (none with both switches on)."""
    extensions: list[Callable[[], SchemaExtension]] = []
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if not settings.field_suggestions:
        extensions.append(HideSuggestions)
    return extensions
