"""Plain SQL for the reads every request makes (the bearer token, an item's GET): through the
public `connection.cursor()`, so its text is built once and PostgreSQL prepares it
(settings: server-side binding, prepare_threshold) instead of Django compiling a queryset on
every request."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from core.sql import quoted as quoted  # the one quoting rule, shared with the domain


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
