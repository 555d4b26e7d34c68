"""The query service, part three: a validated request runs as one rows query and one count
query, and its rows are rendered."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from config.api import responses
from config.api.query.build import DEEP_PAGE, Builder, binary
from config.api.query.parse import AGGREGATES, QueryRequest, Selected, parse_request
from config.api.query.registry import Kind, Registry, registry


def query_page(*, user, body: dict[str, Any], objects: Registry = registry) -> dict[str, Any]:
    """Run one query request for `user`: the `ia::result` rows and the page meta."""
    request = parse_request(user, body, objects)
    return execute(request)


# --- running it -------------------------------------------------------------------------------
def execute(request: QueryRequest) -> dict[str, Any]:
    builder = request.builder
    plain = [s for s in request.selected if not s.function]
    aggregates = {s.alias: _aggregate(builder, s) for s in request.selected if s.function}
    base = builder.queryset(selected=bool(aggregates and not plain))
    matching = base if request.where is None else base.filter(request.where)
    start, size = request.start, request.size
    offset = start - 1
    if aggregates and not plain:
        # One row of totals over every matching row.
        rows = [matching.aggregate(**aggregates)] if start == 1 else []
        total = 1
    elif aggregates:
        # Grouped: string fields are selected in binary collation, so that the ORDER BY names
        # selected columns only. PostgreSQL needs each grouped expression to be the same text
        # in SELECT and ORDER BY, and with server-side binding (settings.py) an expression
        # repeated with its values (a computed field's CASE) would not be: its parameters get
        # new numbers (Django ticket #34255). Django groups by select positions.
        columns = {
            s.alias: binary(F(builder.ref(s.column)))
            if s.column.kind is Kind.STRING
            else F(builder.ref(s.column))
            for s in plain
        }
        groups = matching.values(**columns).annotate(**aggregates)
        total = groups.count()
        rows = []
        if start <= total:  # past the end nothing to fetch (a huge offset would overflow)
            rows = list(groups.order_by(*_ordering(request, plain))[offset : offset + size])
    else:
        columns = {s.alias: F(builder.ref(s.column)) for s in plain}
        ordering = _ordering(request, plain)
        # Stored fields (forward paths only) give one row per object: the count and the page's
        # keys need only the filters, not the joins of the selected columns.
        per_object = all(s.column.expression is None for s in plain)
        total = matching.count() if per_object else matching.values(**columns).count()
        rows = []
        if start > total:
            pass  # past the end nothing to fetch (a huge offset would overflow the database)
        elif offset < DEEP_PAGE or not per_object:
            rows = list(matching.values(**columns).order_by(*ordering)[offset : offset + size])
        else:
            # Deep in the result a deferred join: an index is walked for the page's keys alone,
            # then only those rows are joined with the selected columns. The filters only in
            # the subquery: repeated outside, PostgreSQL could scan every matching row.
            keys = matching.order_by(*ordering).values("pk")[offset : offset + size]
            rows = list(base.values(**columns).filter(pk__in=keys).order_by(*ordering))
    result = [{s.key: s.render(row[s.alias]) for s in request.selected} for row in rows]
    return responses.page(result, total=total, start=start, size=size)


def _aggregate(builder: Builder, selected: Selected):
    column = selected.column
    source = F(builder.ref(column))
    if selected.function in ("min", "max") and column.kind is Kind.STRING:
        source = binary(source)
    return AGGREGATES[selected.function](source)


def _ordering(request: QueryRequest, plain: list[Selected]) -> list:
    """orderBy, then a tie-breaker that makes paging stable: the key, or every grouped field.
    Nulls sort first ascending and last descending, as the lowest value."""
    terms = list(request.order)
    if request.grouped:
        terms += [(F(s.alias), s.column.kind, False) for s in plain]
    else:
        terms.append((F("pk"), Kind.KEY, False))
    ordering = []
    for term, kind, descending in terms:
        if kind is Kind.STRING and not request.grouped:  # grouped: collated when selected
            term = binary(term)
        if isinstance(term, F) and term.name in ("pk", "key"):
            # Never null: a plain order, which the primary key index serves without a sort.
            ordering.append(term.desc() if descending else term.asc())
            continue
        ordering.append(term.desc(nulls_last=True) if descending else term.asc(nulls_first=True))
    return ordering
