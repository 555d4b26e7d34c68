"""The query service, part one: a request body validated into a QueryRequest.

Everything a client names is looked up in the registry first (through the Builder).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date

from config.api import errors
from config.api.fields import as_number
from config.api.permissions import permission_for
from config.api.protocol import paging
from config.api.query import expression as expr
from config.api.query.build import MAX_PERIODS, ORDERED, Builder
from config.api.query.registry import (
    Column,
    Kind,
    QueryObject,
    Registry,
    invalid,
)
from config.api.query.shapes import Parameters

MEMBERS = (
    "object",
    "fields",
    "filters",
    "filterExpression",
    "filterParameters",
    "orderBy",
    "start",
    "size",
)
# Intacct's filter parameters; includePrivate and includeHierarchyFields have nothing to act on
# here (no private or hierarchical data) and are accepted as Intacct clients send them.
FILTER_PARAMETERS = (
    "caseSensitiveComparison",
    "includePrivate",
    "includeHierarchyFields",
    "asOfDate",
)
# Limits on the request's own lists (see build.py for those on values).
MAX_FIELDS = 200
MAX_FILTERS = 100
MAX_ORDER = 20
AGGREGATES: dict[str, type] = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
_AGGREGATE_KINDS = {
    "count": tuple(k for k in Kind if k is not Kind.HREF),
    "sum": (Kind.NUMBER, Kind.INTEGER),
    "avg": (Kind.NUMBER, Kind.INTEGER),
    "min": ORDERED,
    "max": ORDERED,
}


# --- the request, validated -------------------------------------------------------------------
@dataclass
class Selected:
    key: str  # the row's member: the field as the client wrote it
    column: Column
    alias: str
    function: str | None = None  # an aggregate

    @property
    def render(self) -> Callable[[Any], Any]:
        if self.function == "count":
            return int
        if self.function == "avg" and self.column.kind is not Kind.NUMBER:
            return lambda value: None if value is None else as_number(Decimal(str(value)))
        return self.column.render


@dataclass
class QueryRequest:
    obj: QueryObject
    builder: Builder
    selected: list[Selected]
    where: Q | None
    order: list[tuple[Any, Kind | None, bool]]  # (ORM term, kind, descending)
    start: int
    size: int

    @property
    def grouped(self) -> bool:
        return any(s.function for s in self.selected)


def parse_request(
    user, body: dict[str, Any], objects: Registry, *, markers: bool = False
) -> QueryRequest:
    """The request validated; with `markers`, its filters compare with markers in place of their
    values (config.api.query.shapes)."""
    _reject_unknown_members(body)
    obj = _object(body.get("object"), objects)
    if not user.has_perm(obj.view_permission):
        raise errors.error(errors.FORBIDDEN)
    case_sensitive, as_of = _filter_parameters(body.get("filterParameters"))
    parameters = Parameters(markers=markers)
    builder = Builder(obj, case_sensitive=case_sensitive, as_of=as_of, parameters=parameters)
    selected = _fields(builder, body.get("fields"))
    where = _filters(builder, body.get("filters"), body.get("filterExpression"))
    order = _order_by(builder, body.get("orderBy"), selected)
    start, size = paging(body)
    # Fields beyond what a reference renders read the referenced object: its view permission too.
    if not all(user.has_perm(permission_for(model)) for model in builder.models - {obj.model}):
        raise errors.error(errors.FORBIDDEN)
    return QueryRequest(obj, builder, selected, where, order, start, size)


def _reject_unknown_members(body: dict[str, Any]) -> None:
    unknown = [f"/{name}" for name in body if name not in MEMBERS]
    parameters = body.get("filterParameters")
    if isinstance(parameters, dict):
        unknown += [
            f"/filterParameters/{name}" for name in parameters if name not in FILTER_PARAMETERS
        ]
    if unknown:
        raise errors.unknown_members(unknown)


def _object(name: Any, objects: Registry) -> QueryObject:
    if name is None or name == "":
        raise invalid("/object", "object is required, such as inventory-control/item")
    if not isinstance(name, str):
        raise invalid("/object", "object must be a string, such as inventory-control/item")
    obj = objects.get(name)
    if obj is None:
        raise errors.not_a_field(name)
    return obj


def _filter_parameters(parameters: Any) -> tuple[bool, dt.date]:
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise invalid("/filterParameters", "filterParameters must be an object")
    for name in ("caseSensitiveComparison", "includePrivate", "includeHierarchyFields"):
        value = parameters.get(name)
        if value is not None and not isinstance(value, bool):
            raise invalid(f"/filterParameters/{name}", f"{name} must be true or false")
    case_sensitive = parameters.get("caseSensitiveComparison")
    raw = parameters.get("asOfDate")
    as_of = timezone.localdate()
    if raw not in (None, ""):
        parsed = None
        if isinstance(raw, str) and raw.isascii():
            try:
                parsed = parse_date(raw)
            except ValueError:
                parsed = None
        if parsed is None:
            raise invalid("/filterParameters/asOfDate", "asOfDate must be a date (YYYY-MM-DD)")
        as_of = parsed
    return case_sensitive is not False, as_of


def _fields(builder: Builder, fields: Any) -> list[Selected]:
    if fields is None or fields == []:
        raise invalid("/fields", 'fields is required: list the fields to return, like ["key"]')
    if not isinstance(fields, list):
        raise invalid("/fields", "fields must be an array of field names")
    if len(fields) > MAX_FIELDS:
        raise invalid("/fields", f"a query returns at most {MAX_FIELDS} fields")
    selected: list[Selected] = []
    seen: set[str] = set()
    for index, name in enumerate(fields):
        target = f"/fields/{index}"
        if not isinstance(name, str):
            raise invalid(target, "fields must be field names (strings)")
        if name.strip() == "*":
            raise invalid(target, "* is not allowed: list the fields to return")
        if name in seen:
            continue
        seen.add(name)
        function, colon, path = name.rpartition(":")
        if colon and function not in AGGREGATES:
            raise invalid(
                target, f'"{function}" is not an aggregate: use count, sum, avg, min or max'
            )
        resolved = builder.resolve(path)
        column = resolved.column
        if column is None:
            raise invalid(
                target, f"{resolved.path} is a list: it cannot be selected, filter it with $has"
            )
        if function:
            if column.kind not in _AGGREGATE_KINDS[function]:
                raise invalid(
                    target, f"{name}: {function} does not apply to {path}, a {column.kind} field"
                )
            alias = f"qa_{index}"
        else:
            alias = f"qf_{index}"
        builder.ref(column)  # computed columns get their alias before the queryset is built
        selected.append(Selected(name, column, alias, function or None))
    return selected


def _filters(builder: Builder, filters: Any, expression: Any) -> Q | None:
    if filters is None:
        filters = []
    if not isinstance(filters, list):
        raise invalid("/filters", "filters must be an array")
    if len(filters) > MAX_FILTERS:
        raise invalid("/filters", f"a query takes at most {MAX_FILTERS} filters")
    conditions, periods = [], []
    for index, item in enumerate(filters):
        before = builder.periods
        conditions.append(builder.filter(item, index))
        periods.append(builder.periods - before)
    if expression is None or expression == "":
        expression = "and"
    if not isinstance(expression, str):
        raise invalid("/filterExpression", 'filterExpression must be a string, like "1 and 2"')
    try:
        tree = expr.parse(expression, len(conditions))
    except expr.ExpressionError as exc:
        raise errors.error(
            errors.QUERY_INVALID_EXPRESSION,
            "/filterExpression",
            EXPRESSION=_shown(expression),
            REASON=str(exc),
        ) from exc
    # A filter named twice is in the SQL twice: its dates count each time.
    if sum(periods[ref.number - 1] for ref in expr.references(tree)) > MAX_PERIODS:
        raise errors.error(
            errors.QUERY_INVALID_EXPRESSION,
            "/filterExpression",
            EXPRESSION=_shown(expression),
            REASON=f"its filters compare more than {MAX_PERIODS} dates in lists, counting each "
            "time a filter is named",
        )
    return None if tree is None else _combine(tree, conditions)


def _shown(expression: str) -> str:
    """The expression quoted for a message, cut short: the reason names the position."""
    shown = json.dumps(expression)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _combine(node: expr.Node, conditions: list[Q]) -> Q:
    if isinstance(node, expr.Ref):
        return conditions[node.number - 1]
    parts = [_combine(operand, conditions) for operand in node.operands]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if isinstance(node, expr.And) else combined | part
    return combined


def _order_by(builder: Builder, order_by: Any, selected: list[Selected]) -> list:
    if order_by is None:
        order_by = []
    if not isinstance(order_by, list):
        raise invalid("/orderBy", 'orderBy must be an array like [{"id": "asc"}]')
    if len(order_by) > MAX_ORDER:
        raise invalid("/orderBy", f"orderBy takes at most {MAX_ORDER} entries")
    grouped = any(s.function for s in selected)
    order = []
    for index, entry in enumerate(order_by):
        target = f"/orderBy/{index}"
        direction = next(iter(entry.values()), None) if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or len(entry) != 1
            or not isinstance(direction, str)
            or direction.lower() not in ("asc", "desc")
        ):
            raise invalid(target, 'each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}')
        name = next(iter(entry))
        descending = direction.lower() == "desc"
        chosen = next((s for s in selected if s.function and s.key == name), None)
        if chosen is not None:
            order.append((F(chosen.alias), None, descending))
            continue
        resolved = builder.resolve(name)
        column = resolved.column
        if column is None:
            raise invalid(target, f"{resolved.path} is a list: it cannot order the rows")
        if column.kind is Kind.HREF:
            raise invalid(
                target, f"{resolved.path} cannot be used in orderBy: it can only be selected"
            )
        if grouped:
            chosen = next(
                (s for s in selected if not s.function and s.column.path == column.path), None
            )
            if chosen is None:
                raise invalid(
                    target,
                    f"{name} is not among the fields grouped by: an aggregating query orders by "
                    "its selected fields and aggregates only",
                )
            order.append((F(chosen.alias), column.kind, descending))
        else:
            order.append((F(builder.ref(column)), column.kind, descending))
    return order
