"""The exact cost of an introspection selection (``__schema``, ``__type``), counted on the schema.

Introspection lists have no fixed size (a type's fields, a field's arguments, …), and counting each
at its largest refuses GraphiQL's own introspection query, while counting them as free lets
``__schema { types { fields { type { fields { type { fields … } } } } } }`` build millions of
objects. The schema is known, so the objects a selection would produce are counted exactly, the
way graphql-core would resolve them, with each (selection, object) pair counted once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_wrapping_type,
)

# (introspection type, field) -> (the type of what it returns, how to get it from the parent object)
Children = Callable[[GraphQLSchema, Any], Any]


def _fields(_: GraphQLSchema, t: Any) -> Any:
    return list(t.fields.values()) if is_object_type(t) or is_interface_type(t) else None


def _input_fields(_: GraphQLSchema, t: Any) -> Any:
    return list(t.fields.values()) if is_input_object_type(t) else None


RELATIONS: dict[tuple[str, str], tuple[str, Children]] = {
    ("__Schema", "types"): ("__Type", lambda s, _: list(s.type_map.values())),
    ("__Schema", "queryType"): ("__Type", lambda s, _: s.query_type),
    ("__Schema", "mutationType"): ("__Type", lambda s, _: s.mutation_type),
    ("__Schema", "subscriptionType"): ("__Type", lambda s, _: s.subscription_type),
    ("__Schema", "directives"): ("__Directive", lambda s, _: list(s.directives)),
    ("__Type", "fields"): ("__Field", _fields),
    ("__Type", "inputFields"): ("__InputValue", _input_fields),
    ("__Type", "interfaces"): ("__Type", lambda _, t: list(t.interfaces) if is_object_type(t) or is_interface_type(t) else None),
    ("__Type", "possibleTypes"): ("__Type", lambda s, t: list(s.get_possible_types(t)) if is_abstract_type(t) else None),
    ("__Type", "enumValues"): ("__EnumValue", lambda _, t: list(t.values.values()) if is_enum_type(t) else None),
    ("__Type", "ofType"): ("__Type", lambda _, t: t.of_type if is_wrapping_type(t) else None),
    ("__Field", "args"): ("__InputValue", lambda _, f: list(f.args.values())),
    ("__Field", "type"): ("__Type", lambda _, f: f.type),
    ("__InputValue", "type"): ("__Type", lambda _, v: v.type),
    ("__Directive", "args"): ("__InputValue", lambda _, d: list(d.args.values())),
}


class IntrospectionCounter:
    """Counts the objects an introspection selection produces (each costs 1)."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 included: Callable[[Any], bool]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.included = included
        self._memo: dict[tuple[int, str, int], int] = {}

    def count(self, selection_set: SelectionSetNode | None, kind: str, value: Any) -> int:
        """The cost of ``value`` (an object of introspection type ``kind``, or a list, or None)."""
        if value is None:
            return 0
        if isinstance(value, list):
            return sum(self.count(selection_set, kind, item) for item in value)
        if selection_set is None:
            return 1
        key = (id(selection_set), kind, id(value))
        if key not in self._memo:
            self._memo[key] = 1 + sum(self._field(node, kind, value) for node in self._flat(selection_set, kind, set()))
        return self._memo[key]

    def _field(self, node: FieldNode, kind: str, value: Any) -> int:
        relation = RELATIONS.get((kind, node.name.value))
        if relation is None:
            return 0  # a scalar or enum field
        child_kind, children = relation
        return self.count(node.selection_set, child_kind, children(self.schema, value))

    def _flat(self, selection_set: SelectionSetNode, kind: str, seen: set[str]) -> Iterator[FieldNode]:
        for node in selection_set.selections:
            if not self.included(node):
                continue
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is None or node.type_condition.name.value == kind:
                    yield from self._flat(node.selection_set, kind, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None and fragment.type_condition.name.value == kind:
                    yield from self._flat(fragment.selection_set, kind, seen | {node.name.value})
