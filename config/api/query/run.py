"""The query service, part three: a validated request runs as one rows query and one count
query (one statement for both when it groups), and its rows are rendered."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Window

from config.api import responses
from config.api.query import shapes
from config.api.query.build import DEEP_PAGE, Builder, binary
from config.api.query.parse import AGGREGATES, QueryRequest, Selected, parse_request
from config.api.query.registry import Kind, Registry, registry

# The groups' count's alias in a grouped page's rows (no selected field's alias starts "qt").
TOTAL = "qt"
# PostgreSQL's OFFSET is a bigint.
MAX_OFFSET = 2**63 - 1


def query_page(*, user, body: dict[str, Any], objects: Registry = registry) -> dict[str, Any]:
    """Run one query request for `user`: the `ia::result` rows and the page meta."""
    if shapes.enabled():
        request = parse_request(user, body, objects, markers=True)
        shape = shapes.shape(request)
        if shape is not None:
            try:
                return execute(request, shape)
            except shapes.Refused:
                pass  # built again below, with its values
        elif not request.builder.parameters.values:
            return execute(request)  # nothing was marked: its filters hold its own values
    return execute(parse_request(user, body, objects))


# --- running it -------------------------------------------------------------------------------
def execute(request: QueryRequest, shape: tuple | None = None) -> dict[str, Any]:
    """The request's page; with its `shape` (built with markers), through the shape's kept
    statements (config.api.query.shapes)."""
    builder = request.builder
    plain = [s for s in request.selected if not s.function]
    aggregates = {s.alias: _aggregate(builder, s) for s in request.selected if s.function}
    start, size = request.start, request.size
    offset = start - 1
    if aggregates and not plain:
        # One row of totals over every matching row.
        rows = [_matching(request, selected=True).aggregate(**aggregates)] if start == 1 else []
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
        groups = _matching(request).values(**columns).annotate(**aggregates)
        total, rows = _grouped_page(groups, _ordering(request, plain), offset, size)
    else:
        total, rows = _page(request, plain, shape)
    renders = [(s.key, s.alias, s.render) for s in request.selected]
    result = [{key: render(row[alias]) for key, alias, render in renders} for row in rows]
    return responses.page(result, total=total, start=start, size=size)


def _grouped_page(groups, ordering: list, offset: int, size: int) -> tuple[int, list]:
    """The number of groups and the page's rows in one statement: every group is built before
    the page anyway (to order them), so the count rides along as a window over the groups
    instead of a second statement building them all again (the shortages of every open run
    explode every open run's kit each time). An empty page past the first counts apart."""
    if offset <= MAX_OFFSET:
        page = groups.order_by(*ordering).annotate(**{TOTAL: Window(Count("*"))})
        rows = list(page[offset : offset + size])
        if rows:
            return rows[0][TOTAL], rows
        if not offset:
            return 0, []
    return groups.count(), []  # past the end: a huge offset would overflow, so never sent


def _matching(request: QueryRequest, *, selected: bool = False):
    base = request.builder.queryset(selected=selected)
    return base if request.where is None else base.filter(request.where)


def _page(request: QueryRequest, plain: list[Selected], shape: tuple | None) -> tuple[int, list]:
    """The total and the page's rows (by alias) of a query without aggregates. The querysets are
    built only when they run: a kept statement needs none."""
    builder = request.builder
    offset, size = request.start - 1, request.size
    columns = {s.alias: F(builder.ref(s.column)) for s in plain}
    ordering = _ordering(request, plain)
    # Stored fields (forward paths only) give one row per object: the count and the page's
    # keys need only the filters, not the joins of the selected columns.
    per_object = all(s.column.expression is None for s in plain)

    def count() -> int:
        matching = _matching(request)
        return matching.count() if per_object else matching.values(**columns).count()

    def rows() -> list[dict]:
        if offset < DEEP_PAGE or not per_object:
            page = _matching(request).values(**columns).order_by(*ordering)
            return list(page[offset : offset + size])
        # Deep in the result a deferred join: an index is walked for the page's keys alone,
        # then only those rows are joined with the selected columns. The filters only in the
        # subquery: repeated outside, PostgreSQL could scan every matching row.
        keys = _matching(request).order_by(*ordering).values("pk")[offset : offset + size]
        return list(builder.queryset().values(**columns).filter(pk__in=keys).order_by(*ordering))

    total = _run(request, shape, ("count",), count, _first)
    if request.start > total:
        return total, []  # past the end nothing to fetch (a huge offset would overflow)
    return total, _run(request, shape, ("rows", offset, size), rows, _by_name)


def _run(request: QueryRequest, shape: tuple | None, statement: tuple, evaluate, read):
    if shape is None:
        return evaluate()
    return shapes.run((shape, *statement), request.builder.parameters, evaluate, read)


def _first(rows: list[tuple], names: tuple[str, ...]) -> Any:
    return rows[0][0]


def _by_name(rows: list[tuple], names: tuple[str, ...]) -> list[dict]:
    return [dict(zip(names, row, strict=True)) for row in rows]


def _aggregate(builder: Builder, selected: Selected):
    column = selected.column
    source = F(builder.ref(column))
    if selected.function in ("min", "max") and column.kind is Kind.STRING:
        source = binary(source)
    return AGGREGATES[selected.function](source)


def _ordering(request: QueryRequest, plain: list[Selected]) -> list:
    """orderBy, then a tie-breaker that makes paging stable: the object's own order (its key,
    after the fields its description orders by), or every grouped field. Nulls sort first
    ascending and last descending, as the lowest value."""
    terms = list(request.order)
    own = (*request.obj.spec.order, "pk")
    if request.grouped:
        terms += [(F(s.alias), s.column.kind, False) for s in plain]
    else:
        terms += [(F(name), Kind.KEY, False) for name in own]
    ordering = []
    for term, kind, descending in terms:
        if kind is Kind.STRING and not request.grouped:  # grouped: collated when selected
            term = binary(term)
        if isinstance(term, F) and term.name in ("key", *own):
            # Never null: a plain order, which the primary key index serves without a sort.
            ordering.append(term.desc() if descending else term.asc())
            continue
        ordering.append(term.desc(nulls_last=True) if descending else term.asc(nulls_first=True))
    return ordering
