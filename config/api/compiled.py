"""Querysets compiled to SQL once, then run with new values: for the queries every request runs.

Django turns a queryset into SQL on every evaluation, and on the hot paths (the bearer token
check, a list page, a query-service page) building and compiling it costs more than PostgreSQL
takes to answer. A plan is compiled from the queryset built with *markers* (values nothing real
equals) in place of its parameters; a later run swaps the real values in at the markers'
positions. A value Django would rewrite (`contains` wraps it in `%`, SQLite stores decimals and
dates as text) rewrites its marker too, which is then not found: such a queryset is refused
(`NotCompilable`) and its caller compiles as usual. Rows come back through the compiler's own
converters, and statements go through the connection's cursor: logging and counting are unchanged.

With `settings.COMPILED_QUERY_CHECKS` (the test suite sets it), every run also compiles the
queryset with its real values and fails loudly if the SQL or parameters differ.
"""

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery, Query, UpdateQuery
from django.db.transaction import TransactionManagementError
from django.utils import timezone


class NotCompilable(Exception):
    """This queryset cannot be run from a compiled plan; compile it as usual."""


def db():
    """The default database's connection object of this thread (not the `connection` proxy):
    plans live on it, so they are per connection and never shared between threads."""
    return connections[DEFAULT_DB_ALIAS]


def plan_cache(name: str) -> dict:
    """A cache of plans kept on this thread's connection object."""
    return db().__dict__.setdefault(name, {})


def marker(index: int, value: Any) -> Any:
    """A value of the same type as `value` that no real parameter equals, nor any other marker."""
    kind = type(value)
    if kind is str:
        return f"\x1fMarker-{index}\x1f"
    if kind is int:
        return 2_147_480_000 + index  # within a 32-bit column's range
    if kind is Decimal:
        # More places than any column keeps: a value Django rounds to its column is refused.
        return Decimal(f"987654.{index:04d}1234567890123456789")
    if kind is dt.datetime:
        return dt.datetime(2999, 1, 1, tzinfo=value.tzinfo) + dt.timedelta(microseconds=index + 1)
    if kind is dt.date:
        return dt.date(2999, 1, 1) + dt.timedelta(days=index)
    raise NotCompilable(f"no marker for a {kind.__name__}")  # bool, float, None: not unique


@dataclass(frozen=True)
class Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, ...], ...]  # for each value, its positions among the parameters
    names: tuple[str, ...]  # the selected columns' names (values() keys)
    converters: Any
    compiler: Any

    def bind(self, values: Sequence[Any]) -> tuple[Any, ...]:
        params = list(self.params)
        for value, positions in zip(values, self.slots, strict=True):
            for position in positions:
                # Django may wrap a value for the driver (psycopg's Int4 around an integer for an
                # integer column): the real value gets the marker's wrapper.
                kind = type(params[position])
                params[position] = value if value is None or type(value) is kind else kind(value)
        return tuple(params)

    def rows(
        self, values: Sequence[Any], *, prefix: str = "", suffix: str = "", extra: tuple = ()
    ) -> list[tuple]:
        """Run it; `prefix` and `suffix` wrap the SQL (a count; a LIMIT, its values in `extra`)."""
        wrapper = db()
        locks = self.compiler.query.select_for_update and wrapper.features.has_select_for_update
        if locks and wrapper.get_autocommit():
            # Django refuses this when it compiles; a plan is compiled once, so check each run.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with _cursor() as cursor:
            cursor.execute(prefix + self.sql + suffix, (*self.bind(values), *extra))
            rows: Iterable = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return [tuple(row) for row in rows]


def _execute(plan: Plan, values: Sequence[Any]) -> int:
    """Run a plan that returns no rows (an UPDATE): the number of rows it changed."""
    with transaction.mark_for_rollback_on_error(using=DEFAULT_DB_ALIAS), _cursor() as cursor:
        cursor.execute(plan.sql, plan.bind(values))
        return cursor.rowcount


def _instances(plan: Plan, rows: list[tuple]) -> list:
    """Model instances from a plan's rows, as Django's ModelIterable builds them (the object,
    its select_related objects, its annotations)."""
    compiler = plan.compiler
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, compiler.using)
    annotations = compiler.annotation_col_map or {}
    instances = []
    for row in rows:
        obj = klass_info["model"].from_db(compiler.using, names, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in annotations.items():
            setattr(obj, name, row[position])
        instances.append(obj)
    return instances


def _cursor():
    """The connection's cursor; on PostgreSQL one that binds values server-side, so that psycopg
    prepares a plan's statement after a few runs and PostgreSQL stops planning it every time.
    (Not for every query: Django's GROUP BY over parameters fails with server-side binding.)"""
    wrapper = db()
    if wrapper.vendor != "postgresql":
        return wrapper.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What connection.cursor() does, with another cursor class (Django has no option for one).
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        return wrapper._prepare_cursor(ServerBindingCursor(wrapper.connection))


def compile_plan(queryset: QuerySet | Query, markers: Sequence[Any]) -> Plan:
    """The plan of a queryset (or query) built with `markers` as its parameter values."""
    query = queryset.query if isinstance(queryset, QuerySet) else queryset
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)  # `using`: instances know their db
    try:
        sql, params = compiler.as_sql()
    except (EmptyResultSet, FullResultSet) as exc:  # Django answers these without SQL
        raise NotCompilable(str(exc)) from exc
    slots = []
    for value in markers:
        positions = tuple(i for i, param in enumerate(params) if _same(param, value))
        if not positions:
            raise NotCompilable(f"{value!r} was rewritten on its way into the SQL")
        slots.append(positions)
    names = (*query.extra_select, *query.values_select, *query.annotation_select)
    converters = None  # an UPDATE selects nothing
    if compiler.select:
        selected = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(selected)
    return Plan(sql, tuple(params), tuple(slots), names, converters, compiler)


def _same(param: Any, value: Any) -> bool:
    if isinstance(value, int) and isinstance(param, int) and not isinstance(param, bool):
        return param == value  # Django may hand the driver an int subclass (psycopg's Int4)
    return type(param) is type(value) and param == value


def check_plan(plan: Plan, queryset: Callable[[], QuerySet | Query], values: Sequence[Any]) -> None:
    """Under COMPILED_QUERY_CHECKS: the plan with `values` is the queryset compiled as usual."""
    if not getattr(settings, "COMPILED_QUERY_CHECKS", False):
        return
    source = queryset()
    query = source.query if isinstance(source, QuerySet) else source
    sql, params = query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()
    if (plan.sql, plan.bind(values)) != (sql, tuple(params)):
        raise AssertionError(
            f"compiled plan differs:\n{plan.sql}\n{plan.bind(values)}\n"
            f"from the queryset:\n{sql}\n{tuple(params)}"
        )


class CompiledQuery:
    """`build(**values)` returns a queryset: `rows(**values)` runs a `values_list` one (tuples),
    `instances(**values)` / `first(**values)` a model one (instances, select_related included).

    `parameters` names each parameter and its type (int or str), each compared for equality
    (an int beyond bigint's range then matches nothing). Used for the fixed queries
    every request of a kind runs: the bearer token lookup, an unfiltered list page, the row
    locks of the kitting workflows, a reference's lookup.
    """

    def __init__(self, build: Callable[..., QuerySet], **parameters: type):
        self.build = build
        self.parameters = parameters
        self._samples = {str: "", int: 0}

    def rows(self, **values: Any) -> list[tuple]:
        return self._run("rows", values)

    def instances(self, **values: Any) -> list:
        """The model instances a (non-values) queryset gives: its rows, as Django builds them."""
        return _instances(self._plan("objects"), self._run("objects", values))

    def first(self, **values: Any):
        found = self.instances(**values)
        return found[0] if found else None

    def page(self, *, offset: int, limit: int, **values: Any) -> list[tuple]:
        """Rows `offset` to `offset + limit` (the queryset itself must not be sliced)."""
        return self._run("rows", values, suffix=" LIMIT %s OFFSET %s", extra=(limit, offset))

    def count(self, **values: Any) -> int:
        """How many rows the query matches (the count ignores its ordering)."""
        rows = self._run("count", values, prefix="SELECT COUNT(*) FROM (", suffix=") counted")
        return rows[0][0] if rows else 0

    def _run(self, kind: str, values: dict[str, Any], **wrapping) -> list[tuple]:
        plan = self._plan(kind)
        # As Django prepares them: "7" for an int parameter is 7.
        ordered = [type_(values[name]) for name, type_ in self.parameters.items()]
        if any(type(v) is int and not -(2**63) <= v < 2**63 for v in ordered):
            return []  # no bigint equals it: Django's range check makes such a lookup empty
        check_plan(plan, lambda: self._queryset(kind, values), ordered)
        return plan.rows(ordered, **wrapping)

    def _queryset(self, kind: str, values: dict[str, Any]) -> QuerySet:
        queryset = self.build(**values)
        if kind == "objects":
            return queryset
        if queryset.query.annotation_select or queryset.query.extra_select:
            raise ImproperlyConfigured("values from a CompiledQuery are plain fields only")
        if kind == "count":
            return queryset.order_by().values_list("pk")
        return queryset

    def _plan(self, kind: str) -> Plan:
        # Per connection object (per thread): the converters are the connection's own. Weakly
        # keyed: a CompiledQuery that goes (one built for a passing queryset) takes its plans.
        wrapper = db()
        if "_compiled_queries" not in wrapper.__dict__:
            wrapper._compiled_queries = weakref.WeakKeyDictionary()
        plans = wrapper._compiled_queries.setdefault(self, {})
        plan = plans.get(kind)
        if plan is None:
            markers = {
                name: marker(i, self._samples[type_])
                for i, (name, type_) in enumerate(self.parameters.items())
            }
            try:
                plan = compile_plan(self._queryset(kind, markers), list(markers.values()))
            except NotCompilable as exc:
                raise ImproperlyConfigured(f"this CompiledQuery cannot be compiled: {exc}") from exc
            plans[kind] = plan
        return plan


class CompiledUpdate:
    """`build(**values)` returns `(queryset, changes)`; `run(**values)` is
    `queryset.update(**changes)` from a plan, and returns the number of rows changed.

    A None value gives the statement another shape (`SET x = NULL`, or a change the build leaves
    out), so each set of None parameters has a plan of its own. Where Django rewrites a value on
    its way into the SQL (SQLite stores datetimes as text) the update runs through the ORM.
    Used for the stock moves of the kitting workflows.
    """

    def __init__(self, build: Callable[..., tuple[QuerySet, dict[str, Any]]], **parameters: type):
        self.build = build
        self.parameters = parameters

    def run(self, **values: Any) -> int:
        nulls = frozenset(name for name, value in values.items() if value is None)
        plan = self._plan(nulls)
        if plan is None:
            queryset, changes = self.build(**values)
            return queryset.update(**changes)
        ordered = [values[name] for name in self.parameters if name not in nulls]
        check_plan(plan, lambda: _update_query(*self.build(**values)), ordered)
        return _execute(plan, ordered)

    def _plan(self, nulls: frozenset) -> Plan | None:
        wrapper = db()
        if "_compiled_updates" not in wrapper.__dict__:
            wrapper._compiled_updates = weakref.WeakKeyDictionary()
        plans = wrapper._compiled_updates.setdefault(self, {})
        if nulls not in plans:
            markers = {
                name: None if name in nulls else marker(i, _SAMPLES[type_]())
                for i, (name, type_) in enumerate(self.parameters.items())
            }
            try:
                query = _update_query(*self.build(**markers))
                plans[nulls] = compile_plan(query, [m for m in markers.values() if m is not None])
            except NotCompilable:
                plans[nulls] = None
        return plans[nulls]


_SAMPLES: dict[type, Callable[[], Any]] = {
    int: int,
    str: str,
    Decimal: Decimal,
    dt.datetime: timezone.now,
}


def _update_query(queryset: QuerySet, changes: dict[str, Any]) -> UpdateQuery:
    """The query QuerySet.update(**changes) runs, for a plain filtered queryset."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(changes)
    if query.order_by or query.related_updates:
        raise NotCompilable("an ordered update or one of a parent table's fields")
    query.clear_select_clause()
    return query


class CompiledInsert:
    """`save(obj)` inserts a new instance as `obj.save(force_insert=True)` would, by a statement
    compiled once per connection: the INSERT's text does not depend on the values, which are
    prepared per row by the same compiler methods Django uses (auto_now fields included).
    Falls back to `obj.save()` where the model has save signals connected or the database cannot
    return the new key from the INSERT. Used for the ledger rows every stock move writes.
    """

    def __init__(self, model: type):
        self.model = model

    def save(self, obj) -> None:
        meta = self.model._meta
        plan = self._plan()
        if (
            plan is None
            or not obj._state.adding  # not new: the model's own save() says what happens
            or signals.pre_save.has_listeners(self.model)
            or signals.post_save.has_listeners(self.model)
        ):
            obj.save(force_insert=True)
            return
        sql, fields, compiler = plan
        if getattr(settings, "COMPILED_QUERY_CHECKS", False):
            _check_insert(plan, obj)  # first: the values written are then the last prepared
        params = _values(compiler, fields, obj)
        wrapper = db()
        with transaction.mark_for_rollback_on_error(using=DEFAULT_DB_ALIAS), _cursor() as cursor:
            cursor.execute(sql, params)
            row = wrapper.ops.fetch_returned_insert_columns(cursor, compiler.returning_params)
        for value, field in zip(row, meta.db_returning_fields, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS

    def _plan(self):
        wrapper = db()
        if "_compiled_inserts" not in wrapper.__dict__:
            wrapper._compiled_inserts = {}
        if self.model not in wrapper._compiled_inserts:
            plan = None
            if wrapper.features.can_return_columns_from_insert:
                compiler = _insert_compiler(self.model, self.model())
                ((sql, _),) = compiler.as_sql()
                plan = (sql, compiler.query.fields, compiler)
            wrapper._compiled_inserts[self.model] = plan
        return wrapper._compiled_inserts[self.model]


def _insert_compiler(model: type, obj):
    """The compiler of the INSERT Model.save() runs for a new `obj` (key from the database)."""
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    compiler.returning_fields = meta.db_returning_fields
    return compiler


def _values(compiler, fields, obj) -> list:
    """The INSERT's values for `obj`, as the compiler prepares them (auto_now fields set now)."""
    return [compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in fields]


def _check_insert(plan, obj) -> None:
    """Under COMPILED_QUERY_CHECKS: the statement and values are Django's for this object (but
    the auto_now times, which each preparation takes anew)."""
    sql, fields, compiler = plan
    ((expected_sql, expected),) = _insert_compiler(type(obj), obj).as_sql()
    params = _values(compiler, fields, obj)
    fresh = [getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields]
    mine = [None if again else value for value, again in zip(params, fresh, strict=True)]
    theirs = [None if again else value for value, again in zip(expected, fresh, strict=True)]
    if (sql, mine) != (expected_sql, theirs):
        raise AssertionError(
            f"compiled insert differs:\n{sql}\n{params}\nfrom:\n{expected_sql}\n{expected}"
        )
