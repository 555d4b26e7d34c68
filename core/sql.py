"""What the hand-written SQL of every layer shares: the quoting rule and plain statements run
through the public `connection.cursor()`, so their text is built once and PostgreSQL prepares it
(settings: server-side binding, prepare_threshold) instead of Django compiling a queryset on
every request (the bearer token, an item's GET, an unfiltered list page)."""

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models


def quoted(name: str) -> str:
    """One of our own table or column names, quoted the SQL-standard way (PostgreSQL and SQLite
    alike); our names never hold a double quote."""
    return f'"{name}"'


def rows(sql: str, params: Sequence[Any]) -> list[tuple]:
    """The statement's rows. SQLite hands back stored datetimes naive (they are UTC): made aware,
    as the ORM would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if connection.vendor == "sqlite" and settings.USE_TZ:
        found = [tuple(_aware(value) for value in row) for row in found]
    return found


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def reference_page(model: type[models.Model], id_field: str | None, *, offset: int, limit: int):
    """A whole table's row count and, in key order, the (key, id) rows after the first `offset`
    (at most `limit`), from two statements built once per model (the key index serves both)."""
    count, page = _reference_statements(model, id_field)
    total = rows(count, ())[0][0]
    # Past the end nothing to fetch (a huge offset would overflow the database's integer).
    found = rows(page, (limit, offset)) if offset < total else []
    return total, found


@functools.cache
def _reference_statements(model: type[models.Model], id_field: str | None) -> tuple[str, str]:
    table, key = quoted(model._meta.db_table), quoted(model._meta.pk.column)
    columns = key
    if id_field is not None:
        columns += ", " + quoted(model._meta.get_field(id_field).column)
    return (
        f"SELECT COUNT(*) FROM {table}",
        f"SELECT {columns} FROM {table} ORDER BY {key} LIMIT %s OFFSET %s",
    )


def captured(queryset: models.QuerySet, marker: Any) -> tuple[str, list[Any], int]:
    """The statement Django writes for `queryset` (which filters on `marker`, a value no real
    row holds), its parameters and the position of `marker` among them: run once under the
    documented database instrumentation (`connection.execute_wrapper`), so that a hot read can
    keep the ORM's SQL for expressions a selector owns and run it again with its own value."""
    seen: list[tuple[str, list[Any]]] = []

    def capture(execute, sql, params, many, context):
        seen.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        list(queryset)
    [(text, params)] = seen
    if params.count(marker) != 1:
        raise ValueError(f"the statement does not hold {marker!r} once: {text}")
    return text, params, params.index(marker)
