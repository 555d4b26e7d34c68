"""Compiled SQL for query requests: requests of the same shape run the same SQL with new values.

Building the querysets of a query request and compiling them costs more than PostgreSQL takes to
answer a selective page. Two requests that differ only in the values they compare with have the
same *shape*: the object, the fields, the filters' structure, the ordering and the page. The
first request of a shape compiles its count and its page with markers in place of those values
(config.api.compiled); the next ones walk their filters for the values and run the plans.

A filter the walk does not know (a `$has` subquery, a computed field's expression) or a value
Django rewrites on its way into the SQL leaves the request uncompiled: it runs as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate, Left, Lower, Right, StrIndex
from django.db.models.lookups import Lookup

from config.api.compiled import (
    NotCompilable,
    Plan,
    check_plan,
    compile_plan,
    marker,
    plan_cache,
)

MAX_SHAPES = 256  # per connection: plans of the most recently used shapes
# Functions whose SQL depends only on their class, their arguments and (Collate) the collation.
_FUNCTIONS = (Lower, Left, Right, StrIndex, Collate)


@dataclass(frozen=True)
class Plans:
    count: Plan
    rows: Plan


# build(where) -> (the queryset to count, the queryset of the page's rows as values())
Build = Callable[[Q | None], tuple[QuerySet, QuerySet]]


def page(
    shape: tuple, where: Q | None, build: Build, *, start: int
) -> tuple[int, list[dict]] | None:
    """The total and the page's rows (dicts by alias) from compiled plans; None when this request
    cannot be compiled (the caller then runs its querysets)."""
    walk = _Walk()
    try:
        key = (shape, walk.fingerprint(where))
    except NotCompilable:
        return None
    # Per connection object (per thread), the most recently used shapes first to stay.
    cache = plan_cache("_query_plans")
    if key in cache:
        plans = cache[key] = cache.pop(key)
    else:
        try:
            plans = _compile(where, build)
        except NotCompilable:
            plans = None  # remembered too: the next request of this shape does not try again
        cache[key] = plans
        if len(cache) > MAX_SHAPES:
            del cache[next(iter(cache))]
    if plans is None:
        return None
    values = walk.values
    check_plan(plans.count, lambda: _counted(build(where)[0]), values)
    check_plan(plans.rows, lambda: build(where)[1], values)
    total = plans.count.rows(values, prefix="SELECT COUNT(*) FROM (", suffix=") counted")[0][0]
    rows = []
    if start <= total:  # past the end nothing to fetch (a huge offset would overflow the DB)
        names = plans.rows.names
        rows = [dict(zip(names, row, strict=True)) for row in plans.rows.rows(values)]
    return total, rows


def _compile(where: Q | None, build: Build) -> Plans:
    walk = _Walk(markers=True)
    walk.fingerprint(where)
    marked = walk.replaced
    count_qs, rows_qs = build(marked)
    markers = walk.values
    return Plans(
        count=compile_plan(_counted(count_qs), markers),
        rows=compile_plan(rows_qs, markers),
    )


def _counted(queryset: QuerySet) -> QuerySet:
    """What the count plan wraps in SELECT COUNT(*): the matching keys, in no order."""
    return queryset.order_by().values_list("pk")


def ordering_shape(terms: list) -> tuple:
    """The fingerprint of an ordering: fixed terms (F, collations, OrderBy), no values."""
    return tuple(_Walk().fingerprint(term) for term in terms)


class _Walk:
    """One pass over a filter tree: its fingerprint (the structure, without the values), the
    values in order, and (with `markers`) the same tree with a marker in place of each value."""

    def __init__(self, *, markers: bool = False):
        self.markers = markers
        self.values: list[Any] = []
        self.replaced: Any = None

    def fingerprint(self, node: Any) -> Any:
        fingerprint, self.replaced = self._node(node)
        return fingerprint

    def _value(self, value: Any) -> tuple[Any, Any]:
        """A compared value: a slot when it can be marked, else part of the fingerprint."""
        if isinstance(value, F | Value | Lookup | Q) or hasattr(value, "resolve_expression"):
            return self._node(value)
        if isinstance(value, list | tuple):
            if None in value or _repeats(value):
                # IN drops nulls and repeated values: how many it keeps shapes the SQL.
                return ("const", repr(value)), value
            parts = [self._value(v) for v in value]
            return ("list", tuple(p[0] for p in parts)), type(value)(p[1] for p in parts)
        try:
            if type(value) is int and not 0 <= value < 2**31:
                # Django checks an integer against its column's range (a negative one against a
                # positive column) and may drop the condition: such a value is the shape's own.
                raise NotCompilable("an integer Django may check against its column's range")
            substitute = marker(len(self.values), value)
        except NotCompilable:
            # A value with no marker (a boolean, None, a huge integer) is part of the shape.
            return ("const", type(value).__name__, repr(value)), value
        self.values.append(substitute if self.markers else value)
        return ("slot", type(value).__name__), substitute

    def _node(self, node: Any) -> tuple[Any, Any]:
        if node is None:
            return None, None
        if isinstance(node, Q):
            parts = [
                self._lookup(child) if isinstance(child, tuple) else self._node(child)
                for child in node.children
            ]
            clone = Q()
            clone.connector, clone.negated = node.connector, node.negated
            clone.children = [p[1] for p in parts]
            return ("Q", node.connector, node.negated, tuple(p[0] for p in parts)), clone
        if isinstance(node, F):
            return ("F", node.name), node
        if isinstance(node, Value):
            fingerprint, value = self._value(node.value)
            clone = node.copy()
            clone.value = value
            return ("V", fingerprint), clone
        if isinstance(node, Lookup):
            lhs_fingerprint, lhs = self._node(node.lhs)
            rhs_fingerprint, rhs = self._value(node.rhs)
            return ("L", type(node).__name__, lhs_fingerprint, rhs_fingerprint), type(node)(
                lhs, rhs
            )
        if isinstance(node, OrderBy):
            fingerprint, _ = self._node(node.expression)
            flags = (node.descending, node.nulls_first, node.nulls_last)
            return ("O", flags, fingerprint), node
        if type(node) in _FUNCTIONS:
            parts = [self._node(source) for source in node.get_source_expressions()]
            clone = node.copy()
            clone.set_source_expressions([p[1] for p in parts])
            extra = getattr(node, "collation", None)
            return ("E", type(node).__name__, extra, tuple(p[0] for p in parts)), clone
        raise NotCompilable(f"{type(node).__name__} is not walked")

    def _lookup(self, child: tuple[str, Any]) -> tuple[Any, Any]:
        lookup, value = child
        fingerprint, replaced = self._value(value)
        return ("=", lookup, fingerprint), (lookup, replaced)


def _repeats(values) -> bool:
    try:
        return len(set(values)) != len(values)
    except TypeError:  # unhashable: cannot tell, so not a slot
        return True
