"""The query service, part two: resolved columns and filters become ORM references and Q objects.

Only the ORM paths and expressions the registry declares reach the queryset, so nothing
undeclared can be read, filtered or ordered, and no SQL text is ever assembled from input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Collate, Left, Lower, Right, StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    LessThan,
    LessThanOrEqual,
)

from config.api import errors, spec
from config.api.query import dates
from config.api.query.registry import (
    Column,
    Kind,
    QueryObject,
    Resolved,
    invalid,
)
from config.api.query.shapes import Parameters
from core.numbers import MAX_BIGINT, whole_number

# Limits that keep every query within what each database accepts (expression depth, bound
# variables, integer range), so an oversized request is a 400 rather than a database error.
MAX_VALUES = 500  # in all the filters of a query together
MAX_PERIODS = 100  # dates in lists: each is a branch of an OR, and SQLite limits their depth
MAX_INTEGER = MAX_BIGINT
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
    **{kind: (*_COMPARE, *_RANGE) for kind in ORDERED},
    Kind.STRING: (*_COMPARE, *_RANGE, *_TEXT),
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
}  # Strings compare and sort by code point on every database, whatever its collation.
_BINARY_COLLATION = {"sqlite": "BINARY", "postgresql": "C"}


# --- building the ORM query -------------------------------------------------------------------
# Explicit truth values: an empty Q() would vanish when combined with `|`.
# From this offset on, a page's keys are found before its columns are joined (a deferred join).
DEEP_PAGE = 1000
_NOTHING = Q(pk__in=[])
_ALL = Q(pk__isnull=False)


@dataclass
class Builder:
    """Turns resolved columns and filters into ORM references and Q objects for one object.

    Every value a filter compares with reaches its Q through `parameters` (config.api.query.shapes),
    which may put a marker in its place."""

    obj: QueryObject
    case_sensitive: bool
    as_of: dt.date
    parameters: Parameters = field(default_factory=Parameters)
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
        return column.orm

    def alias_paths(self) -> tuple[tuple[str, str], ...]:
        """(API path, alias) of each computed column referenced so far."""
        return tuple(self._alias_of.items())

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
            raise bad_operator(
                target, op, path, f"it is not an operator: use one of {', '.join(OPERATORS)}"
            )
        resolved = self.resolve(path)
        if resolved.array is not None:
            if op != "$has":
                raise bad_operator(
                    target, op, path, f"{resolved.path} is a list: only $has looks inside it"
                )
            return self._has(resolved, value, target)
        column = resolved.column
        if column.kind is Kind.HREF:
            raise bad_operator(target, op, path, "href can only be selected, not filtered")
        if op == "$has":
            raise bad_operator(target, op, path, f"{path} is not a list")
        if op not in KIND_OPERATORS[column.kind]:
            kinds = sorted(str(k) for k, ops in KIND_OPERATORS.items() if op in ops)
            listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
            reason = f"{path} is a {column.kind} field; {op} works on {listed} fields"
            raise bad_operator(target, op, path, reason)
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
        if column.orm is None:  # an expression may give null
            return True
        return any(f.null for f in spec.model_path(self.obj.model, column.orm))

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
                lowered = sorted({v.lower() for v in value})
                return Q(In(Lower(F(ref)), [self.parameters(v) for v in lowered]))
            # Each value once, first come first, as Django's `in` keeps them.
            return Q(**{f"{ref}__in": [self.parameters(v) for v in dict.fromkeys(value)]})
        if op == "$between":
            low, high = value
            return self._compare(kind, ref, "$gte", low) & self._compare(kind, ref, "$lte", high)
        if op in _RANGE:
            return self._compare(kind, ref, op, value)
        return self._text(op, ref, value)

    def _equal(self, kind: Kind, ref: str, value: Any) -> Q:
        if kind is Kind.STRING and not self.case_sensitive:
            return Q(Exact(Lower(F(ref)), Value(self.parameters(value.lower()))))
        return Q(**{ref: self.parameters(value)})

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
            return Q(lookup(binary(column), Value(self.parameters(value))))
        return Q(**{f"{ref}__{lookup.lookup_name}": self.parameters(value)})

    def _text(self, op: str, ref: str, value: str) -> Q:
        if value == "":
            return _ALL  # every string contains, starts and ends with ""
        # Substrings rather than LIKE: LIKE ignores case on SQLite and has wildcards to escape.
        column, value = self._sides(ref, value)
        if op == "$contains":
            return Q(GreaterThan(StrIndex(column, Value(self.parameters(value))), 0))
        cut = Left if op == "$startsWith" else Right
        length = self.parameters(len(value))
        return Q(Exact(cut(column, length), Value(self.parameters(value))))

    def _period(self, op: str, ref: str, value: Any) -> Q:
        if op == "$eq":
            return self._from_to(ref, value.start, value.end)
        if op == "$in":
            return _any(self._from_to(ref, p.start, p.end) for p in value) if value else _NOTHING
        if op == "$between":
            low, high = value
            return self._from_to(ref, low.start, high.end)
        bound = {
            "$lt": ("lt", "start"),
            "$lte": ("lt", "end"),
            "$gt": ("gte", "end"),
            "$gte": ("gte", "start"),
        }
        lookup, edge = bound[op]
        return Q(**{f"{ref}__{lookup}": self.parameters(getattr(value, edge))})

    def _from_to(self, ref: str, start: Any, end: Any) -> Q:
        return Q(**{f"{ref}__gte": self.parameters(start), f"{ref}__lt": self.parameters(end)})

    def _has(self, resolved: Resolved, value: Any, target: str) -> Q:
        """The list holds an element whose key (or `list.<path>`) equals the value."""
        array, element = resolved.array, resolved.element
        self.parameters.refuse()  # a subquery: no shape describes it
        inner = Builder(
            element,
            case_sensitive=self.case_sensitive,
            as_of=self.as_of,
            parameters=self.parameters,
        )
        path = resolved.element_path or "key"
        if resolved.element_path is None and "key" not in element.fields.columns:
            reason = f"its elements have no key: name a field inside it ({resolved.path}.<field>)"
            raise bad_operator(target, "$has", resolved.path, reason)
        try:
            column = inner.resolve(path).column
        except errors.ApiError as exc:  # name the path as the client wrote it
            if exc.spec is errors.NOT_A_VALID_FIELD:
                raise errors.not_a_field(resolved.path) from exc
            raise
        self.models |= inner.models
        if column is None or column.kind is Kind.HREF:
            reason = f"{path} cannot be compared inside the list"
            raise bad_operator(target, "$has", resolved.path, reason)
        condition = inner.condition("$eq", column, value, target)
        outer = OuterRef(f"{resolved.array_orm_prefix}pk")
        elements = inner.queryset().filter(**{array.element.parent_link: outer}).filter(condition)
        return Q(Exists(elements))


def _any(parts) -> Q:
    combined = None
    for part in parts:
        combined = part if combined is None else combined | part
    return _NOTHING if combined is None else combined


def _in_range(number: Decimal) -> bool:
    return number.is_zero() or -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT


def binary(expression):
    collation = _BINARY_COLLATION.get(connection.vendor)
    return Collate(expression, collation) if collation else expression


def bad_operator(target: str, op: str, path: Any, reason: str) -> errors.ApiError:
    return errors.error(
        errors.QUERY_INVALID_OPERATOR, target, OPERATOR=op, FIELD=path, REASON=reason
    )


class _Values:
    """A filter's value checked against its operator and its column's kind."""

    def __init__(self, builder: Builder, op: str, column: Column, raw: Any, target: str):
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
        if isinstance(value, str):
            value = whole_number(value)
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
