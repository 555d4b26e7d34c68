"""Refusing abusive operations before anything runs (contract 14): validation rules, so an
operation over a limit is answered with one error and executes nothing, mutations included.

- Depth: the selection sets nested under the operation (`partInventories { edges { node { id } } }`
  is 3); more than `GRAPHQL_MAX_DEPTH` (10) is refused.
- Cost: every field selected costs 1 for each time it can be resolved: a connection's fields
  count once per row of its page (`first` or `last`, a variable counting as the most a page
  holds, 100 when neither is given, 1 when it is 0), a plain list's (`partsInventory`, `runs`…)
  `LIST_ROWS` (1000) times; a connection also costs `COUNT_COST` for counting its rows (its
  `pageInfo.totalCount`, counted whatever is selected); above `GRAPHQL_MAX_COST` the operation is
  refused.

Introspection (`__schema`, `__type`, `__typename`) counts as any other field, its lists as long as
the longest of their kind in the schema (`types` as the schema's types, `fields` as the most any
type has…); only `ofType` adds no depth, as a type reference ends within a few wrappers (`[X!]!`)
and the introspection query GraphiQL and other clients send nests it 9 deep (14 in all).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    is_abstract_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from config.api import errors
from config.graphql.errors import catalogue_error
from config.graphql.lists import DEFAULT_PAGE, MAX_PAGE

MAX_DEPTH = 10
# How many rows a plain nested list (`partsInventory`, `runs`…) is counted as: its size is
# unknown before it runs, so as many as the largest page, which the lists it holds multiply.
LIST_ROWS = MAX_PAGE
# What counting a connection's rows costs (a statement over every matching row, however small
# the page): as much as ten of its largest pages.
COUNT_COST = 10 * MAX_PAGE


def max_cost() -> int:
    return settings.GRAPHQL_MAX_COST


class _Walk:
    """Depth and cost of one operation, fragments expanded. Each fragment is walked once (its
    depth by name, its cost per type it is spread on, for one row, then multiplied), so a
    document spreading fragments into each other is measured in its own size, not in what it
    expands to. A fragment cycle counts once: the NoFragmentCycles rule refuses it anyway."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.fragment_depths: dict[str, int] = {}
        self.fragment_costs: dict[tuple[str, str], int] = {}

    def depth(self, selection_set: SelectionSetNode | None, seen: frozenset = frozenset()) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if not selection.selection_set:
                    continue
                step = 0 if selection.name.value == "ofType" else 1
                deepest = max(deepest, step + self.depth(selection.selection_set, seen))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment_depth(selection.name.value, seen))
        return deepest

    def _fragment_depth(self, name: str, seen: frozenset) -> int:
        fragment = self.context.get_fragment(name)
        if fragment is None or name in seen:
            return 0
        if name not in self.fragment_depths:
            self.fragment_depths[name] = self.depth(fragment.selection_set, seen | {name})
        return self.fragment_depths[name]

    def cost(
        self, selection_set: SelectionSetNode | None, parent: Any, seen: frozenset = frozenset()
    ) -> int:
        """What the selection costs resolved once on `parent`."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                inner = self._type(selection.type_condition, parent)
                total += self.cost(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value, parent, seen)
        return total

    def _fragment_cost(self, name: str, parent: Any, seen: frozenset) -> int:
        fragment = self.context.get_fragment(name)
        if fragment is None or name in seen:
            return 0
        inner = self._type(fragment.type_condition, parent)
        key = (name, inner.name)
        if key not in self.fragment_costs:
            self.fragment_costs[key] = self.cost(fragment.selection_set, inner, seen | {name})
        return self.fragment_costs[key]

    def _field_cost(self, node: FieldNode, parent: Any, seen: frozenset) -> int:
        definition = self._definition(parent, node.name.value)
        if definition is None:
            return 0  # validation refuses the field anyway
        if not node.selection_set:
            return 1
        field_type = definition.type
        named = get_named_type(field_type)
        rows = self._rows(node, field_type, named, parent)
        # A connection counts its rows whatever its page (`first: 0` included): that count and
        # its pageInfo are charged as COUNT_COST, and its fields for at least one row.
        fixed = COUNT_COST if _is_connection(named) else 0
        return 1 + fixed + max(rows, 1) * self.cost(node.selection_set, named, seen)

    def _definition(self, parent: Any, name: str) -> Any:
        schema = self.context.schema
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        return getattr(parent, "fields", {}).get(name)

    def _rows(self, node: FieldNode, field_type: Any, named: Any, parent: Any) -> int:
        if named.name.startswith("__"):
            return _introspection_rows(self.context.schema).get(node.name.value, 1)
        if _is_connection(named):
            sizes = [
                argument.value
                for argument in node.arguments or ()
                if argument.name.value in ("first", "last")
            ]
            if not sizes:
                return DEFAULT_PAGE
            literal = [int(v.value) for v in sizes if isinstance(v, IntValueNode)]
            # A variable may hold the most a page takes.
            return max(literal) if len(literal) == len(sizes) else MAX_PAGE
        unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(unwrapped, GraphQLList) and not _is_connection(parent):
            return LIST_ROWS
        return 1

    def _type(self, condition: Any, parent: Any) -> Any:
        if condition is None:
            return parent
        found = self.context.schema.get_type(condition.name.value)
        return found if isinstance(found, GraphQLObjectType) else parent


@cache
def _introspection_rows(schema: GraphQLSchema) -> dict[str, int]:
    """The longest of each introspection list the schema answers (`fields` -> the most fields
    any type has)."""
    named = schema.type_map.values()
    with_fields = [
        t for t in named if hasattr(t, "fields") and not isinstance(t, GraphQLInputObjectType)
    ]
    field_args = [len(f.args) for t in with_fields for f in t.fields.values()]
    inputs = [len(t.fields) for t in named if isinstance(t, GraphQLInputObjectType)]
    abstract = [len(schema.get_possible_types(t)) for t in named if is_abstract_type(t)]
    return {
        "types": len(schema.type_map),
        "directives": len(schema.directives),
        "fields": max((len(t.fields) for t in with_fields), default=0),
        "args": max([*field_args, *(len(d.args) for d in schema.directives)], default=0),
        "inputFields": max(inputs, default=0),
        "enumValues": max(
            (len(t.values) for t in named if isinstance(t, GraphQLEnumType)), default=0
        ),
        "interfaces": max((len(getattr(t, "interfaces", ())) for t in named), default=0),
        "possibleTypes": max(abstract, default=0),
    }


def _is_connection(named: Any) -> bool:
    return named.name.endswith("Connection")


class OperationLimits(ValidationRule):
    """Refuses an operation nested deeper than MAX_DEPTH or costing more than GRAPHQL_MAX_COST."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        walk = _Walk(self.context)
        depth = walk.depth(node.selection_set)
        if depth > MAX_DEPTH:
            err = errors.error(errors.GRAPHQL_TOO_DEEP, DEPTH=depth, MAX=MAX_DEPTH)
            self.report_error(catalogue_error(err, node))
            return
        root = self.context.schema.get_root_type(node.operation)
        cost = walk.cost(node.selection_set, root)
        if cost > max_cost():
            err = errors.error(errors.GRAPHQL_TOO_COSTLY, COST=cost, MAX=max_cost())
            self.report_error(catalogue_error(err, node))
