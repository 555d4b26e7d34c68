"""Date values of a query: ISO dates and date-times, and the macros anchored on `asOfDate`.

Every date value names a period: a macro its days (`currentMonth`), a date its day, a date-time
its second (the API renders date-times to the second, so a value read from a response finds its
row again). A filter compares a column with that period: `$eq` is "within", `$lt` "before its
start", `$gt` "after its end", and so on. Weeks start on Monday. Days are UTC days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.dateparse import parse_date, parse_datetime

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)

MACROS = (
    "today",
    "yesterday",
    "currentWeek",
    "lastWeek",
    "currentMonth",
    "priorMonth",
    "currentQuarter",
    "priorQuarter",
    "currentYear",
    "priorYear",
)


@dataclass(frozen=True)
class Period:
    """[start, end) in dates (date columns) or in aware UTC date-times (date-time columns)."""

    start: dt.date | dt.datetime
    end: dt.date | dt.datetime


def macro_days(name: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a macro's period."""
    if name == "today":
        return as_of, as_of
    if name == "yesterday":
        return as_of - ONE_DAY, as_of - ONE_DAY
    if name in ("currentWeek", "lastWeek"):
        monday = as_of - dt.timedelta(days=as_of.weekday())
        if name == "lastWeek":
            monday -= dt.timedelta(days=7)
        return monday, monday + dt.timedelta(days=6)
    if name in ("currentMonth", "priorMonth"):
        first = as_of.replace(day=1)
        if name == "priorMonth":
            first = (first - ONE_DAY).replace(day=1)
        return first, _months_back(first, -1) - ONE_DAY
    if name in ("currentQuarter", "priorQuarter"):
        first = as_of.replace(month=(as_of.month - 1) // 3 * 3 + 1, day=1)
        if name == "priorQuarter":
            first = _months_back(first, 3)
        return first, _months_back(first, -3) - ONE_DAY
    if name in ("currentYear", "priorYear"):
        year = as_of.year - (name == "priorYear")
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    raise KeyError(name)


def _months_back(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def period(value: str, *, datetime_column: bool, as_of: dt.date) -> Period | None:
    """The period a filter value names, or None when it is not a date value at all.

    Raises ValueError for a date-time given for a date column.
    """
    if value in MACROS:
        first, last = macro_days(value, as_of)
        return _days(first, last, datetime_column)
    if not value.isascii():  # the parsers' \d also takes other scripts' digits (U+FF12)
        return None
    try:
        day = parse_date(value)
    except ValueError:
        return None
    if day is not None:
        return _days(day, day, datetime_column)
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None:
        return None
    if not datetime_column:
        raise ValueError("a date column takes a date, not a date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    start = moment.astimezone(UTC).replace(microsecond=0)
    return Period(start, start + dt.timedelta(seconds=1))


def _days(first: dt.date, last: dt.date, datetime_column: bool) -> Period:
    end = last + ONE_DAY
    if datetime_column:
        return Period(_midnight(first), _midnight(end))
    return Period(first, end)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
