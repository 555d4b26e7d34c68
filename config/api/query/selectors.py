"""The query service's read: a validated request becomes one rows query and one count query.

Everything a client names is looked up in the registry first; only the ORM paths and expressions
found there reach the queryset, so nothing undeclared can be read, filtered or ordered, and no SQL
text is ever assembled from input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Collate, Left, Lower, Right, StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone
from django.utils.dateparse import parse_date

from config.api import errors, responses
from config.api.fields import as_number
from config.api.protocol import paging
from config.api.query import dates, plans
from config.api.query import expression as expr
from config.api.query.registry import (
    Column,
    Kind,
    QueryObject,
    Registry,
    Resolved,
    invalid,
    permission_for,
    registry,
    unknown_field,
)

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

# Limits that keep every query within what each database accepts (expression depth, bound
# variables, integer range), so an oversized request is a 400 rather than a database error.
MAX_FIELDS = 200
MAX_FILTERS = 100
MAX_VALUES = 500  # in all the filters of a query together
MAX_PERIODS = 100  # dates in lists: each is a branch of an OR, and SQLite limits their depth
MAX_ORDER = 20
MAX_INTEGER = 2**63 - 1
# Powers of ten a number may have: PostgreSQL refuses a numeric past about 1e131072 (or below
# 1e-16383) with an error; these bounds are far beyond any stored value on either side.
MAX_EXPONENT = 1000

ORDERED = (Kind.STRING, Kind.NUMBER, Kind.INTEGER, Kind.DATE, Kind.DATETIME, Kind.KEY)
_COMPARE = ("$eq", "$ne", "$in", "$notIn")
_RANGE = ("$lt", "$lte", "$gt", "$gte", "$between", "$notBetween")
_TEXT = (
    "$contains",
    "$notContains",
    "$startsWith",
    "$notStartsWith",
    "$endsWith",
    "$notEndsWith",
)
OPERATORS = (*_COMPARE, *_RANGE, *_TEXT, "$has")
# Each negative operator is the exact complement of its positive one (a null matches it).
NEGATIONS = {
    "$ne": "$eq",
    "$notIn": "$in",
    "$notBetween": "$between",
    "$notContains": "$contains",
    "$notStartsWith": "$startsWith",
    "$notEndsWith": "$endsWith",
}
KIND_OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.STRING: (*_COMPARE, *_RANGE, *_TEXT),
    Kind.NUMBER: (*_COMPARE, *_RANGE),
    Kind.INTEGER: (*_COMPARE, *_RANGE),
    Kind.KEY: (*_COMPARE, *_RANGE),
    Kind.DATE: (*_COMPARE, *_RANGE),
    Kind.DATETIME: (*_COMPARE, *_RANGE),
    Kind.BOOLEAN: _COMPARE,
    Kind.HREF: (),
}
EXPECTED = {
    Kind.STRING: "a string",
    Kind.NUMBER: "a number",
    Kind.INTEGER: "an integer",
    Kind.KEY: "a key (a string of digits)",
    Kind.BOOLEAN: "true or false",
    Kind.DATE: "a date (YYYY-MM-DD) or a date macro",
    Kind.DATETIME: "a date-time (ISO 8601), a date or a date macro",
}
AGGREGATES: dict[str, type] = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
_AGGREGATE_KINDS = {
    "count": tuple(k for k in Kind if k is not Kind.HREF),
    "sum": (Kind.NUMBER, Kind.INTEGER),
    "avg": (Kind.NUMBER, Kind.INTEGER),
    "min": ORDERED,
    "max": ORDERED,
}
# Strings compare and sort by code point on every database, whatever its collation.
_BINARY_COLLATION = {"sqlite": "BINARY", "postgresql": "C"}


def query_page(*, user, body: dict[str, Any], objects: Registry = registry) -> dict[str, Any]:
    """Run one query request for `user`: the `ia::result` rows and the page meta."""
    request = _parse(user, body, objects)
    return _execute(request)


# --- the request, validated -------------------------------------------------------------------
@dataclass
class _Selected:
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
class _Request:
    obj: QueryObject
    builder: _Builder
    selected: list[_Selected]
    where: Q | None
    order: list[tuple[Any, Kind | None, bool]]  # (ORM term, kind, descending)
    start: int
    size: int

    @property
    def grouped(self) -> bool:
        return any(s.function for s in self.selected)


def _parse(user, body: dict[str, Any], objects: Registry) -> _Request:
    _reject_unknown_members(body)
    obj = _object(body.get("object"), objects)
    if not user.has_perm(obj.view_permission):
        raise errors.error(errors.FORBIDDEN)
    case_sensitive, as_of = _filter_parameters(body.get("filterParameters"))
    builder = _Builder(obj, case_sensitive=case_sensitive, as_of=as_of)
    selected = _fields(builder, body.get("fields"))
    where = _filters(builder, body.get("filters"), body.get("filterExpression"))
    order = _order_by(builder, body.get("orderBy"), selected)
    start, size = paging(body)
    # Fields beyond what a reference renders read the referenced object: its view permission too.
    if not all(user.has_perm(permission_for(model)) for model in builder.models - {obj.model}):
        raise errors.error(errors.FORBIDDEN)
    return _Request(obj, builder, selected, where, order, start, size)


def _reject_unknown_members(body: dict[str, Any]) -> None:
    unknown = [f"/{name}" for name in body if name not in MEMBERS]
    parameters = body.get("filterParameters")
    if isinstance(parameters, dict):
        unknown += [
            f"/filterParameters/{name}" for name in parameters if name not in FILTER_PARAMETERS
        ]
    if unknown:
        raise errors.ApiError(
            errors.PAYLOAD_ERRORS,
            details=[errors.error(errors.NOT_A_VALID_FIELD, p, FIELD=p) for p in unknown],
        )


def _object(name: Any, objects: Registry) -> QueryObject:
    if name is None or name == "":
        raise invalid("/object", "object is required, such as inventory-control/item")
    if not isinstance(name, str):
        raise invalid("/object", "object must be a string, such as inventory-control/item")
    obj = objects.get(name)
    if obj is None:
        raise unknown_field(name)
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


def _fields(builder: _Builder, fields: Any) -> list[_Selected]:
    if fields is None or fields == []:
        raise invalid("/fields", 'fields is required: list the fields to return, like ["key"]')
    if not isinstance(fields, list):
        raise invalid("/fields", "fields must be an array of field names")
    if len(fields) > MAX_FIELDS:
        raise invalid("/fields", f"a query returns at most {MAX_FIELDS} fields")
    selected: list[_Selected] = []
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
        selected.append(_Selected(name, column, alias, function or None))
    return selected


def _filters(builder: _Builder, filters: Any, expression: Any) -> Q | None:
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


def _order_by(builder: _Builder, order_by: Any, selected: list[_Selected]) -> list:
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


# --- building the ORM query -------------------------------------------------------------------
# Explicit truth values: an empty Q() would vanish when combined with `|`.
# From this offset on, a page's keys are found before its columns are joined (a deferred join).
DEEP_PAGE = 1000
_NOTHING = Q(pk__in=[])
_ALL = Q(pk__isnull=False)


@dataclass
class _Builder:
    """Turns resolved columns and filters into ORM references and Q objects for one object."""

    obj: QueryObject
    case_sensitive: bool
    as_of: dt.date
    aliases: dict[str, Any] = field(default_factory=dict)
    _alias_of: dict[str, str] = field(default_factory=dict)
    models: set = field(default_factory=set)
    values: int = 0
    periods: int = 0

    def count_values(self, count: int, kind: Kind, target: str) -> None:
        self.values += count
        if self.values > MAX_VALUES:
            reason = f"a query compares at most {MAX_VALUES} values in all its filters"
            raise invalid(target, reason)
        if kind in (Kind.DATE, Kind.DATETIME):
            self.periods += count
            if self.periods > MAX_PERIODS:
                raise invalid(target, f"a query compares at most {MAX_PERIODS} dates in lists")

    def resolve(self, path: str) -> Resolved:
        resolved = self.obj.registry.resolve(self.obj, path)
        self.models |= resolved.models
        return resolved

    def ref(self, column: Column) -> str:
        """A name usable in F() and lookups: the ORM path, or an alias of the expression."""
        if column.expression is not None:
            alias = self._alias_of.get(column.path)
            if alias is None:
                alias = self._alias_of[column.path] = f"qx_{len(self._alias_of)}"
                self.aliases[alias] = column.expression
            return alias
        return column.annotation or column.orm

    def queryset(self, *, selected: bool = False) -> QuerySet:
        """The object's rows with every expression named; `selected` annotates rather than
        aliases them, as aggregate() can only read annotations."""
        queryset = self.obj.queryset()
        if not self.aliases:
            return queryset
        return queryset.annotate(**self.aliases) if selected else queryset.alias(**self.aliases)

    # --- one filter ---
    def filter(self, item: Any, index: int) -> Q:
        shape = (
            'each filter is an object with one operator naming one field, like {"$eq": {"id": "A"}}'
        )
        target = f"/filters/{index}"
        if not isinstance(item, dict) or len(item) != 1:
            raise invalid(target, shape)
        op, operand = next(iter(item.items()))
        if not isinstance(operand, dict) or len(operand) != 1:
            raise invalid(f"{target}/{op}", shape)
        path, value = next(iter(operand.items()))
        target = f"{target}/{op}/{path}"
        if op not in OPERATORS:
            raise _bad_operator(
                target, op, path, f"it is not an operator: use one of {', '.join(OPERATORS)}"
            )
        resolved = self.resolve(path)
        if resolved.array is not None:
            if op != "$has":
                raise _bad_operator(
                    target, op, path, f"{resolved.path} is a list: only $has looks inside it"
                )
            return self._has(resolved, value, target)
        column = resolved.column
        if column.kind is Kind.HREF:
            raise _bad_operator(target, op, path, "href can only be selected, not filtered")
        if op == "$has":
            raise _bad_operator(target, op, path, f"{path} is not a list")
        if op not in KIND_OPERATORS[column.kind]:
            kinds = sorted(str(k) for k, ops in KIND_OPERATORS.items() if op in ops)
            listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
            reason = f"{path} is a {column.kind} field; {op} works on {listed} fields"
            raise _bad_operator(target, op, path, reason)
        return self.condition(op, column, value, target)

    def condition(self, op: str, column: Column, value: Any, target: str) -> Q:
        parsed = _Values(self, op, column, value, target).parse()
        ref = self.ref(column)
        present = self._present(column, ref)
        if op in ("$eq", "$ne") and parsed is None:
            if present is None:  # never null
                return _NOTHING if op == "$eq" else _ALL
            return ~present if op == "$eq" else present
        q = self._positive(NEGATIONS.get(op, op), column, ref, parsed)
        if present is not None:
            q &= present
        return ~q if op in NEGATIONS else q

    def _present(self, column: Column, ref: str) -> Q | None:
        """The column holds a value (what the serializer renders is not null); None: always."""
        q = Q(**{f"{ref}__isnull": False}) if self._nullable(column) else None
        if column.empty_is_null:
            q = ~Q(**{ref: ""}) if q is None else q & ~Q(**{ref: ""})
        return q

    def _nullable(self, column: Column) -> bool:
        if column.orm is None:  # expressions and annotations may give null
            return True
        model = self.obj.model
        for name in column.orm.split("__"):
            model_field = model._meta.pk if name == "pk" else model._meta.get_field(name)
            if model_field.null:
                return True
            model = model_field.related_model
        return False

    def _positive(self, op: str, column: Column, ref: str, value: Any) -> Q:
        kind = column.kind
        if kind in (Kind.DATE, Kind.DATETIME):
            return self._period(op, ref, value)
        if op == "$eq":
            return self._equal(kind, ref, value)
        if op == "$in":
            if not value:
                return _NOTHING
            if kind is Kind.STRING and not self.case_sensitive:
                return Q(In(Lower(F(ref)), sorted({v.lower() for v in value})))
            return Q(**{f"{ref}__in": value})
        if op == "$between":
            low, high = value
            return self._compare(kind, ref, "$gte", low) & self._compare(kind, ref, "$lte", high)
        if op in _RANGE:
            return self._compare(kind, ref, op, value)
        return self._text(op, ref, value)

    def _equal(self, kind: Kind, ref: str, value: Any) -> Q:
        if kind is Kind.STRING and not self.case_sensitive:
            return Q(Exact(Lower(F(ref)), Value(value.lower())))
        return Q(**{ref: value})

    def _sides(self, ref: str, value: str) -> tuple[Any, str]:
        """The column and the value as compared: both lower-cased when case-insensitive."""
        if self.case_sensitive:
            return F(ref), value
        return Lower(F(ref)), value.lower()

    def _compare(self, kind: Kind, ref: str, op: str, value: Any) -> Q:
        lookup = {
            "$lt": LessThan,
            "$lte": LessThanOrEqual,
            "$gt": GreaterThan,
            "$gte": GreaterThanOrEqual,
        }[op]
        if kind is Kind.STRING:
            column, value = self._sides(ref, value)
            return Q(lookup(_binary(column), Value(value)))
        return Q(**{f"{ref}__{lookup.lookup_name}": value})

    def _text(self, op: str, ref: str, value: str) -> Q:
        if value == "":
            return _ALL  # every string contains, starts and ends with ""
        # Substrings rather than LIKE: LIKE ignores case on SQLite and has wildcards to escape.
        column, value = self._sides(ref, value)
        if op == "$contains":
            return Q(GreaterThan(StrIndex(column, Value(value)), 0))
        cut = Left if op == "$startsWith" else Right
        return Q(Exact(cut(column, len(value)), Value(value)))

    def _period(self, op: str, ref: str, value: Any) -> Q:
        if op == "$eq":
            return _within(ref, value)
        if op == "$in":
            return _any(_within(ref, p) for p in value) if value else _NOTHING
        if op == "$between":
            low, high = value
            return Q(**{f"{ref}__gte": low.start, f"{ref}__lt": high.end})
        bound = {
            "$lt": ("lt", "start"),
            "$lte": ("lt", "end"),
            "$gt": ("gte", "end"),
            "$gte": ("gte", "start"),
        }
        lookup, edge = bound[op]
        return Q(**{f"{ref}__{lookup}": getattr(value, edge)})

    def _has(self, resolved: Resolved, value: Any, target: str) -> Q:
        """The list holds an element whose key (or `list.<path>`) equals the value."""
        array, element = resolved.array, resolved.element
        inner = _Builder(element, case_sensitive=self.case_sensitive, as_of=self.as_of)
        path = resolved.element_path or "key"
        if resolved.element_path is None and "key" not in element.fields.columns:
            reason = f"its elements have no key: name a field inside it ({resolved.path}.<field>)"
            raise _bad_operator(target, "$has", resolved.path, reason)
        try:
            column = inner.resolve(path).column
        except errors.ApiError as exc:  # name the path as the client wrote it
            if exc.spec is errors.NOT_A_VALID_FIELD:
                raise unknown_field(resolved.path) from exc
            raise
        self.models |= inner.models
        if column is None or column.kind is Kind.HREF:
            reason = f"{path} cannot be compared inside the list"
            raise _bad_operator(target, "$has", resolved.path, reason)
        condition = inner.condition("$eq", column, value, target)
        outer = OuterRef(f"{resolved.array_orm_prefix}pk")
        elements = inner.queryset().filter(**{array.parent_field: outer}).filter(condition)
        return Q(Exists(elements))


def _within(ref: str, period: dates.Period) -> Q:
    return Q(**{f"{ref}__gte": period.start, f"{ref}__lt": period.end})


def _any(parts) -> Q:
    combined = None
    for part in parts:
        combined = part if combined is None else combined | part
    return _NOTHING if combined is None else combined


def _in_range(number: Decimal) -> bool:
    return number.is_zero() or -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT


def _binary(expression):
    collation = _BINARY_COLLATION.get(connection.vendor)
    return Collate(expression, collation) if collation else expression


def _bad_operator(target: str, op: str, path: Any, reason: str) -> errors.ApiError:
    return errors.error(
        errors.QUERY_INVALID_OPERATOR, target, OPERATOR=op, FIELD=path, REASON=reason
    )


class _Values:
    """A filter's value checked against its operator and its column's kind."""

    def __init__(self, builder: _Builder, op: str, column: Column, raw: Any, target: str):
        self.builder, self.op, self.column, self.raw, self.target = builder, op, column, raw, target

    def fail(self, expected: str) -> errors.ApiError:
        text = json.dumps(self.raw, default=str)
        if len(text) > 80:
            text = text[:77] + "..."
        return errors.error(
            errors.QUERY_INVALID_VALUE,
            self.target,
            OPERATOR=self.op,
            FIELD=self.column.path,
            EXPECTED=expected,
            VALUE=text,
        )

    def parse(self) -> Any:
        op, kind, raw = self.op, self.column.kind, self.raw
        one = EXPECTED[kind]
        if op in ("$eq", "$ne"):
            return None if raw is None else self.one(raw, f"{one} or null")
        if op in ("$in", "$notIn"):
            many = f"an array of values, each {one}"
            if not isinstance(raw, list):
                raise self.fail(many)
            self.builder.count_values(len(raw), kind, self.target)
            return [self.one(v, many) for v in raw]
        if op in ("$between", "$notBetween"):
            pair = f"[from, to]: two values, each {one}"
            if not isinstance(raw, list) or len(raw) != 2:
                raise self.fail(pair)
            return [self.one(v, pair) for v in raw]
        if op in _TEXT:
            return self.one(raw, one)
        return self.one(raw, one)

    def one(self, value: Any, expected: str) -> Any:
        kind = self.column.kind
        parsed = _PARSERS[kind](self, value)
        if parsed is None:
            raise self.fail(expected)
        return parsed

    def string(self, value):
        # NUL cannot be stored in (nor compared with) a PostgreSQL text column.
        return value if isinstance(value, str) and "\x00" not in value else None

    def boolean(self, value):
        return value if isinstance(value, bool) else None

    def key(self, value):
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
            value = int(value)
        if isinstance(value, int) and 0 <= value <= MAX_INTEGER:
            return value
        return None

    def number(self, value):
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return Decimal(value) if _in_range(Decimal(value)) else None
        if isinstance(value, float):
            return Decimal(repr(value)) if math.isfinite(value) else None
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                return None
            return number if number.is_finite() and _in_range(number) else None
        return None

    def integer(self, value):
        number = self.number(value)
        if number is None or number != number.to_integral_value() or abs(number) > MAX_INTEGER:
            return None
        return int(number)

    def date(self, value):
        if not isinstance(value, str):
            return None
        datetime_column = self.column.kind is Kind.DATETIME
        try:
            return dates.period(value, datetime_column=datetime_column, as_of=self.builder.as_of)
        except (ValueError, OverflowError):  # a date-time for a date column; past year 9999
            return None


_PARSERS = {
    Kind.STRING: _Values.string,
    Kind.BOOLEAN: _Values.boolean,
    Kind.KEY: _Values.key,
    Kind.NUMBER: _Values.number,
    Kind.INTEGER: _Values.integer,
    Kind.DATE: _Values.date,
    Kind.DATETIME: _Values.date,
}


# --- running it -------------------------------------------------------------------------------
def _execute(request: _Request) -> dict[str, Any]:
    builder = request.builder
    plain = [s for s in request.selected if not s.function]
    aggregates = {s.alias: _aggregate(builder, s) for s in request.selected if s.function}
    base = builder.queryset(selected=bool(aggregates and not plain))

    def filtered(where: Q | None) -> QuerySet:
        return base if where is None else base.filter(where)

    start, size = request.start, request.size
    if aggregates and not plain:
        queryset = filtered(request.where)
        # One row of totals over every matching row.
        rows = [queryset.aggregate(**aggregates)] if start == 1 else []
        total = 1
    else:
        columns = {s.alias: F(builder.ref(s.column)) for s in plain}
        # Stored fields (forward paths only) give one row per object: the count and the page's
        # keys need only the filters, not the joins of the selected columns.
        per_object = not aggregates and all(s.column.expression is None for s in plain)
        ordering = _ordering(request, plain)

        def build(where: Q | None) -> tuple[QuerySet, QuerySet]:
            """The queryset counted, and the page's rows: fetched directly near the start; deep
            in the result a deferred join, so that an index is walked for the keys alone, then
            only the page's rows are joined with the selected columns."""
            matching = filtered(where)
            offset = start - 1
            if offset < DEEP_PAGE:
                return matching, matching.values(**columns).order_by(*ordering)[offset:][:size]
            keys = matching.order_by(*ordering).values("pk")[offset : offset + size]
            # The filters only in the subquery: repeated outside, PostgreSQL could scan every
            # matching row to join them with the page's keys.
            return matching, base.values(**columns).filter(pk__in=keys).order_by(*ordering)

        compiled = None
        if per_object and not builder.aliases:
            shape = (
                request.obj.name,
                tuple((s.alias, s.column.path) for s in plain),
                plans.ordering_shape(ordering),
                start,
                size,
            )
            compiled = plans.page(shape, request.where, build, start=start)
        if compiled is not None:
            total, rows = compiled
        else:
            queryset = filtered(request.where)
            rows_qs = queryset.values(**columns)
            if aggregates:
                rows_qs = rows_qs.annotate(**aggregates)
            total = queryset.count() if per_object else rows_qs.count()
            rows = []
            if start <= total:
                if per_object:
                    rows = list(build(request.where)[1])
                else:
                    rows = list(rows_qs.order_by(*ordering)[start - 1 : start - 1 + size])
    result = [{s.key: s.render(row[s.alias]) for s in request.selected} for row in rows]
    return responses.page(result, total=total, start=start, size=size)


def _aggregate(builder: _Builder, selected: _Selected):
    column = selected.column
    source = F(builder.ref(column))
    if selected.function in ("min", "max") and column.kind is Kind.STRING:
        source = _binary(source)
    return AGGREGATES[selected.function](source)


def _ordering(request: _Request, plain: list[_Selected]) -> list:
    """orderBy, then a tie-breaker that makes paging stable: the key, or every grouped field.
    Nulls sort first ascending and last descending, as the lowest value."""
    terms = list(request.order)
    if request.grouped:
        terms += [(F(s.alias), s.column.kind, False) for s in plain]
    else:
        terms.append((F("pk"), Kind.KEY, False))
    ordering = []
    for term, kind, descending in terms:
        if kind is Kind.STRING:
            term = _binary(term)
        if isinstance(term, F) and term.name in ("pk", "key"):
            # Never null: a plain order, which the primary key index serves without a sort.
            ordering.append(term.desc() if descending else term.asc())
            continue
        ordering.append(term.desc(nulls_last=True) if descending else term.asc(nulls_first=True))
    return ordering
