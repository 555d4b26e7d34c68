"""The list queries' arguments (contract 14): `filters` (`<Plural>InputFilters`, one operator
object per scalar field), `sort` (`[<Type>SortEnum!]`, `<FIELD>_ASC` / `_DESC`) and Relay paging
(`first` / `after` / `last` / `before`, 100 a page by default, at most 1000), answered as a
connection whose `pageInfo` also counts (`totalCount`, `count`).

A `Listing` describes one list once: the selector it reads and, per scalar field of its type, the
column or SQL expression behind it and the kind of values it takes. The filter input and the sort
enum are generated from that, so every scalar field is filterable and sortable.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import strawberry
from django.db.models import BooleanField, Expression, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import NullIf
from strawberry import relay
from strawberry.relay import NodeType

from config.api import errors
from config.api.fields import parse_key
from config.api.viewsets import if_match_versions
from config.graphql import types
from inventory import selectors as inventory_selectors
from inventory.models import TrackingType as StoredTracking
from kitcomponents import selectors as kitcomponents_selectors
from kitting import selectors as kitting_selectors

DEFAULT_PAGE = 100
MAX_PAGE = 1000
_CURSOR = "arrayconnection"


def invalid(argument: str, reason: str) -> errors.ApiError:
    return errors.error(errors.GRAPHQL_INVALID_ARGUMENT, argument, ARGUMENT=argument, REASON=reason)


# --- what a filter operator takes, per kind of field ---------------------------------------------
def _id(value: Any) -> int:
    found = parse_key(value)
    if found is None:
        raise ValueError(f"{value} is not a key")
    return found


def _version(value: Any) -> int:
    versions = if_match_versions(str(value))
    if not versions or len(versions) != 1:
        raise ValueError(f"{value} is not an etag")
    return next(iter(versions))


def _float(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class Kind:
    """A kind of field: its filter input's name, the GraphQL type of a value, which operators it
    takes, and how a value becomes what the database compares."""

    filter_name: str
    value_type: Any
    operators: tuple[str, ...]
    stored: Callable[[Any], Any]


_COMPARE = ("eq", "neq", "in", "notIn", "lt", "lte", "gt", "gte", "isNull")
_TEXT = (*_COMPARE, "like", "ilike")
_EQUAL = ("eq", "neq", "in", "notIn", "isNull")


def _stored_value(value: Any) -> Any:
    return value.value


ID = Kind("IDFilter", strawberry.ID, _COMPARE, _id)
ETAG = Kind("EtagFilter", str, _COMPARE, _version)
STRING = Kind("StringFilter", str, _TEXT, str)
FLOAT = Kind("FloatFilter", float, _COMPARE, _float)
DECIMAL = Kind("DecimalFilter", Decimal, _COMPARE, Decimal)
BOOLEAN = Kind("BooleanFilter", bool, ("eq", "neq", "isNull"), bool)
TRACKING_TYPE = Kind("TrackingTypeFilter", types.TrackingType, _EQUAL, _stored_value)
INVENTORY_STATUS = Kind(
    "PartInventoryStatusFilter", types.PartInventoryStatus, _EQUAL, _stored_value
)
RUN_STATUS = Kind("RunStatusFilter", types.RunStatus, _EQUAL, _stored_value)
KIT_STATUS = Kind("PartKitStatusFilter", types.PartKitStatus, _EQUAL, _stored_value)
KINDS = (ID, ETAG, STRING, FLOAT, DECIMAL, BOOLEAN, TRACKING_TYPE, INVENTORY_STATUS)
KINDS += (RUN_STATUS, KIT_STATUS)

_LIST_OPERATORS = ("in", "notIn")
# Python names of the operators whose GraphQL names are keywords or camel case.
_PYTHON = {"in": "in_", "notIn": "not_in", "isNull": "is_null"}


def _filter_input(kind: Kind) -> type:
    annotations, attributes = {}, {}
    for operator in kind.operators:
        python = _PYTHON.get(operator, operator)
        value = bool if operator == "isNull" else kind.value_type
        annotations[python] = (list[value] if operator in _LIST_OPERATORS else value) | None
        attributes[python] = strawberry.field(name=operator, default=None)
    cls = type(kind.filter_name, (), {"__annotations__": annotations, **attributes})
    description = "Each operator given must hold (and); `like` is case-sensitive, `ilike` not."
    return strawberry.input(cls, name=kind.filter_name, description=description)


FILTER_INPUTS = {kind: _filter_input(kind) for kind in KINDS}


def like_pattern(pattern: str) -> str:
    """SQL LIKE (`%` any run, `_` one character, `\\` escapes) as a regular expression both
    PostgreSQL and SQLite (Django's REGEXP) read alike: SQLite's LIKE ignores case, so `like`
    could not be case-sensitive there."""
    out, escaped = [r"\A"], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(r"[\s\S]*")
        elif char == "_":
            out.append(r"[\s\S]")
        else:
            out.append(re.escape(char))
    if escaped:
        out.append(re.escape("\\"))
    out.append(r"\Z")
    return "".join(out)


_LOOKUPS = {"eq": "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte", "in": "in"}


def _condition(column: str, operator: str, value: Any, kind: Kind) -> Q:
    if operator == "isNull":
        return Q(**{f"{column}__isnull": bool(value)})
    if operator in ("like", "ilike"):
        lookup = "regex" if operator == "like" else "iregex"
        return Q(**{f"{column}__{lookup}": like_pattern(value)})
    if operator in _LIST_OPERATORS:
        stored = [kind.stored(item) for item in value]
        condition = Q(**{f"{column}__in": stored})
        return ~condition if operator == "notIn" else condition
    condition = Q(**{f"{column}__{_LOOKUPS.get(operator, 'exact')}": kind.stored(value)})
    return ~condition if operator == "neq" else condition


# --- one list ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """A scalar field of a type as the database reads it: a column (`part__unit_of_measure`) or
    an expression (annotated under the field's name when a filter or sort needs it)."""

    source: str | Expression | Q
    kind: Kind


def _constant(name: str) -> str:
    """`serialNumber` -> `SERIAL_NUMBER`, `_etag` -> `_ETAG`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


class Listing:
    """One list query: its selector, its fields, its filter input and its sort enum."""

    def __init__(
        self, type_name: str, plural: str, selector: Callable[[], QuerySet], fields: dict
    ) -> None:
        self.selector = selector
        self.fields: Mapping[str, Field] = fields
        annotations, attributes = {}, {}
        for name, field in fields.items():
            python = _python(name)
            annotations[python] = FILTER_INPUTS[field.kind] | None
            attributes[python] = strawberry.field(name=name, default=None)
        self.filters = strawberry.input(
            type(f"{plural}InputFilters", (), {"__annotations__": annotations, **attributes}),
            name=f"{plural}InputFilters",
            description="Every field given must match (and).",
        )
        members = {}
        for name in fields:
            members[f"{_constant(name)}_ASC"] = (name, False)
            members[f"{_constant(name)}_DESC"] = (name, True)
        self.sort = strawberry.enum(
            enum.Enum(f"{type_name}SortEnum", {m: m for m in members}),
            name=f"{type_name}SortEnum",
            description="Sorts in the order given; the key breaks ties. Nulls sort first in _ASC "
            "and last in _DESC.",
        )
        self._orders = {self.sort[m]: value for m, value in members.items()}

    def rows(self, filters: Any, sort: list | None) -> QuerySet:
        """The selector's rows, filtered and in order (by key after the given sort)."""
        queryset = self.selector()
        wanted = {name for name, _ in (self._orders[m] for m in sort or ())}
        conditions = []
        for name, field in self.fields.items():
            given = getattr(filters, _python(name), None) if filters is not None else None
            if given is not None:
                wanted.add(name)
                conditions += self._conditions(name, field, given)
        queryset = self._annotate(queryset, wanted)
        for condition in conditions:
            queryset = queryset.filter(condition)
        order = []
        for member in sort or ():
            name, descending = self._orders[member]
            column = F(self._column(name))
            order.append(
                column.desc(nulls_last=True) if descending else column.asc(nulls_first=True)
            )
        return queryset.order_by(*order, "pk")

    def _conditions(self, name: str, field: Field, given: Any) -> list[Q]:
        out = []
        for operator in field.kind.operators:
            value = getattr(given, _PYTHON.get(operator, operator))
            if value is None:
                continue
            try:
                out.append(_condition(self._column(name), operator, value, field.kind))
            except (ValueError, ArithmeticError) as exc:
                raise invalid("filters", f"{name}.{operator}: {exc}") from exc
        return out

    def _column(self, name: str) -> str:
        source = self.fields[name].source
        return source if isinstance(source, str) else _alias(name)

    def _annotate(self, queryset: QuerySet, names: set[str]) -> QuerySet:
        expressions = {}
        for name in sorted(names):
            source = self.fields[name].source
            if isinstance(source, Q):
                source = ExpressionWrapper(source, output_field=BooleanField())
            if not isinstance(source, str):
                expressions[_alias(name)] = source
        return queryset.annotate(**expressions) if expressions else queryset


def _python(name: str) -> str:
    return "etag" if name == "_etag" else name


def _alias(name: str) -> str:
    return f"graphql_{name.lstrip('_')}"


# --- Relay paging --------------------------------------------------------------------------------
@strawberry.type(description="Where a page stands in its list, and how many it holds.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether rows follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether rows precede this page.")
    start_cursor: str | None = strawberry.field(description="The first edge's cursor.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")
    total_count: int = strawberry.field(description="Rows matching the filters, on all pages.")
    count: int = strawberry.field(description="Edges on this page.")


@strawberry.type(name="Connection", description="A page of a list (Relay).")
class Connection(relay.Connection[NodeType]):
    page_info: PageInfo = strawberry.field(description="Where the page stands.")
    edges: list[relay.Edge[NodeType]] = strawberry.field(description="The page's rows.")


def _position(cursor: str, argument: str) -> int:
    try:
        prefix, position = relay.from_base64(cursor)
        found = int(position)
    except (ValueError, TypeError) as exc:
        raise invalid(argument, "not a cursor of this list") from exc
    if prefix != _CURSOR or found < 0:
        raise invalid(argument, "not a cursor of this list")
    return found


def _size(value: int | None, argument: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_PAGE:
        raise invalid(argument, f"must be between 0 and {MAX_PAGE}")
    return value


def page(
    listing: Listing,
    info: Any,
    *,
    filters: Any = None,
    sort: list | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection:
    """One page of the list: a count, the rows, and one statement per prefetched relation."""
    first, last = _size(first, "first"), _size(last, "last")
    if first is None and last is None:
        first = DEFAULT_PAGE
    start = _position(after, "after") + 1 if after is not None else 0
    end_limit = _position(before, "before") if before is not None else None
    queryset = listing.rows(filters, sort)
    total = queryset.count()
    end = total if end_limit is None else min(end_limit, total)
    start = min(start, end)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    rows = list(types.loaded(queryset, info)[start:end]) if end > start else []
    edges = [
        relay.Edge(cursor=relay.to_base64(_CURSOR, start + i), node=row)
        for i, row in enumerate(rows)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < total,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
            total_count=total,
            count=len(edges),
        ),
    )


# --- the five lists ------------------------------------------------------------------------------
def _untracked_is_null(expression: Expression) -> Expression:
    # ION's trackingType is SERIAL, LOT or null.
    return NullIf(expression, Value(StoredTracking.UNTRACKED.value))


_inventory = inventory_selectors.part_inventory_expressions()
# The item's stock figures as REST reads them (contract 15.1).
_stock = kitcomponents_selectors.item_availability()

PARTS = Listing(
    "Part",
    "Parts",
    inventory_selectors.item_list,
    {
        "id": Field("pk", ID),
        "_etag": Field("version", ETAG),
        "partNumber": Field("code", STRING),
        "description": Field("name", STRING),
        "trackingType": Field(
            _untracked_is_null(inventory_selectors.item_tracking_type()), TRACKING_TYPE
        ),
        "unitOfMeasure": Field("unit_of_measure", STRING),
        "quantity": Field(inventory_selectors.item_on_hand_quantity(), FLOAT),
        "onHandQuantity": Field(_stock["on_hand_quantity"], FLOAT),
        "availableQuantity": Field(_stock["available_quantity"], FLOAT),
        "kittedQuantity": Field(_stock["kitted_quantity"], FLOAT),
        "buildableQuantity": Field(_stock["buildable_quantity"], FLOAT),
    },
)
LOCATIONS = Listing(
    "Location",
    "Locations",
    inventory_selectors.warehouse_list,
    {
        "id": Field("pk", ID),
        "_etag": Field("version", ETAG),
        "name": Field("name", STRING),
        "inventoryAvailable": Field("inventory_available", BOOLEAN),
    },
)
PART_INVENTORIES = Listing(
    "PartInventory",
    "PartInventories",
    inventory_selectors.part_inventory_list,
    {
        "id": Field("pk", ID),
        "_etag": Field("version", ETAG),
        "partId": Field("part_id", ID),
        "serialNumber": Field("serial_number", STRING),
        "lotNumber": Field("lot_number", STRING),
        "quantity": Field("quantity", FLOAT),
        "kittedQuantity": Field("kitted_quantity", FLOAT),
        "installedQuantity": Field("installed_quantity", FLOAT),
        "cost": Field("cost", DECIMAL),
        "usageType": Field("usage_type", STRING),
        "supplierId": Field("supplier_id", STRING),
        "locationId": Field("location_id", ID),
        "unitOfMeasure": Field("part__unit_of_measure", STRING),
        "trackingType": Field(_untracked_is_null(_inventory["tracking_type"]), TRACKING_TYPE),
        "status": Field(_inventory["status"], INVENTORY_STATUS),
        "kitted": Field(_inventory["kitted"], BOOLEAN),
        "installed": Field(_inventory["installed"], BOOLEAN),
        "createdById": Field("created_by_id", ID),
        "originPartInventoryId": Field("origin_part_inventory_id", ID),
    },
)
RUNS = Listing(
    "Run",
    "Runs",
    kitting_selectors.run_list,
    {
        "id": Field("pk", ID),
        "_etag": Field("version", ETAG),
        "title": Field("title", STRING),
        "status": Field("status", RUN_STATUS),
        "partId": Field("part_id", ID),
        "quantity": Field("quantity", FLOAT),
    },
)
PART_KITS = Listing(
    "PartKit",
    "PartKits",
    kitting_selectors.part_kit_list,
    {
        "id": Field("pk", ID),
        "_etag": Field("version", ETAG),
        "runId": Field("run_id", ID),
        "status": Field("status", KIT_STATUS),
    },
)
