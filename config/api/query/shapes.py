"""The query-shape cache: a query request runs the SQL Django wrote for the first request of its
shape, with its own values, instead of building and compiling querysets again.

Two requests that differ only in the values their filters compare with have the same *shape*:
the object, the fields, the filters' structure, the ordering, the page. Building a request's
querysets and compiling them costs the query service more than PostgreSQL takes to answer a
selective page, so the Builder puts a *marker* in place of each value (`Parameters`): a value of
the same type that no real value equals, the same for every request of a shape. The first
request of a shape runs its querysets under the documented database instrumentation
(`connection.execute_wrapper`), which finds each marker among the statement's parameters, runs
the statement with the request's values in their place and keeps it; later requests of the shape
run the kept statement with theirs, through `connection.cursor()`.

A statement is kept only when Django put every marker, unchanged, among its parameters: a value
it rewrites or checks on its way into the SQL (an integer beyond a column's range, a number for
an integer column) would rewrite or drop its marker, and such a request is refused (`Refused`)
before its statement runs, to be built again with its values. Only on PostgreSQL and only for
rows of stored fields, which the ORM returns as the driver reads them (no backend converter, no
`from_db_value`), so that the cursor's rows are the ORM's; anything else runs as before.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection

from config.api.query.registry import Column, model_field

if TYPE_CHECKING:
    from config.api.query.parse import QueryRequest

MAX_STATEMENTS = 512  # kept per process; the oldest goes first
# Integer markers stay within a 32-bit column's range; an integer beyond it, or a negative one,
# is Django's to check against its column (it may drop the condition): it stays in the shape.
INTEGER_MARKERS = range(2_147_480_000, 2**31)


# How the statements of requests with a shape ran: from a kept statement, captured and kept, or
# refused (built again with their values). Read by the tests and by anyone tuning MAX_STATEMENTS.
runs: Counter[str] = Counter()


class Refused(Exception):
    """This request cannot run from its shape's statement: build it again with its values."""


def enabled() -> bool:
    return settings.QUERY_SHAPE_CACHE and connection.vendor == "postgresql"


def marker(index: int, value: Any) -> Any:
    """A value of `value`'s type that no real value equals, nor another index's marker; None for
    a value that stays in the shape itself (a boolean: no marker is unique; an integer Django
    checks against its column's range, as outside this one it may drop the condition)."""
    kind = type(value)
    if kind is str:
        return f"\x1fmarker-{index}\x1f"
    if kind is int:
        room = 0 <= value < INTEGER_MARKERS.start and index < len(INTEGER_MARKERS)
        return INTEGER_MARKERS[index] if room else None
    if kind is Decimal:
        # More digits than any column keeps: a marker Django rounded would not be found.
        return Decimal(f"987654.{index:04d}1234567890123456789")
    if kind is dt.datetime:
        return dt.datetime(2999, 1, 1, tzinfo=value.tzinfo) + dt.timedelta(microseconds=index + 1)
    if kind is dt.date:
        return dt.date(2999, 1, 1) + dt.timedelta(days=index)
    return None


class Parameters:
    """The values a request's filters compare with, in the order the Builder meets them. With
    `markers`, each value that can be marked reaches the queryset as its marker."""

    def __init__(self, *, markers: bool = False):
        self.markers = markers
        self.values: list[Any] = []
        self.marked: list[Any] = []
        self.kept = markers  # False once something the shape cannot describe is built

    def __call__(self, value: Any) -> Any:
        if not self.markers:
            return value
        if type(value) is int and value in INTEGER_MARKERS:
            self.refuse()  # it would pass for a marker among the statement's parameters
        marked = marker(len(self.values), value)
        if marked is None:
            return value
        self.values.append(value)
        self.marked.append(marked)
        return marked

    def refuse(self) -> None:
        self.kept = False


def shape(request: QueryRequest) -> tuple | None:
    """What the request's SQL depends on besides its marked values, or None when its statements
    are not kept: aggregates, a list's subquery, a computed or converted field among the rows."""
    builder = request.builder
    if not builder.parameters.kept or request.grouped:
        return None
    model = request.obj.model
    if not all(_read_as_stored(model, s.column) for s in request.selected):
        return None
    return (
        request.obj,  # the object itself: another registry may name another one alike
        tuple((s.key, s.alias, s.column.path) for s in request.selected),
        builder.alias_paths(),
        # The filters as built, markers in place of values: their structure, each lookup and
        # expression, and the values that stay in the shape. A subquery never gets here.
        repr(request.where),
        tuple((repr(term), kind, descending) for term, kind, descending in request.order),
    )


def _read_as_stored(model, column: Column) -> bool:
    if column.expression is not None or column.orm is None:
        return False
    field = model_field(model, column.orm)
    return field is not None and not hasattr(field, "from_db_value")


# --- statements --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...]  # as Django passed them, markers included
    slots: tuple[tuple[int, ...], ...]  # for each marked value, its positions among the params
    names: tuple[str, ...]  # the selected columns' names

    def bind(self, values: Sequence[Any]) -> tuple[Any, ...]:
        params = list(self.params)
        for value, positions in zip(values, self.slots, strict=True):
            for position in positions:
                # Django may wrap a value for the driver (psycopg's Int4 for an integer
                # column): the value gets the marker's wrapper.
                kind = type(params[position])
                params[position] = value if type(value) is kind else kind(value)
        return tuple(params)


_kept: dict[tuple, Statement | None] = {}  # None: the shape's requests run with their values
_UNSEEN = object()
_lock = threading.Lock()


def forget() -> None:
    """Drop every kept statement (tests)."""
    with _lock:
        _kept.clear()


def run(
    key: tuple,
    parameters: Parameters,
    evaluate: Callable[[], Any],
    read: Callable[[list[tuple], tuple[str, ...]], Any],
) -> Any:
    """What `evaluate()` (querysets built with markers) answers for the request's values: from
    the kept statement of `key` (its rows given to `read`), or by evaluating it once and keeping
    the one statement it ran."""
    statement = _kept.get(key, _UNSEEN)
    if statement is None:
        runs["refused"] += 1
        raise Refused(key)
    if statement is not _UNSEEN:
        runs["kept"] += 1
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.bind(parameters.values))
            rows = cursor.fetchall()
        return read(rows, statement.names)
    capture = _Capture(parameters)
    try:
        with connection.execute_wrapper(capture):
            result = evaluate()
    except _Rewritten:
        _keep(key, None)
        runs["refused"] += 1
        raise Refused(key) from None
    if len(capture.statements) == 1:
        _keep(key, capture.statements[0])
        runs["captured"] += 1
    elif not capture.statements and parameters.values:
        # Django answered from the filters alone, perhaps from a marker: run it with its values.
        _keep(key, None)
        runs["refused"] += 1
        raise Refused(key)
    # Otherwise every statement ran with the request's values: the answer stands, and the next
    # request of the shape is evaluated again.
    return result


def _keep(key: tuple, statement: Statement | None) -> None:
    with _lock:
        if key not in _kept and len(_kept) >= MAX_STATEMENTS:
            del _kept[next(iter(_kept))]
        _kept[key] = statement


class _Rewritten(Exception):
    pass


class _Capture:
    """An execute wrapper: finds the markers among a statement's parameters and runs it with
    the request's values in their place (a statement without them does not run)."""

    def __init__(self, parameters: Parameters):
        self.parameters = parameters
        self.statements: list[Statement] = []

    def __call__(self, execute, sql, params, many, context):
        if many:
            raise _Rewritten(sql)
        slots = []
        for marked in self.parameters.marked:
            positions = tuple(i for i, param in enumerate(params) if _same(param, marked))
            if not positions:
                raise _Rewritten(sql)
            slots.append(positions)
        statement = Statement(sql, tuple(params), tuple(slots), ())
        result = execute(sql, statement.bind(self.parameters.values), many, context)
        description = context["cursor"].description or ()
        names = tuple(column[0] for column in description)
        self.statements.append(Statement(sql, statement.params, statement.slots, names))
        return result


def _same(param: Any, marked: Any) -> bool:
    if type(marked) is int:
        # Django may hand the driver an int subclass (psycopg's Int4).
        return isinstance(param, int) and not isinstance(param, bool) and param == marked
    return type(param) is type(marked) and param == marked
