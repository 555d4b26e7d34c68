"""The query language's pure parts: filterExpression parsing, date periods, re-rooting."""

import datetime as dt

import pytest
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce

from config.api.query import dates
from config.api.query import expression as expr
from config.api.query.registry import NotReachable, reroot
from inventory.models import Item

A, B, C, D = (expr.Ref(n) for n in range(1, 5))


@pytest.mark.parametrize(
    ("text", "count", "tree"),
    [
        ("1", 1, A),
        ("1 and 2", 2, expr.And((A, B))),
        ("1 or 2", 2, expr.Or((A, B))),
        # "and" binds tighter than "or", on either side.
        ("1 or 2 and 3", 3, expr.Or((A, expr.And((B, C))))),
        ("1 and 2 or 3", 3, expr.Or((expr.And((A, B)), C))),
        ("1 and 2 or 3 and 4", 4, expr.Or((expr.And((A, B)), expr.And((C, D))))),
        ("(1 or 2) and 3", 3, expr.And((expr.Or((A, B)), C))),
        ("1 and (2 or 3)", 3, expr.And((A, expr.Or((B, C))))),
        ("((1))", 1, A),
        ("1 and 2 and 3", 3, expr.And((A, B, C))),
        ("1 OR 2 And 3", 3, expr.Or((A, expr.And((B, C))))),
        ("  1   or(2)  ", 2, expr.Or((A, B))),
        ("1or 2", 2, expr.Or((A, B))),
        ("01 and 2", 2, expr.And((A, B))),
        ("1 or 1 and 2", 2, expr.Or((A, expr.And((A, B))))),
        # A bare keyword combines every filter.
        ("and", 3, expr.And((A, B, C))),
        ("OR", 2, expr.Or((A, B))),
        (" or ", 1, A),
        ("and", 0, None),
    ],
)
def test_expressions_parse_with_and_binding_tighter(text, count, tree):
    assert expr.parse(text, count) == tree


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        ("1 and", 2, "expected a filter number or '(' at position 6, found the end"),
        ("", 1, "expected a filter number or '(' at position 1, found the end"),
        ("and 1", 1, "expected a filter number or '(' at position 1, found 'and'"),
        ("1 2", 2, "expected 'and', 'or' or the end at position 3, found '2'"),
        ("1 xor 2", 2, "expected 'and', 'or' or the end at position 3, found 'xor'"),
        ("1 & 2", 2, "expected 'and', 'or' or the end at position 3, found '&'"),
        ("1 and -2", 2, "expected a filter number or '(' at position 7, found '-'"),
        ("(1 or 2", 2, "expected ')' to close '(' at position 1, found the end at position 8"),
        ("(1 or 2 3", 3, "expected ')' to close '(' at position 1, found '3' at position 9"),
        ("1 or 2)", 2, "unmatched ')' at position 7"),
        ("()", 1, "expected a filter number or '(' at position 2, found ')'"),
        ("1 and not 2", 2, "expected a filter number or '(' at position 7, found 'not'"),
        ("1 and 4", 3, "filter 4 at position 7 does not exist: there are 3 filters"),
        ("0 or 1", 1, "filter 0 at position 1 does not exist: there is 1 filter"),
        ("1", 0, "filter 1 at position 1 does not exist: there are no filters"),
        ("1 or 2", 3, "filter 3 not used: every filter must appear in the expression"),
        ("2", 4, "filters 1, 3, 4 not used: every filter must appear in the expression"),
    ],
)
def test_malformed_expressions_name_position_and_token(text, count, message):
    with pytest.raises(expr.ExpressionError) as caught:
        expr.parse(text, count)
    assert str(caught.value) == message


AS_OF = dt.date(2024, 5, 15)  # a Wednesday


@pytest.mark.parametrize(
    ("macro", "first", "last"),
    [
        ("today", "2024-05-15", "2024-05-15"),
        ("yesterday", "2024-05-14", "2024-05-14"),
        ("currentWeek", "2024-05-13", "2024-05-19"),  # weeks start on Monday
        ("lastWeek", "2024-05-06", "2024-05-12"),
        ("currentMonth", "2024-05-01", "2024-05-31"),
        ("priorMonth", "2024-04-01", "2024-04-30"),
        ("currentQuarter", "2024-04-01", "2024-06-30"),
        ("priorQuarter", "2024-01-01", "2024-03-31"),
        ("currentYear", "2024-01-01", "2024-12-31"),
        ("priorYear", "2023-01-01", "2023-12-31"),
    ],
)
def test_macros_name_periods_of_days(macro, first, last):
    assert dates.macro_days(macro, AS_OF) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


@pytest.mark.parametrize(
    ("as_of", "macro", "first", "last"),
    [
        ("2024-01-10", "priorMonth", "2023-12-01", "2023-12-31"),
        ("2024-01-10", "priorQuarter", "2023-10-01", "2023-12-31"),
        ("2024-03-01", "priorMonth", "2024-02-01", "2024-02-29"),
        ("2024-12-31", "currentQuarter", "2024-10-01", "2024-12-31"),
        ("2024-05-13", "currentWeek", "2024-05-13", "2024-05-19"),  # a Monday
        ("2024-05-19", "currentWeek", "2024-05-13", "2024-05-19"),  # a Sunday
        ("2024-01-01", "lastWeek", "2023-12-25", "2023-12-31"),
        ("2024-03-01", "yesterday", "2024-02-29", "2024-02-29"),
    ],
)
def test_macros_at_the_edges_of_months_quarters_and_years(as_of, macro, first, last):
    assert dates.macro_days(macro, dt.date.fromisoformat(as_of)) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_values_name_periods_for_datetime_columns():
    def period(value):
        return dates.period(value, datetime_column=True, as_of=AS_OF)

    assert period("today") == dates.Period(utc(2024, 5, 15), utc(2024, 5, 16))
    assert period("2024-05-01") == dates.Period(utc(2024, 5, 1), utc(2024, 5, 2))
    # A date-time names its second (responses render seconds), in UTC.
    assert period("2024-05-01T10:20:30Z") == dates.Period(
        utc(2024, 5, 1, 10, 20, 30), utc(2024, 5, 1, 10, 20, 31)
    )
    assert period("2024-05-01T12:20:30.75+02:00") == dates.Period(
        utc(2024, 5, 1, 10, 20, 30), utc(2024, 5, 1, 10, 20, 31)
    )
    assert period("2024-05-01T10:20:30") == period("2024-05-01T10:20:30Z")
    assert period("Today") is None
    assert period("2024-02-30") is None
    assert period("yesterday-ish") is None


def test_values_name_periods_for_date_columns():
    def period(value):
        return dates.period(value, datetime_column=False, as_of=AS_OF)

    assert period("currentMonth") == dates.Period(dt.date(2024, 5, 1), dt.date(2024, 6, 1))
    assert period("2024-05-01") == dates.Period(dt.date(2024, 5, 1), dt.date(2024, 5, 2))
    with pytest.raises(ValueError, match="a date column takes a date"):
        period("2024-05-01T10:20:30Z")


def test_expressions_are_rerooted_through_a_reference():
    case = Case(
        When(enable_serial_no=True, then=Value("serial")),
        When(Q(enable_lot_category=True) | Q(code=F("name")), then=Value("lot")),
        default=F("item_type"),
    )
    moved = reroot(case, "component__")
    assert str(moved) == str(
        Case(
            When(component__enable_serial_no=True, then=Value("serial")),
            When(
                Q(component__enable_lot_category=True) | Q(component__code=F("component__name")),
                then=Value("lot"),
            ),
            default=F("component__item_type"),
        )
    )
    assert str(case).count("component__") == 0  # the registered expression is left untouched
    assert reroot("created_by", "kit__") == "kit__created_by"
    either = ~Q(code="x") | Q(code__in=["a"], name=F("code"))
    assert reroot(either, "component__") == ~Q(component__code="x") | Q(
        component__code__in=["a"], component__name=F("component__code")
    )
    for unreachable in (OuterRef("pk"), Exists(Item.objects.filter(code=OuterRef("code")))):
        with pytest.raises(NotReachable):
            reroot(Coalesce(unreachable, Value(0)), "component__")
