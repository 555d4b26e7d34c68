"""The query-shape cache (config/api/query/shapes.py): on PostgreSQL a query request whose shape
ran before runs the statement kept from it, with its own values, and answers exactly what
building its querysets answers: the same body, from the same SQL with the same parameters,
statement for statement. Elsewhere (SQLite) nothing is kept and every request builds them.

Each case is two requests of one shape with different values: the first is run (its statements
are captured and kept), then the second is compared with the same request run with the cache
off."""

import dataclasses
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import F
from django.test import override_settings

from config.api import spec
from config.api.query import Computed, shapes
from config.api.query.registry import Registry
from config.api.query.run import query_page
from inventory.models import Warehouse
from kitcomponents import selectors as kit_selectors
from kitcomponents.api.serializers import KitComponentSerializer
from tests.support.query import ITEM, LINE, QUERY

ITEM_FIELDS = ["key", "id", "name", "purchasing.standardCost", "audit.createdDateTime", "href"]
LINE_FIELDS = ["key", "kit.id", "component.name", "numberOfUnits"]
POSTGRESQL = connection.vendor == "postgresql"


def items(*filters, **body) -> dict:
    return {"object": ITEM, "fields": ITEM_FIELDS, "filters": list(filters), **body}


def lines(*filters, **body) -> dict:
    return {"object": LINE, "fields": LINE_FIELDS, "filters": list(filters), **body}


def eq(path, value) -> dict:
    return {"$eq": {path: value}}


INSENSITIVE = {"filterParameters": {"caseSensitiveComparison": False}}

# name -> catalogue -> (a request, another of the same shape with other values)
CASES: dict[str, Callable] = {
    "string $eq": lambda c: (items(eq("name", "Tape")), items(eq("name", "ink Cartridge"))),
    "string $ne $lt $gte": lambda c: (
        items({"$ne": {"name": "Tape"}}, {"$lt": {"name": "P"}}, {"$gte": {"id": "A"}}),
        items({"$ne": {"name": "Tape"}}, {"$lt": {"name": "Tz"}}, {"$gte": {"id": "Ink"}}),
    ),
    # Repeated values count once (as Django's `in` keeps them), so these two are one shape.
    "string $in with repeats": lambda c: (
        items({"$in": {"name": ["Tape", "Tape", "Office kit"]}}),
        items({"$in": {"name": ["Sales only", "Tape", "Sales only"]}}),
    ),
    "string $notIn $between $notBetween": lambda c: (
        items(
            {"$notIn": {"name": ["Tape"]}},
            {"$between": {"id": ["A", "Z"]}},
            {"$notBetween": {"name": ["O", "Q"]}},
        ),
        items(
            {"$notIn": {"name": ["Office kit"]}},
            {"$between": {"id": ["Ink", "Tape"]}},
            {"$notBetween": {"name": ["A", "C"]}},
        ),
    ),
    # The length of a $startsWith / $endsWith value is a parameter too.
    "text operators": lambda c: (
        items(
            {"$startsWith": {"name": "P"}},
            {"$notEndsWith": {"name": "x"}},
            {"$contains": {"id": "r"}},
        ),
        items(
            {"$startsWith": {"name": "Paper for"}},
            {"$notEndsWith": {"name": "only"}},
            {"$contains": {"id": "Paper"}},
        ),
    ),
    "case-insensitive": lambda c: (
        items(
            eq("name", "TAPE"),
            {"$in": {"id": ["ink", "TAPE"]}},
            {"$startsWith": {"name": "t"}},
            {"$lt": {"name": "z"}},
            filterExpression="1 or 2 or 3 or 4",
            **INSENSITIVE,
        ),
        items(
            eq("name", "office KIT"),
            {"$in": {"id": ["kit_1", "sKIT_1"]}},
            {"$startsWith": {"name": "PAPER f"}},
            {"$lt": {"name": "b"}},
            filterExpression="1 or 2 or 3 or 4",
            **INSENSITIVE,
        ),
    ),
    "numbers": lambda c: (
        items(
            {"$gt": {"purchasing.standardCost": 5}},
            {"$between": {"purchasing.standardCost": ["1", "200"]}},
            {"$notIn": {"purchasing.standardCost": [10, "2.5"]}},
        ),
        items(
            {"$gt": {"purchasing.standardCost": "1.5"}},
            {"$between": {"purchasing.standardCost": [0, 30]}},
            {"$notIn": {"purchasing.standardCost": ["1.23", 30]}},
        ),
    ),
    "the benchmark's kit-component query": lambda c: (
        lines({"$gt": {"numberOfUnits": 1}}, size=100),
        lines({"$gt": {"numberOfUnits": "0.5"}}, size=100),
    ),
    "references": lambda c: (
        lines(eq("component.id", "Prnt_Paper"), {"$ne": {"kit.name": "Office kit"}}),
        lines(eq("component.id", "Ink"), {"$ne": {"kit.name": "Office kit"}}),
    ),
    "keys": lambda c: (
        items(
            eq("key", c.key("Tape")),
            {"$in": {"key": [c.key("Ink"), c.key("Kit_1")]}},
            {"$gt": {"key": c.key("SalesOnly")}},
            filterExpression="or",
        ),
        items(
            eq("key", c.key("Ink")),
            {"$in": {"key": [c.key("Tape"), c.key("SKit_1")]}},
            {"$gt": {"key": c.key("PurchOnly")}},
            filterExpression="or",
        ),
    ),
    "booleans and nulls stay in the shape": lambda c: (
        items(
            eq("tracking.enableSerialNo", False),
            {"$ne": {"audit.createdBy": None}},
            {"$ne": {"name": "Tape"}},
        ),
        items(
            eq("tracking.enableSerialNo", False),
            {"$ne": {"audit.createdBy": None}},
            {"$ne": {"name": "Office kit"}},
        ),
    ),
    "a computed field": lambda c: (
        items(eq("trackingType", "lot"), filterExpression="or"),
        items(eq("trackingType", "untracked"), filterExpression="or"),
    ),
    "date-times and macros": lambda c: (
        items(
            eq("audit.createdDateTime", "2024-05-13"),
            {"$lt": {"audit.createdDateTime": "2024-05-15T09:30:00Z"}},
            {"$in": {"audit.createdDateTime": ["today", "priorYear"]}},
            {"$between": {"audit.createdDateTime": ["priorQuarter", "priorMonth"]}},
            filterExpression="(1 and 2) or 3 or 4",
            filterParameters={"asOfDate": "2024-05-15"},
        ),
        items(
            eq("audit.createdDateTime", "2024-05-12"),
            {"$lt": {"audit.createdDateTime": "2024-05-13"}},
            {"$in": {"audit.createdDateTime": ["yesterday", "lastWeek"]}},
            {"$between": {"audit.createdDateTime": ["currentMonth", "currentQuarter"]}},
            filterExpression="(1 and 2) or 3 or 4",
            filterParameters={"asOfDate": "2024-05-16"},
        ),
    ),
    "ordered and paged": lambda c: (
        items(
            {"$ne": {"name": "Tape"}},
            orderBy=[{"itemType": "desc"}, {"name": "asc"}],
            start=2,
            size=3,
        ),
        items(
            {"$ne": {"name": "Ink"}},
            orderBy=[{"itemType": "desc"}, {"name": "asc"}],
            start=2,
            size=3,
        ),
    ),
    "past the last page: no rows statement": lambda c: (
        items({"$ne": {"name": "Tape"}}, start=50),
        items({"$ne": {"name": "Ink"}}, start=50),
    ),
}


def answer(client, body: dict) -> tuple[dict, list[tuple]]:
    """The response body and every statement the request ran, its parameters with their types."""
    ran = []

    def record(execute, sql, params, many, context):
        ran.append((sql, tuple((type(p).__name__, p) for p in params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.post(QUERY, body, format="json")
    assert response.status_code == 200, response.json()
    return response.json(), ran


def built(client, body: dict) -> tuple[dict, list[tuple]]:
    with override_settings(QUERY_SHAPE_CACHE=False):
        return answer(client, body)


@pytest.fixture
def runs():
    """The shapes' statements that ran from here on: runs() -> Counter of kept / captured /
    refused."""
    shapes.forget()
    before = Counter(shapes.runs)
    return lambda: Counter(shapes.runs) - before


def statements(body: dict) -> int:
    """The count, then the page's rows unless the page starts past the last row."""
    meta = body["ia::meta"]
    return 2 if meta["start"] <= meta["totalCount"] else 1


@pytest.mark.parametrize("case", CASES)
def test_a_request_of_a_known_shape_answers_as_its_querysets(forced_api, catalogue, runs, case):
    first, second = CASES[case](catalogue)
    expected = built(forced_api, second)
    assert expected[0]["ia::result"] or "past the last page" in case  # rows to compare
    primed = answer(forced_api, first)[0]
    captured = runs()
    assert answer(forced_api, second) == expected
    if POSTGRESQL:
        assert captured == Counter(captured=statements(primed))
        assert runs() - captured == Counter(kept=statements(expected[0]))
    else:
        assert runs() == Counter()


def test_a_deep_page_runs_its_deferred_join_from_the_kept_statement(forced_api, admin_user, runs):
    Warehouse.objects.bulk_create(
        Warehouse(code=f"W{i:04d}", name=f"Warehouse {i % 7}", created_by=admin_user)
        for i in range(1_200)
    )

    def deep(name: str) -> dict:
        return {
            "object": "inventory-control/warehouse",
            "fields": ["key", "id", "name"],
            "filters": [{"$ne": {"name": name}}],
            "start": 1_001,
            "size": 5,
        }

    expected = built(forced_api, deep("Warehouse 3"))
    assert "IN (SELECT" in expected[1][-1][0]  # the page's keys in a subquery
    answer(forced_api, deep("Warehouse 5"))
    assert answer(forced_api, deep("Warehouse 3")) == expected
    assert runs() == (Counter(captured=2, kept=2) if POSTGRESQL else Counter())


def test_integers_beyond_the_markers_stay_in_the_shape(forced_api, catalogue, runs):
    """A key past a 32-bit column's range is Django's to check, and one among the markers'
    values could pass for one: such requests are built with their values, and answer right."""
    tape = catalogue.key("Tape")
    for key in ("9999999999", "9999999998", "2147480000", str(shapes.INTEGER_MARKERS[-1])):
        body = items({"$in": {"key": [tape, key]}})
        expected = built(forced_api, body)[0]
        assert [row["id"] for row in expected["ia::result"]] == ["Tape"]
        assert answer(forced_api, body)[0] == expected
        assert answer(forced_api, body)[0] == expected
    # The first two are two shapes, each run twice; the others are never kept.
    assert runs() == (Counter(captured=4, kept=4) if POSTGRESQL else Counter())


def test_a_request_django_answers_without_sql_is_built_with_its_values(forced_api, catalogue, runs):
    body = items({"$in": {"name": []}}, eq("name", "Tape"), filterExpression="1 and 2")
    expected = built(forced_api, body)
    assert expected[0]["ia::result"] == []
    assert expected[1] == []  # no statement at all
    for _ in range(2):
        assert answer(forced_api, body) == expected
    # The first request learns that its shape cannot be kept; the second is not tried.
    assert runs() == (Counter(refused=2) if POSTGRESQL else Counter())


def test_a_value_django_rewrites_is_built_with_its_values(admin_user, catalogue, runs):
    """A number compared with an integer column: Django rounds it to an integer on its way into
    the SQL, which would round its marker too. The request is refused and built again."""
    objects = Registry()
    line = dataclasses.replace(
        spec.describe(KitComponentSerializer),
        query=kit_selectors.kit_component_list(),
        expressions={"lineNumber": Computed(F("line_number"), kind="number")},
    )
    objects.load([line])

    def rows(units):
        body = {"object": LINE, "fields": ["key"], "filters": [{"$gte": {"lineNumber": units}}]}
        return query_page(user=admin_user, body=body, objects=objects)

    with override_settings(QUERY_SHAPE_CACHE=False):
        expected = [rows("1.5"), rows("2.5")]
    assert [rows("1.5"), rows("2.5")] == expected
    assert runs() == (Counter(refused=2) if POSTGRESQL else Counter())
