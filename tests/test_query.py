"""POST /services/core/query (contract 9), through real HTTP on a real database."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory import services as inventory_services
from inventory.models import Item
from tests.support.users import make_user

QUERY = "/services/core/query"
ITEM = "inventory-control/item"
LINE = "inventory-control/kit-component"
ALL_IDS = ["Kit_1", "SKit_1", "Prnt_Paper", "Ink", "NonInv", "Tape", "PurchOnly", "SalesOnly"]


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


# id, name, type, standard cost, created at, extra fields
ITEMS = [
    ("Kit_1", "Office kit", "kit", "10", utc(2024, 5, 15, 9, 30, 0, 250000), {}),
    (
        "SKit_1",
        "Stockable kit",
        "stockableKit",
        "25.5",
        utc(2024, 5, 14, 23, 59, 59, 900000),
        {"enable_serial_no": True, "serial_mask": "SN-####"},
    ),
    (
        "Prnt_Paper",
        "Paper for Printer",
        "inventory",
        "125.67",
        utc(2024, 5, 13),
        {"enable_lot_category": True, "lot_category": "Paper", "unit_of_measure": "10 Pack"},
    ),
    (
        "Ink",
        "ink Cartridge",
        "inventory",
        "30",
        utc(2024, 5, 12, 23, 59, 59),
        {"status": "inactive"},
    ),
    (
        "NonInv",
        "Consulting hour",
        "nonInventory",
        "0",
        utc(2024, 5, 1),
        {"unit_of_measure": "hour"},
    ),
    ("Tape", "Tape", "inventory", "1.23", utc(2024, 4, 10, 8), {}),
    (
        "PurchOnly",
        "Purchase only",
        "purchaseOnlyNonInventory",
        "2.5",
        utc(2024, 3, 31, 23, 59, 59),
        {},
    ),
    (
        "SalesOnly",
        "Sales only",
        "salesOnlyNonInventory",
        "99.99",
        utc(2023, 12, 31, 23, 59, 59),
        {},
    ),
]


@pytest.fixture
def catalogue(admin_user, add_line):
    items = {}
    for code, name, item_type, cost, created, extra in ITEMS:
        item = inventory_services.item_create(
            user=admin_user,
            code=code,
            name=name,
            item_type=item_type,
            standard_cost=Decimal(cost),
            **extra,
        )
        Item.objects.filter(pk=item.pk).update(created_at=created)
        items[code] = item
    lines = {
        "L1": add_line(items["Kit_1"], items["Prnt_Paper"], Decimal("2"), revenue_percentage=50),
        "L2": add_line(
            items["Kit_1"],
            items["NonInv"],
            Decimal("1.5"),
            default_delivery_status="undelivered",
        ),
        "L3": add_line(items["Kit_1"], items["SKit_1"], Decimal("1"), revenue_percentage=20),
        "L4": add_line(
            items["SKit_1"],
            items["Ink"],
            Decimal("3"),
            revenue_percentage=80,
            default_delivery_status="undelivered",
        ),
        "L5": add_line(items["SKit_1"], items["Prnt_Paper"], Decimal("0.25")),
    }
    return SimpleNamespace(items=items, lines=lines, key=lambda code: str(items[code].pk))


def post(client, body):
    return client.post(QUERY, body, format="json")


def result(client, **body):
    response = post(client, body)
    assert response.status_code == 200, response.json()
    return response.json()["ia::result"]


def item_ids(client, *filters, **body):
    rows = result(client, object=ITEM, fields=["id"], filters=list(filters), **body)
    return [row["id"] for row in rows]


def line_names(catalogue, client, *filters, **body):
    """Kit-component keys matched, as the line names of the catalogue (L1...)."""
    names = {str(line.pk): name for name, line in catalogue.lines.items()}
    rows = result(client, object=LINE, fields=["key"], filters=list(filters), **body)
    return [names[row["key"]] for row in rows]


def error(response):
    assert response["Content-Type"].startswith("application/json")
    body = response.json()["ia::result"]["ia::error"]
    return response.status_code, body["errorId"], body.get("target"), body["message"]


def but(*excluded):
    return [code for code in ALL_IDS if code not in excluded]


# --- operators on each kind of field ----------------------------------------------------------
@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"name": "Tape"}}, ["Tape"]),
        ({"$eq": {"name": "tape"}}, []),
        ({"$ne": {"name": "Tape"}}, but("Tape")),
        # Code-point order: upper case sorts before lower case.
        ({"$lt": {"name": "P"}}, ["Kit_1", "NonInv"]),
        ({"$lte": {"name": "Paper for Printer"}}, ["Kit_1", "Prnt_Paper", "NonInv"]),
        ({"$gt": {"name": "Sales only"}}, ["SKit_1", "Ink", "Tape"]),
        ({"$gte": {"name": "Sales only"}}, ["SKit_1", "Ink", "Tape", "SalesOnly"]),
        ({"$lt": {"name": "p"}}, ALL_IDS),
        ({"$in": {"name": ["Tape", "tape", "Office kit"]}}, ["Kit_1", "Tape"]),
        ({"$in": {"name": []}}, []),
        ({"$notIn": {"name": ["Tape", "Office kit"]}}, but("Kit_1", "Tape")),
        ({"$notIn": {"name": []}}, ALL_IDS),
        ({"$between": {"name": ["O", "Q"]}}, ["Kit_1", "Prnt_Paper", "PurchOnly"]),
        ({"$between": {"name": ["Q", "O"]}}, []),
        ({"$notBetween": {"name": ["O", "Q"]}}, but("Kit_1", "Prnt_Paper", "PurchOnly")),
        ({"$contains": {"name": "kit"}}, ["Kit_1", "SKit_1"]),
        ({"$contains": {"name": "Kit"}}, []),  # case-sensitive, also on SQLite
        ({"$contains": {"name": "%"}}, []),  # no LIKE wildcards
        ({"$contains": {"name": ""}}, ALL_IDS),
        ({"$notContains": {"name": "kit"}}, but("Kit_1", "SKit_1")),
        ({"$notContains": {"name": ""}}, []),
        ({"$startsWith": {"name": "P"}}, ["Prnt_Paper", "PurchOnly"]),
        ({"$startsWith": {"name": "p"}}, []),
        ({"$startsWith": {"name": "Paper for Printer and more"}}, []),
        ({"$notStartsWith": {"name": "P"}}, but("Prnt_Paper", "PurchOnly")),
        ({"$endsWith": {"name": "only"}}, ["PurchOnly", "SalesOnly"]),
        ({"$endsWith": {"name": "Only"}}, []),
        ({"$endsWith": {"name": "_"}}, []),
        ({"$notEndsWith": {"name": "only"}}, but("PurchOnly", "SalesOnly")),
        ({"$eq": {"itemType": "inventory"}}, ["Prnt_Paper", "Ink", "Tape"]),
        ({"$eq": {"trackingType": "lot"}}, ["Prnt_Paper"]),
        ({"$ne": {"trackingType": "untracked"}}, ["SKit_1", "Prnt_Paper"]),
        ({"$startsWith": {"trackingType": "un"}}, but("SKit_1", "Prnt_Paper")),
        ({"$eq": {"tracking.lotCategory": "Paper"}}, ["Prnt_Paper"]),
    ],
)
def test_string_operators(forced_api, catalogue, flt, expected):
    assert item_ids(forced_api, flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"name": "tape"}}, ["Tape"]),
        ({"$ne": {"name": "TAPE"}}, but("Tape")),
        ({"$in": {"name": ["TAPE", "office KIT"]}}, ["Kit_1", "Tape"]),
        ({"$notIn": {"name": ["TAPE", "office KIT"]}}, but("Kit_1", "Tape")),
        ({"$contains": {"name": "KIT"}}, ["Kit_1", "SKit_1"]),
        ({"$contains": {"name": "_"}}, []),
        ({"$notContains": {"name": "KIT"}}, but("Kit_1", "SKit_1")),
        ({"$startsWith": {"name": "p"}}, ["Prnt_Paper", "PurchOnly"]),
        ({"$endsWith": {"name": "ONLY"}}, ["PurchOnly", "SalesOnly"]),
        ({"$notStartsWith": {"name": "p"}}, but("Prnt_Paper", "PurchOnly")),
        ({"$notEndsWith": {"name": "ONLY"}}, but("PurchOnly", "SalesOnly")),
        ({"$lt": {"name": "p"}}, ["Kit_1", "Ink", "NonInv"]),
        ({"$gte": {"name": "S"}}, ["SKit_1", "Tape", "SalesOnly"]),
        ({"$between": {"name": ["o", "PAPER FOR PRINTER"]}}, ["Kit_1", "Prnt_Paper"]),
        ({"$eq": {"itemType": "INVENTORY"}}, ["Prnt_Paper", "Ink", "Tape"]),
        ({"$eq": {"trackingType": "LOT"}}, ["Prnt_Paper"]),
        # Not a string: case sensitivity does not apply.
        ({"$eq": {"purchasing.standardCost": 10}}, ["Kit_1"]),
    ],
)
def test_case_insensitive_comparison(forced_api, catalogue, flt, expected):
    params = {"caseSensitiveComparison": False}
    assert item_ids(forced_api, flt, filterParameters=params) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"purchasing.standardCost": 10}}, ["Kit_1"]),
        ({"$eq": {"purchasing.standardCost": "125.67"}}, ["Prnt_Paper"]),
        ({"$eq": {"purchasing.standardCost": 25.50}}, ["SKit_1"]),
        ({"$ne": {"purchasing.standardCost": 0}}, but("NonInv")),
        ({"$lt": {"purchasing.standardCost": 2.5}}, ["NonInv", "Tape"]),
        ({"$lte": {"purchasing.standardCost": "2.5"}}, ["NonInv", "Tape", "PurchOnly"]),
        ({"$gt": {"purchasing.standardCost": 30}}, ["Prnt_Paper", "SalesOnly"]),
        ({"$gte": {"purchasing.standardCost": 30}}, ["Prnt_Paper", "Ink", "SalesOnly"]),
        ({"$in": {"purchasing.standardCost": [0, 1.23, "99.99"]}}, ["NonInv", "Tape", "SalesOnly"]),
        (
            {"$notIn": {"purchasing.standardCost": [0, 1.23, "99.99"]}},
            but("NonInv", "Tape", "SalesOnly"),
        ),
        (
            {"$between": {"purchasing.standardCost": [2.5, 30]}},
            ["Kit_1", "SKit_1", "Ink", "PurchOnly"],
        ),
        (
            {"$notBetween": {"purchasing.standardCost": [2.5, 30]}},
            ["Prnt_Paper", "NonInv", "Tape", "SalesOnly"],
        ),
    ],
)
def test_number_operators(forced_api, catalogue, flt, expected):
    assert item_ids(forced_api, flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"numberOfUnits": 1.5}}, ["L2"]),
        ({"$gt": {"numberOfUnits": 1}}, ["L1", "L2", "L4"]),
        ({"$lte": {"numberOfUnits": "1"}}, ["L3", "L5"]),
        ({"$between": {"numberOfUnits": [0.25, 1.5]}}, ["L2", "L3", "L5"]),
        ({"$eq": {"lineNumber": 2}}, ["L2", "L5"]),
        ({"$gte": {"lineNumber": "3"}}, ["L3"]),
        ({"$in": {"lineNumber": [1, 3]}}, ["L1", "L3", "L4"]),
        ({"$notBetween": {"lineNumber": [2, 3]}}, ["L1", "L4"]),
        # Nulls never match a positive operator and always match a negative one.
        ({"$eq": {"revenuePercentage": None}}, ["L2", "L5"]),
        ({"$ne": {"revenuePercentage": None}}, ["L1", "L3", "L4"]),
        ({"$ne": {"revenuePercentage": 50}}, ["L2", "L3", "L4", "L5"]),
        ({"$lt": {"revenuePercentage": 60}}, ["L1", "L3"]),
        ({"$notIn": {"revenuePercentage": [50, 80]}}, ["L2", "L3", "L5"]),
        ({"$notBetween": {"revenuePercentage": [0, 60]}}, ["L2", "L4", "L5"]),
        ({"$eq": {"defaultDeliveryStatus": "undelivered"}}, ["L2", "L4"]),
    ],
)
def test_kit_component_number_and_null_operators(forced_api, catalogue, flt, expected):
    assert line_names(catalogue, forced_api, flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"tracking.enableSerialNo": True}}, ["SKit_1"]),
        ({"$eq": {"tracking.enableSerialNo": False}}, but("SKit_1")),
        ({"$ne": {"tracking.enableSerialNo": True}}, but("SKit_1")),
        ({"$in": {"tracking.enableLotCategory": [True, False]}}, ALL_IDS),
        ({"$notIn": {"tracking.enableLotCategory": [False]}}, ["Prnt_Paper"]),
        ({"$eq": {"tracking.enableSerialNo": None}}, []),
        ({"$ne": {"tracking.enableSerialNo": None}}, ALL_IDS),
        # Stored "" on items that are not kits, rendered (and so queried) as null.
        ({"$eq": {"kitRevenuePosting": None}}, but("Kit_1", "SKit_1")),
        ({"$ne": {"kitRevenuePosting": None}}, ["Kit_1", "SKit_1"]),
        ({"$eq": {"kitRevenuePosting": ""}}, []),
        ({"$lt": {"kitRevenuePosting": "z"}}, ["Kit_1", "SKit_1"]),
        ({"$notIn": {"kitRevenuePosting": ["componentLevel"]}}, but("Kit_1", "SKit_1")),
    ],
)
def test_boolean_operators_and_empty_strings_rendered_as_null(forced_api, catalogue, flt, expected):
    assert item_ids(forced_api, flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"key": "K:Ink"}}, ["Ink"]),
        ({"$ne": {"key": "K:Ink"}}, but("Ink")),
        ({"$lt": {"key": "K:Prnt_Paper"}}, ["Kit_1", "SKit_1"]),
        ({"$gte": {"key": "K:SalesOnly"}}, ["SalesOnly"]),
        ({"$in": {"key": ["K:Tape", "K:Kit_1", "999999"]}}, ["Kit_1", "Tape"]),
        ({"$between": {"key": ["K:Ink", "K:Tape"]}}, ["Ink", "NonInv", "Tape"]),
        ({"$eq": {"audit.createdBy": "K:admin"}}, ALL_IDS),
        ({"$ne": {"audit.createdBy": "K:admin"}}, []),
        ({"$eq": {"audit.createdByUser.id": "admin"}}, ALL_IDS),
        ({"$eq": {"audit.createdByUser.key": None}}, []),
    ],
)
def test_key_operators(forced_api, catalogue, admin_user, flt, expected):
    def key(value):
        if isinstance(value, list):
            return [key(v) for v in value]
        if isinstance(value, str) and value.startswith("K:"):
            code = value[2:]
            return str(admin_user.pk) if code == "admin" else catalogue.key(code)
        return value

    ((op, operand),) = flt.items()
    ((path, value),) = operand.items()
    assert item_ids(forced_api, {op: {path: key(value)}}) == expected
    # A key is also accepted as a JSON integer.
    if isinstance(key(value), str) and key(value).isdigit():
        assert item_ids(forced_api, {op: {path: int(key(value))}}) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"$eq": {"kit.id": "Kit_1"}}, ["L1", "L2", "L3"]),
        ({"$ne": {"kit.id": "Kit_1"}}, ["L4", "L5"]),
        ({"$eq": {"kit.key": "K:SKit_1"}}, ["L4", "L5"]),
        ({"$in": {"component.itemType": ["inventory", "stockableKit"]}}, ["L1", "L3", "L4", "L5"]),
        ({"$contains": {"component.name": "Paper"}}, ["L1", "L5"]),
        ({"$gt": {"component.purchasing.standardCost": 25.5}}, ["L1", "L4", "L5"]),
        ({"$gt": {"component.standardCost": 25.5}}, ["L1", "L4", "L5"]),
        ({"$eq": {"component.tracking.enableSerialNo": True}}, ["L3"]),
        ({"$eq": {"component.trackingType": "lot"}}, ["L1", "L5"]),
        ({"$eq": {"component.unitOfMeasure": "hour"}}, ["L2"]),
        ({"$eq": {"component.kitRevenuePosting": None}}, ["L1", "L2", "L4", "L5"]),
        ({"$eq": {"kit.audit.createdDateTime": "2024-05-14"}}, ["L4", "L5"]),
        ({"$startsWith": {"kit.name": "Stock"}}, ["L4", "L5"]),
        ({"$eq": {"component.status": "inactive"}}, ["L4"]),
    ],
)
def test_reference_paths(forced_api, catalogue, flt, expected):
    ((op, operand),) = flt.items()
    ((path, value),) = operand.items()
    if isinstance(value, str) and value.startswith("K:"):
        value = catalogue.key(value[2:])
    assert line_names(catalogue, forced_api, {op: {path: value}}) == expected


def test_has_looks_inside_a_list(forced_api, catalogue):
    l4 = str(catalogue.lines["L4"].pk)
    assert item_ids(forced_api, {"$has": {"kitComponents": l4}}) == ["SKit_1"]
    assert item_ids(forced_api, {"$has": {"kitComponents": int(l4)}}) == ["SKit_1"]
    assert item_ids(forced_api, {"$has": {"kitComponents": "999999"}}) == []
    paper = {"$has": {"kitComponents.component.id": "Prnt_Paper"}}
    assert item_ids(forced_api, paper) == ["Kit_1", "SKit_1"]
    assert item_ids(forced_api, {"$has": {"kitComponents.component.id": "prnt_paper"}}) == []
    insensitive = {"caseSensitiveComparison": False}
    lowered = {"$has": {"kitComponents.component.id": "prnt_paper"}}
    assert item_ids(forced_api, lowered, filterParameters=insensitive) == ["Kit_1", "SKit_1"]
    assert item_ids(forced_api, {"$has": {"kitComponents.numberOfUnits": 3}}) == ["SKit_1"]
    assert item_ids(forced_api, {"$has": {"kitComponents.revenuePercentage": None}}) == [
        "Kit_1",
        "SKit_1",
    ]
    # Through a reference: the kit components whose kit holds an Ink line.
    ink = {"$has": {"kit.kitComponents.component.id": "Ink"}}
    assert line_names(catalogue, forced_api, ink) == ["L4", "L5"]
    # Combined with other filters by the expression.
    assert item_ids(
        forced_api,
        paper,
        {"$eq": {"itemType": "kit"}},
        {"$eq": {"id": "Tape"}},
        filterExpression="1 and 2 or 3",
    ) == ["Kit_1", "Tape"]


def test_date_macros_against_a_fixed_as_of_date(forced_api, catalogue):
    def ids(op, value):
        params = {"asOfDate": "2024-05-15"}
        return item_ids(forced_api, {op: {"audit.createdDateTime": value}}, filterParameters=params)

    this_week = ["Kit_1", "SKit_1", "Prnt_Paper"]
    this_month = [*this_week, "Ink", "NonInv"]
    assert ids("$eq", "today") == ["Kit_1"]
    assert ids("$eq", "yesterday") == ["SKit_1"]
    assert ids("$eq", "currentWeek") == this_week
    assert ids("$eq", "lastWeek") == ["Ink"]
    assert ids("$eq", "currentMonth") == this_month
    assert ids("$eq", "priorMonth") == ["Tape"]
    assert ids("$eq", "currentQuarter") == [*this_month, "Tape"]
    assert ids("$eq", "priorQuarter") == ["PurchOnly"]
    assert ids("$eq", "currentYear") == but("SalesOnly")
    assert ids("$eq", "priorYear") == ["SalesOnly"]
    # A period: $ne outside, $lt before its start, $lte before its end, $gt after its end...
    assert ids("$ne", "currentWeek") == but(*this_week)
    assert ids("$lt", "currentWeek") == but(*this_week)
    assert ids("$lte", "yesterday") == but("Kit_1")
    assert ids("$gt", "lastWeek") == this_week
    assert ids("$gte", "currentMonth") == this_month
    assert ids("$in", ["today", "priorYear"]) == ["Kit_1", "SalesOnly"]
    assert ids("$notIn", ["today", "priorYear"]) == but("Kit_1", "SalesOnly")
    assert ids("$between", ["priorQuarter", "priorMonth"]) == ["Tape", "PurchOnly"]
    assert ids("$notBetween", ["priorQuarter", "priorMonth"]) == but("Tape", "PurchOnly")
    # Plain dates are their day, date-times their second (as responses render them), any offset.
    assert ids("$eq", "2024-05-12") == ["Ink"]
    assert ids("$eq", "2024-05-15T09:30:00Z") == ["Kit_1"]
    assert ids("$eq", "2024-05-15T11:30:00+02:00") == ["Kit_1"]
    assert ids("$gt", "2024-05-14T23:59:59Z") == ["Kit_1"]
    assert ids("$gte", "2024-05-14T23:59:59Z") == ["Kit_1", "SKit_1"]
    assert ids("$lt", "2024-05-13T00:00:00Z") == but(*this_week)
    assert ids("$between", ["2024-05-01", "2024-05-12T23:59:59Z"]) == ["Ink", "NonInv"]
    # A different as-of date moves every macro.
    moved = item_ids(
        forced_api,
        {"$eq": {"audit.createdDateTime": "currentQuarter"}},
        filterParameters={"asOfDate": "2024-03-01"},
    )
    assert moved == ["PurchOnly"]


def test_date_macros_default_to_today(forced_api, catalogue, admin_user):
    inventory_services.item_create(user=admin_user, code="New", name="New", item_type="inventory")
    assert item_ids(forced_api, {"$eq": {"audit.createdDateTime": "today"}}) == ["New"]
    assert item_ids(forced_api, {"$eq": {"audit.modifiedDateTime": "currentYear"}}) == [
        *ALL_IDS,
        "New",
    ]


# --- filterExpression -------------------------------------------------------------------------
KIT_1 = {"$eq": {"id": "Kit_1"}}
INK = {"$eq": {"id": "Ink"}}
INACTIVE = {"$eq": {"status": "inactive"}}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 or 2 and 3", ["Kit_1", "Ink"]),  # 1 or (2 and 3)
        ("(1 or 2) and 3", ["Ink"]),
        ("1 and 3 or 2", ["Ink"]),  # (1 and 3) or 2
        ("1 and (3 or 2)", []),
        ("1 OR 2 AND 3", ["Kit_1", "Ink"]),
        ("((1)) or (2 and (3))", ["Kit_1", "Ink"]),
        ("or", ["Kit_1", "Ink"]),
        ("and", []),
        (None, []),
        ("", []),
    ],
)
def test_expression_precedence(forced_api, catalogue, expression, expected):
    body = {"filterExpression": expression}
    assert item_ids(forced_api, KIT_1, INK, INACTIVE, **body) == expected


# --- aggregates -------------------------------------------------------------------------------
def test_aggregates_group_by_the_plain_fields(forced_api, catalogue):
    rows = result(
        forced_api,
        object=ITEM,
        fields=[
            "itemType",
            "count:key",
            "sum:purchasing.standardCost",
            "avg:purchasing.standardCost",
            "min:name",
            "max:audit.createdDateTime",
        ],
    )
    assert rows == [
        {
            "itemType": "inventory",
            "count:key": 3,
            "sum:purchasing.standardCost": "156.9",
            "avg:purchasing.standardCost": "52.3",
            "min:name": "Paper for Printer",
            "max:audit.createdDateTime": "2024-05-13T00:00:00Z",
        },
        {
            "itemType": "kit",
            "count:key": 1,
            "sum:purchasing.standardCost": "10",
            "avg:purchasing.standardCost": "10",
            "min:name": "Office kit",
            "max:audit.createdDateTime": "2024-05-15T09:30:00Z",
        },
        {
            "itemType": "nonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "0",
            "avg:purchasing.standardCost": "0",
            "min:name": "Consulting hour",
            "max:audit.createdDateTime": "2024-05-01T00:00:00Z",
        },
        {
            "itemType": "purchaseOnlyNonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "2.5",
            "avg:purchasing.standardCost": "2.5",
            "min:name": "Purchase only",
            "max:audit.createdDateTime": "2024-03-31T23:59:59Z",
        },
        {
            "itemType": "salesOnlyNonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "99.99",
            "avg:purchasing.standardCost": "99.99",
            "min:name": "Sales only",
            "max:audit.createdDateTime": "2023-12-31T23:59:59Z",
        },
        {
            "itemType": "stockableKit",
            "count:key": 1,
            "sum:purchasing.standardCost": "25.5",
            "avg:purchasing.standardCost": "25.5",
            "min:name": "Stockable kit",
            "max:audit.createdDateTime": "2024-05-14T23:59:59Z",
        },
    ]


def test_aggregates_over_references_with_filters_ordering_and_paging(forced_api, catalogue):
    body = {
        "object": LINE,
        "fields": [
            "kit.id",
            "count:key",
            "sum:numberOfUnits",
            "avg:numberOfUnits",
            "max:lineNumber",
        ],
        "filters": [{"$ne": {"component.id": "Tape"}}],
        "orderBy": [{"count:key": "desc"}],
    }
    rows = result(forced_api, **body)
    assert rows == [
        {
            "kit.id": "Kit_1",
            "count:key": 3,
            "sum:numberOfUnits": 4.5,
            "avg:numberOfUnits": 1.5,
            "max:lineNumber": 3,
        },
        {
            "kit.id": "SKit_1",
            "count:key": 2,
            "sum:numberOfUnits": 3.25,
            "avg:numberOfUnits": 1.625,
            "max:lineNumber": 2,
        },
    ]
    body["orderBy"] = [{"sum:numberOfUnits": "asc"}]
    page = post(forced_api, {**body, "start": 2, "size": 1}).json()
    assert page == {
        "ia::result": [rows[0]],
        "ia::meta": {"totalCount": 2, "start": 2, "pageSize": 1, "next": None, "previous": 1},
    }
    # Grouping by two fields, one of them computed through the reference.
    rows = result(
        forced_api,
        object=LINE,
        fields=["component.trackingType", "defaultDeliveryStatus", "count:key"],
        orderBy=[{"defaultDeliveryStatus": "desc"}],
    )
    assert rows == [
        {
            "component.trackingType": "untracked",
            "defaultDeliveryStatus": "undelivered",
            "count:key": 2,
        },
        {"component.trackingType": "lot", "defaultDeliveryStatus": "delivered", "count:key": 2},
        {"component.trackingType": "serial", "defaultDeliveryStatus": "delivered", "count:key": 1},
    ]


def test_aggregates_without_grouping_answer_one_row(forced_api, catalogue):
    body = {
        "object": LINE,
        "fields": [
            "count:key",
            "count:revenuePercentage",
            "sum:numberOfUnits",
            "min:revenuePercentage",
            "max:revenuePercentage",
            "avg:revenuePercentage",
            "avg:lineNumber",
            "min:kit.id",
        ],
    }
    assert post(forced_api, body).json() == {
        "ia::result": [
            {
                "count:key": 5,
                "count:revenuePercentage": 3,  # nulls are not counted
                "sum:numberOfUnits": 7.75,
                "min:revenuePercentage": 20,
                "max:revenuePercentage": 80,
                "avg:revenuePercentage": 50,
                "avg:lineNumber": 1.8,
                "min:kit.id": "Kit_1",
            }
        ],
        "ia::meta": {"totalCount": 1, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    empty = {**body, "filters": [{"$eq": {"kit.id": "nothing"}}]}
    assert post(forced_api, empty).json()["ia::result"] == [
        {
            "count:key": 0,
            "count:revenuePercentage": 0,
            "sum:numberOfUnits": None,
            "min:revenuePercentage": None,
            "max:revenuePercentage": None,
            "avg:revenuePercentage": None,
            "avg:lineNumber": None,
            "min:kit.id": None,
        }
    ]
    assert post(forced_api, {**body, "start": 2}).json() == {
        "ia::result": [],
        "ia::meta": {"totalCount": 1, "start": 2, "pageSize": 100, "next": None, "previous": 1},
    }


def test_null_is_a_group_of_its_own_and_sorts_first(forced_api, catalogue):
    rows = result(forced_api, object=LINE, fields=["revenuePercentage", "count:key"])
    assert rows == [
        {"revenuePercentage": None, "count:key": 2},
        {"revenuePercentage": 20, "count:key": 1},
        {"revenuePercentage": 50, "count:key": 1},
        {"revenuePercentage": 80, "count:key": 1},
    ]


# --- ordering and paging ----------------------------------------------------------------------
def test_rows_come_by_key_unless_ordered(forced_api, catalogue):
    assert item_ids(forced_api) == ALL_IDS
    by_name = item_ids(forced_api, orderBy=[{"name": "asc"}])
    assert by_name == [
        "NonInv",  # Consulting hour
        "Kit_1",  # Office kit
        "Prnt_Paper",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
        "Tape",
        "Ink",  # ink Cartridge: lower case sorts after upper case
    ]
    assert item_ids(forced_api, orderBy=[{"name": "DESC"}]) == by_name[::-1]
    assert item_ids(
        forced_api, orderBy=[{"itemType": "asc"}, {"purchasing.standardCost": "desc"}]
    ) == [
        "Prnt_Paper",
        "Ink",
        "Tape",
        "Kit_1",
        "NonInv",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
    ]
    # Ties break by key.
    assert item_ids(forced_api, orderBy=[{"trackingType": "desc"}]) == [
        "Kit_1",
        "Ink",
        "NonInv",
        "Tape",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
        "Prnt_Paper",
    ]


def test_order_by_reference_paths_and_nulls(forced_api, catalogue):
    def lines(*order):
        return line_names(catalogue, forced_api, orderBy=list(order))

    assert lines({"component.name": "asc"}, {"lineNumber": "desc"}) == [
        "L2",
        "L5",
        "L1",
        "L3",
        "L4",
    ]
    assert lines({"kit.id": "desc"}, {"numberOfUnits": "asc"}) == ["L5", "L4", "L3", "L2", "L1"]
    # A null is the lowest value: first ascending, last descending.
    assert lines({"revenuePercentage": "asc"}) == ["L2", "L5", "L3", "L1", "L4"]
    assert lines({"revenuePercentage": "desc"}) == ["L4", "L1", "L3", "L2", "L5"]


def test_paging_meta_at_the_edges(forced_api, catalogue):
    def page(**body):
        return post(forced_api, {"object": ITEM, "fields": ["id"], **body}).json()

    def meta(total, start, size, next_, previous):
        return {
            "totalCount": total,
            "start": start,
            "pageSize": size,
            "next": next_,
            "previous": previous,
        }

    assert page(filters=[{"$eq": {"id": "none"}}]) == {
        "ia::result": [],
        "ia::meta": meta(0, 1, 100, None, None),
    }
    first = page(size=3)
    assert first == {
        "ia::result": [{"id": "Kit_1"}, {"id": "SKit_1"}, {"id": "Prnt_Paper"}],
        "ia::meta": meta(8, 1, 3, 4, None),
    }
    assert page(start=4, size=3)["ia::meta"] == meta(8, 4, 3, 7, 1)
    last = page(start=7, size=3)
    assert last == {
        "ia::result": [{"id": "PurchOnly"}, {"id": "SalesOnly"}],
        "ia::meta": meta(8, 7, 3, None, 4),
    }
    exact = page(start=6, size=3)
    assert exact["ia::result"] == [{"id": "Tape"}, {"id": "PurchOnly"}, {"id": "SalesOnly"}]
    assert exact["ia::meta"] == meta(8, 6, 3, None, 3)
    assert page(start=20, size=3) == {"ia::result": [], "ia::meta": meta(8, 20, 3, None, 17)}
    assert page(size=4000) == {
        "ia::result": [{"id": code} for code in ALL_IDS],
        "ia::meta": meta(8, 1, 4000, None, None),
    }
    # What clients send for "nothing": null, [] and {} mean the defaults.
    defaults = page(
        filters=[], filterExpression=None, orderBy=[], filterParameters={}, start=None, size=None
    )
    assert defaults == {
        "ia::result": [{"id": code} for code in ALL_IDS],
        "ia::meta": meta(8, 1, 100, None, None),
    }
    assert page(filters=None, orderBy=None, filterParameters=None, filterExpression="")[
        "ia::meta"
    ] == meta(8, 1, 100, None, None)


# --- what a row holds -------------------------------------------------------------------------
def flatten(value, prefix=""):
    """A GET result as the query's flat dot paths (lists are not selectable)."""
    out = {}
    for name, member in value.items():
        if isinstance(member, dict):
            out.update(flatten(member, f"{prefix}{name}."))
        elif not isinstance(member, list):
            out[f"{prefix}{name}"] = member
    return out


@pytest.mark.parametrize("object_name", [ITEM, LINE, "inventory-control/warehouse"])
def test_query_rows_equal_the_objects_get(forced_api, catalogue, admin_user, object_name):
    """Every member GET renders is selectable, and renders the same (key/id strings, decimal
    strings, JSON numbers, booleans, UTC date-times, nulls)."""
    inventory_services.warehouse_create(user=admin_user, code="WH1", name="Main")
    listed = forced_api.get(f"/objects/{object_name}?size=4000").json()["ia::result"]
    expected = [flatten(forced_api.get(ref["href"]).json()["ia::result"]) for ref in listed]
    fields = list(expected[0])
    assert "key" in fields and "audit.createdByUser.href" in fields
    assert result(forced_api, object=object_name, fields=fields, size=4000) == expected


def test_rows_are_flat_and_typed(forced_api, catalogue, admin_user):
    line = catalogue.lines["L1"]
    rows = result(
        forced_api,
        object=LINE,
        fields=[
            "key",
            "id",
            "href",
            "kit.key",
            "kit.id",
            "kit.href",
            "component.standardCost",
            "component.trackingType",
            "component.tracking.enableLotCategory",
            "numberOfUnits",
            "revenuePercentage",
            "lineNumber",
            "audit.createdBy",
            "audit.createdByUser.id",
        ],
        filters=[{"$eq": {"key": str(line.pk)}}],
    )
    assert rows == [
        {
            "key": str(line.pk),
            "id": str(line.pk),
            "href": f"/objects/inventory-control/kit-component/{line.pk}",
            "kit.key": catalogue.key("Kit_1"),
            "kit.id": "Kit_1",
            "kit.href": f"/objects/inventory-control/item/{catalogue.key('Kit_1')}",
            "component.standardCost": "125.67",
            "component.trackingType": "lot",
            "component.tracking.enableLotCategory": True,
            "numberOfUnits": 2,
            "revenuePercentage": 50,
            "lineNumber": 1,
            "audit.createdBy": str(admin_user.pk),
            "audit.createdByUser.id": "admin",
        }
    ]


def test_duplicate_fields_are_returned_once_and_the_v1_path_works(forced_api, catalogue):
    response = forced_api.post(
        "/ia/api/v1/services/core/query",
        {"object": ITEM, "fields": ["id", "id", "name"], "filters": [KIT_1]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["ia::result"] == [{"id": "Kit_1", "name": "Office kit"}]


# --- one rows query, one count query ----------------------------------------------------------
MANY_FIELDS = [
    "key",
    "href",
    "kit.id",
    "kit.name",
    "kit.audit.createdDateTime",
    "component.id",
    "component.name",
    "component.standardCost",
    "component.trackingType",
    "component.tracking.enableSerialNo",
    "component.audit.createdByUser.id",
    "numberOfUnits",
    "audit.createdByUser.id",
    "audit.modifiedByUser.href",
]


def _lines(admin_user, add_line, count):
    kit = inventory_services.item_create(user=admin_user, code="Big", name="Big", item_type="kit")
    for n in range(count):
        part = inventory_services.item_create(
            user=admin_user, code=f"P{n}", name=f"Part {n}", item_type="inventory"
        )
        add_line(kit, part, n + 1)


@pytest.mark.parametrize("count", [1, 40])
def test_one_rows_query_and_one_count_query(forced_api, admin_user, add_line, count):
    _lines(admin_user, add_line, count)
    bodies = [
        {"object": LINE, "fields": MANY_FIELDS, "size": 4000},
        {"object": LINE, "fields": ["key"], "size": 1},
        {
            "object": LINE,
            "fields": MANY_FIELDS,
            "filters": [
                {"$eq": {"kit.id": "Big"}},
                {"$has": {"component.kitComponents.component.id": "nothing"}},
                {"$eq": {"component.trackingType": "untracked"}},
                {"$contains": {"component.audit.createdByUser.id": "adm"}},
            ],
            "filterExpression": "1 and (2 or 3 and 4)",
            "orderBy": [{"component.trackingType": "asc"}, {"kit.audit.createdDateTime": "desc"}],
            "size": 4000,
        },
        {
            "object": ITEM,
            "fields": ["itemType", "trackingType", "count:key"],
            "filters": [{"$has": {"kitComponents.component.trackingType": "untracked"}}],
            "size": 4000,
        },
    ]
    for body in bodies:
        with CaptureQueriesContext(connection) as queries:
            response = post(forced_api, body)
        assert response.status_code == 200, response.json()
        assert response.json()["ia::meta"]["totalCount"] >= 1
        sqls = [q["sql"] for q in queries.captured_queries]
        assert len(sqls) == 2, sqls
        assert "COUNT(" in sqls[0].upper()
    with CaptureQueriesContext(connection) as queries:
        assert (
            post(
                forced_api, {"object": LINE, "fields": ["count:key", "sum:numberOfUnits"]}
            ).status_code
            == 200
        )
    assert len(queries.captured_queries) == 1  # totals: one row, nothing to count


def test_no_rows_query_when_nothing_matches(forced_api, catalogue):
    with CaptureQueriesContext(connection) as queries:
        assert (
            post(
                forced_api, {"object": ITEM, "fields": ["id"], "filters": [{"$eq": {"id": "x"}}]}
            ).json()["ia::result"]
            == []
        )
    assert len(queries.captured_queries) == 1


# --- permissions ------------------------------------------------------------------------------
def test_unauthenticated_is_401(catalogue):
    anonymous = APIClient()
    response = anonymous.post(QUERY, {"object": ITEM, "fields": ["id"]}, format="json")
    assert error(response) == (
        401,
        "KS-4011",
        None,
        "Authentication credentials were not provided",
    )
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert error(anonymous.post(QUERY, {"object": ITEM, "fields": ["id"]}, format="json"))[:2] == (
        401,
        "KS-4012",
    )


def test_a_user_queries_only_what_they_may_view(catalogue, client_for):
    forbidden = (403, "KS-4031", None, "You do not have permission to perform this action")
    nobody = client_for(make_user("nobody"))
    assert error(post(nobody, {"object": ITEM, "fields": ["id"]})) == forbidden
    # Forbidden before the query is even checked: nothing is learned about the object.
    assert error(post(nobody, {"object": ITEM, "fields": ["bogus"]})) == forbidden

    lines_only = client_for(make_user("lines", "kitcomponents.view_kitcomponent"))
    assert error(post(lines_only, {"object": ITEM, "fields": ["id"]})) == forbidden
    # A reference's own members (key, id, href and its extras) come with the line...
    rows = result(
        lines_only,
        object=LINE,
        fields=["key", "kit.id", "component.name", "component.standardCost", "component.href"],
        filters=[{"$eq": {"component.itemType": "inventory"}}],
    )
    names = [row["component.name"] for row in rows]
    assert names == ["Paper for Printer", "ink Cartridge", "Paper for Printer"]
    # ...anything else of the item needs permission to view items, in fields, filters or order.
    for body in (
        {"fields": ["component.tracking.enableSerialNo"]},
        {"fields": ["key"], "filters": [{"$eq": {"kit.status": "active"}}]},
        {"fields": ["key"], "orderBy": [{"component.audit.createdDateTime": "asc"}]},
    ):
        assert error(post(lines_only, {"object": LINE, **body})) == forbidden

    items_only = client_for(make_user("items", "inventory.view_item"))
    assert item_ids(items_only, {"$eq": {"id": "Tape"}}) == ["Tape"]
    has = {"$has": {"kitComponents.component.id": "Ink"}}
    assert (
        error(post(items_only, {"object": ITEM, "fields": ["id"], "filters": [has]})) == forbidden
    )

    both = client_for(make_user("both", "inventory.view_item", "kitcomponents.view_kitcomponent"))
    assert item_ids(both, has) == ["SKit_1"]


# --- errors -----------------------------------------------------------------------------------
def base(**body):
    return {"object": ITEM, "fields": ["id"], **body}


OPERATORS = (
    "$eq, $ne, $in, $notIn, $lt, $lte, $gt, $gte, $between, $notBetween, $contains, $notContains, "
    "$startsWith, $notStartsWith, $endsWith, $notEndsWith, $has"
)
ERRORS = [
    # The object and the fields.
    (
        {"fields": ["id"]},
        "KS-4004",
        "/object",
        "Invalid query: object is required, such as inventory-control/item",
    ),
    (
        base(object=5),
        "KS-4004",
        "/object",
        "Invalid query: object must be a string, such as inventory-control/item",
    ),
    (
        base(object="inventory-control/bogus"),
        "REST-1043",
        "inventory-control/bogus",
        "inventory-control/bogus is not a valid field",
    ),
    (
        {"object": ITEM},
        "KS-4004",
        "/fields",
        'Invalid query: fields is required: list the fields to return, like ["key"]',
    ),
    (
        base(fields=[]),
        "KS-4004",
        "/fields",
        'Invalid query: fields is required: list the fields to return, like ["key"]',
    ),
    (
        base(fields="id"),
        "KS-4004",
        "/fields",
        "Invalid query: fields must be an array of field names",
    ),
    (
        base(fields=["id", 3]),
        "KS-4004",
        "/fields/1",
        "Invalid query: fields must be field names (strings)",
    ),
    (
        base(fields=["*"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: * is not allowed: list the fields to return",
    ),
    (base(fields=["id", "bogus"]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(fields=["tracking.bogus"]),
        "REST-1043",
        "tracking.bogus",
        "tracking.bogus is not a valid field",
    ),
    (
        base(object=LINE, fields=["kit.bogus"]),
        "REST-1043",
        "kit.bogus",
        "kit.bogus is not a valid field",
    ),
    (
        base(object=LINE, fields=["component.kit.id"]),
        "REST-1043",
        "component.kit.id",
        "component.kit.id is not a valid field",
    ),
    (
        base(fields=["audit.createdByUser.email"]),
        "REST-1043",
        "audit.createdByUser.email",
        "audit.createdByUser.email is not a valid field",
    ),
    (base(fields=[""]), "REST-1043", "", " is not a valid field"),
    (
        base(object=LINE, fields=["kit"]),
        "KS-4004",
        "kit",
        "Invalid query: kit is a reference: name a member such as kit.id",
    ),
    (
        base(fields=["purchasing"]),
        "KS-4004",
        "purchasing",
        "Invalid query: purchasing is a group: name its members (purchasing.standardCost)",
    ),
    (
        base(fields=["kitComponents"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: kitComponents is a list: it cannot be selected, filter it with $has",
    ),
    (
        base(fields=["kitComponents.key"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: kitComponents.key is a list: it cannot be selected, filter it with $has",
    ),
    (
        base(fields=["total:key"]),
        "KS-4004",
        "/fields/0",
        'Invalid query: "total" is not an aggregate: use count, sum, avg, min or max',
    ),
    (base(fields=["count:bogus"]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(fields=["sum:name"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: sum:name: sum does not apply to name, a string field",
    ),
    (
        base(fields=["max:tracking.enableSerialNo"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: max:tracking.enableSerialNo: max does not apply to "
        "tracking.enableSerialNo, a boolean field",
    ),
    (
        base(fields=["count:href"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: count:href: count does not apply to href, a href field",
    ),
    # Filters.
    (base(filters={}), "KS-4004", "/filters", "Invalid query: filters must be an array"),
    (
        base(filters=[KIT_1, 1]),
        "KS-4004",
        "/filters/1",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": {"id": "a"}, "$ne": {"id": "b"}}]),
        "KS-4004",
        "/filters/0",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": {"id": "a", "name": "b"}}]),
        "KS-4004",
        "/filters/0/$eq",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": "a"}]),
        "KS-4004",
        "/filters/0/$eq",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$like": {"name": "a%"}}]),
        "KS-4007",
        "/filters/0/$like/name",
        "Invalid query: $like cannot be used on name: it is not an operator: use one "
        f"of {OPERATORS}",
    ),
    (base(filters=[{"$eq": {"bogus": 1}}]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(filters=[{"$eq": {"href": "/objects/inventory-control/item/1"}}]),
        "KS-4007",
        "/filters/0/$eq/href",
        "Invalid query: $eq cannot be used on href: href can only be selected, not filtered",
    ),
    (
        base(object=LINE, filters=[{"$eq": {"kit.href": "x"}}]),
        "KS-4007",
        "/filters/0/$eq/kit.href",
        "Invalid query: $eq cannot be used on kit.href: href can only be selected, not filtered",
    ),
    (
        base(filters=[{"$contains": {"purchasing.standardCost": "1"}}]),
        "KS-4007",
        "/filters/0/$contains/purchasing.standardCost",
        "Invalid query: $contains cannot be used on purchasing.standardCost: "
        "purchasing.standardCost is a number field; $contains works on string fields",
    ),
    (
        base(filters=[{"$lt": {"tracking.enableSerialNo": True}}]),
        "KS-4007",
        "/filters/0/$lt/tracking.enableSerialNo",
        "Invalid query: $lt cannot be used on tracking.enableSerialNo: tracking.enableSerialNo "
        "is a boolean field; $lt works on date, datetime, integer, key, number or string fields",
    ),
    (
        base(filters=[{"$startsWith": {"audit.createdDateTime": "2024"}}]),
        "KS-4007",
        "/filters/0/$startsWith/audit.createdDateTime",
        "Invalid query: $startsWith cannot be used on audit.createdDateTime: audit.createdDateTime "
        "is a datetime field; $startsWith works on string fields",
    ),
    (
        base(filters=[{"$has": {"name": "x"}}]),
        "KS-4007",
        "/filters/0/$has/name",
        "Invalid query: $has cannot be used on name: name is not a list",
    ),
    (
        base(filters=[{"$eq": {"kitComponents": "1"}}]),
        "KS-4007",
        "/filters/0/$eq/kitComponents",
        "Invalid query: $eq cannot be used on kitComponents: kitComponents is a list: "
        "only $has looks inside it",
    ),
    (
        base(filters=[{"$has": {"kitComponents.bogus": "1"}}]),
        "REST-1043",
        "kitComponents.bogus",
        "kitComponents.bogus is not a valid field",
    ),
    (
        base(filters=[{"$has": {"kitComponents.href": "1"}}]),
        "KS-4007",
        "/filters/0/$has/kitComponents.href",
        "Invalid query: $has cannot be used on kitComponents.href: href cannot be compared "
        "inside the list",
    ),
    # Values.
    (
        base(filters=[{"$eq": {"name": 5}}]),
        "KS-4008",
        "/filters/0/$eq/name",
        "Invalid query: $eq on name takes a string or null, not 5",
    ),
    (
        base(filters=[{"$lt": {"name": None}}]),
        "KS-4008",
        "/filters/0/$lt/name",
        "Invalid query: $lt on name takes a string, not null",
    ),
    (
        base(filters=[{"$contains": {"name": ["a"]}}]),
        "KS-4008",
        "/filters/0/$contains/name",
        'Invalid query: $contains on name takes a string, not ["a"]',
    ),
    (
        base(filters=[{"$in": {"name": "Tape"}}]),
        "KS-4008",
        "/filters/0/$in/name",
        'Invalid query: $in on name takes an array of values, each a string, not "Tape"',
    ),
    (
        base(filters=[{"$notIn": {"name": ["a", None]}}]),
        "KS-4008",
        "/filters/0/$notIn/name",
        'Invalid query: $notIn on name takes an array of values, each a string, not ["a", null]',
    ),
    (
        base(filters=[{"$between": {"purchasing.standardCost": [1]}}]),
        "KS-4008",
        "/filters/0/$between/purchasing.standardCost",
        "Invalid query: $between on purchasing.standardCost takes [from, to]: two values, "
        "each a number, not [1]",
    ),
    (
        base(filters=[{"$notBetween": {"purchasing.standardCost": [1, "x"]}}]),
        "KS-4008",
        "/filters/0/$notBetween/purchasing.standardCost",
        "Invalid query: $notBetween on purchasing.standardCost takes [from, to]: two "
        'values, each a number, not [1, "x"]',
    ),
    (
        base(filters=[{"$gt": {"purchasing.standardCost": "NaN"}}]),
        "KS-4008",
        "/filters/0/$gt/purchasing.standardCost",
        'Invalid query: $gt on purchasing.standardCost takes a number, not "NaN"',
    ),
    (
        base(filters=[{"$gt": {"purchasing.standardCost": True}}]),
        "KS-4008",
        "/filters/0/$gt/purchasing.standardCost",
        "Invalid query: $gt on purchasing.standardCost takes a number, not true",
    ),
    (
        base(filters=[{"$eq": {"tracking.enableSerialNo": "true"}}]),
        "KS-4008",
        "/filters/0/$eq/tracking.enableSerialNo",
        'Invalid query: $eq on tracking.enableSerialNo takes true or false or null, not "true"',
    ),
    (
        base(filters=[{"$eq": {"key": "abc"}}]),
        "KS-4008",
        "/filters/0/$eq/key",
        'Invalid query: $eq on key takes a key (a string of digits) or null, not "abc"',
    ),
    (
        base(filters=[{"$gt": {"key": -1}}]),
        "KS-4008",
        "/filters/0/$gt/key",
        "Invalid query: $gt on key takes a key (a string of digits), not -1",
    ),
    (
        base(object=LINE, filters=[{"$eq": {"lineNumber": 1.5}}]),
        "KS-4008",
        "/filters/0/$eq/lineNumber",
        "Invalid query: $eq on lineNumber takes an integer or null, not 1.5",
    ),
    (
        base(filters=[{"$eq": {"audit.createdDateTime": "someday"}}]),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a "
        'date or a date macro or null, not "someday"',
    ),
    (
        base(filters=[{"$lt": {"audit.createdDateTime": "2024-13-01"}}]),
        "KS-4008",
        "/filters/0/$lt/audit.createdDateTime",
        "Invalid query: $lt on audit.createdDateTime takes a date-time (ISO 8601), a "
        'date or a date macro, not "2024-13-01"',
    ),
    (
        base(filters=[{"$in": {"name": "y" * 100}}]),
        "KS-4008",
        "/filters/0/$in/name",
        'Invalid query: $in on name takes an array of values, each a string, not "'
        + "y" * 76
        + "...",
    ),
    # filterExpression.
    (
        base(filters=[KIT_1, INK], filterExpression="1 and"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 and" is invalid: expected a filter number '
        "or '(' at position 6, found the end",
    ),
    (
        base(filters=[KIT_1, INK], filterExpression="(1 or 2"),
        "KS-4009",
        "/filterExpression",
        "Invalid query: filterExpression \"(1 or 2\" is invalid: expected ')' to close "
        "'(' at position 1, found the end at position 8",
    ),
    (
        base(filters=[KIT_1, INK], filterExpression="1 or 3"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 or 3" is invalid: filter 3 at position 6 '
        "does not exist: there are 2 filters",
    ),
    (
        base(filters=[KIT_1, INK, INACTIVE], filterExpression="1 or 2"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 or 2" is invalid: filter 3 not used: every '
        "filter must appear in the expression",
    ),
    (
        base(filterExpression="1"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1" is invalid: filter 1 at position 1 does '
        "not exist: there are no filters",
    ),
    (
        base(filters=[KIT_1], filterExpression="1 nand 1"),
        "KS-4009",
        "/filterExpression",
        "Invalid query: filterExpression \"1 nand 1\" is invalid: expected 'and', 'or' "
        "or the end at position 3, found 'nand'",
    ),
    (
        base(filters=[KIT_1], filterExpression=1),
        "KS-4004",
        "/filterExpression",
        'Invalid query: filterExpression must be a string, like "1 and 2"',
    ),
    # filterParameters.
    (
        base(filterParameters="yes"),
        "KS-4004",
        "/filterParameters",
        "Invalid query: filterParameters must be an object",
    ),
    (
        base(filterParameters={"caseSensitiveComparison": "no"}),
        "KS-4004",
        "/filterParameters/caseSensitiveComparison",
        "Invalid query: caseSensitiveComparison must be true or false",
    ),
    (
        base(filterParameters={"includePrivate": 1}),
        "KS-4004",
        "/filterParameters/includePrivate",
        "Invalid query: includePrivate must be true or false",
    ),
    (
        base(filterParameters={"asOfDate": "15/05/2024"}),
        "KS-4004",
        "/filterParameters/asOfDate",
        "Invalid query: asOfDate must be a date (YYYY-MM-DD)",
    ),
    (
        base(filterParameters={"asOfDate": "2024-02-30"}),
        "KS-4004",
        "/filterParameters/asOfDate",
        "Invalid query: asOfDate must be a date (YYYY-MM-DD)",
    ),
    # orderBy.
    (
        base(orderBy={"id": "asc"}),
        "KS-4004",
        "/orderBy",
        'Invalid query: orderBy must be an array like [{"id": "asc"}]',
    ),
    (
        base(orderBy=[{"id": "up"}]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (
        base(orderBy=[{"id": "asc", "name": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (
        base(orderBy=["id"]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (base(orderBy=[{"bogus": "asc"}]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(orderBy=[{"href": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: href cannot be used in orderBy: it can only be selected",
    ),
    (
        base(orderBy=[{"kitComponents.numberOfUnits": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: kitComponents.numberOfUnits is a list: it cannot order the rows",
    ),
    (
        base(orderBy=[{"count:key": "asc"}]),
        "REST-1043",
        "count:key",
        "count:key is not a valid field",
    ),
    (
        base(fields=["itemType", "count:key"], orderBy=[{"name": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: name is not among the fields grouped by: an aggregating query "
        "orders by its selected fields and aggregates only",
    ),
    # Sizes and values no database would take.
    (
        base(fields=[":key"]),
        "KS-4004",
        "/fields/0",
        'Invalid query: "" is not an aggregate: use count, sum, avg, min or max',
    ),
    (
        base(fields=["id"] * 201),
        "KS-4004",
        "/fields",
        "Invalid query: a query returns at most 200 fields",
    ),
    (
        base(filters=[KIT_1] * 101),
        "KS-4004",
        "/filters",
        "Invalid query: a query takes at most 100 filters",
    ),
    (
        base(orderBy=[{"id": "asc"}] * 21),
        "KS-4004",
        "/orderBy",
        "Invalid query: orderBy takes at most 20 entries",
    ),
    (
        base(filters=[{"$in": {"name": ["a"] * 300}}, {"$notIn": {"id": ["b"] * 201}}]),
        "KS-4004",
        "/filters/1/$notIn/id",
        "Invalid query: a query compares at most 500 values in all its filters",
    ),
    (
        base(filters=[{"$in": {"audit.createdDateTime": ["today"] * 101}}]),
        "KS-4004",
        "/filters/0/$in/audit.createdDateTime",
        "Invalid query: a query compares at most 100 dates in lists",
    ),
    (
        base(filters=[{"$eq": {"name": "a\x00b"}}]),
        "KS-4008",
        "/filters/0/$eq/name",
        'Invalid query: $eq on name takes a string or null, not "a\\u0000b"',
    ),
    (
        base(filters=[{"$eq": {"key": 2**63}}]),
        "KS-4008",
        "/filters/0/$eq/key",
        "Invalid query: $eq on key takes a key (a string of digits) or null, "
        "not 9223372036854775808",
    ),
    (
        base(object=LINE, filters=[{"$gt": {"lineNumber": 10**30}}]),
        "KS-4008",
        "/filters/0/$gt/lineNumber",
        "Invalid query: $gt on lineNumber takes an integer, not 1000000000000000000000000000000",
    ),
    (
        base(filters=[{"$eq": {"audit.createdDateTime": "9999-12-31"}}]),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a date or a "
        'date macro or null, not "9999-12-31"',
    ),
    (
        base(
            filters=[{"$eq": {"audit.createdDateTime": "yesterday"}}],
            filterParameters={"asOfDate": "0001-01-01"},
        ),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a date or a "
        'date macro or null, not "yesterday"',
    ),
    (
        base(filters=[KIT_1], filterExpression="(" * 33 + "1" + ")" * 33),
        "KS-4009",
        "/filterExpression",
        f'Invalid query: filterExpression "{"(" * 33}1{")" * 33}" is invalid: parentheses nested '
        "deeper than 32 levels at position 33",
    ),
    # Paging.
    (
        base(start=0),
        "KS-4003",
        "start",
        "Query parameter start is invalid: must be an integer at least 1",
    ),
    (
        base(size=4001),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
    (
        base(size=True),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
    (
        base(size="ten"),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
]


@pytest.mark.parametrize(("body", "error_id", "target", "message"), ERRORS)
def test_every_malformed_query_is_a_400_naming_the_problem(
    forced_api, catalogue, body, error_id, target, message
):
    response = post(forced_api, body)
    assert error(response) == (400, error_id, target, message)


def test_error_body_in_full(forced_api, catalogue):
    response = post(forced_api, base(filters=[{"$eq": {"name": 5}}]))
    assert response.json() == {
        "ia::result": {
            "ia::error": {
                "code": "invalidRequest",
                "message": "Invalid query: $eq on name takes a string or null, not 5",
                "errorId": "KS-4008",
                "target": "/filters/0/$eq/name",
                "additionalInfo": {
                    "messageId": "KS.QUERY_INVALID_VALUE",
                    "placeholders": {
                        "OPERATOR": "$eq",
                        "FIELD": "name",
                        "EXPECTED": "a string or null",
                        "VALUE": "5",
                    },
                    "propertySet": {},
                },
                "supportId": response["X-Request-Id"],
            }
        },
        "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1},
    }


def test_unknown_members_are_rest_1064_with_a_detail_each(forced_api, catalogue):
    body = base(filters=[], bogus=1, filterParameters={"caseSensitiveComparison": True, "nope": 1})
    response = post(forced_api, body)
    assert error(response) == (400, "REST-1064", None, "Payload contains errors")
    details = response.json()["ia::result"]["ia::error"]["details"]
    assert [(d["errorId"], d["target"], d["message"]) for d in details] == [
        ("REST-1043", "/bogus", "/bogus is not a valid field"),
        ("REST-1043", "/filterParameters/nope", "/filterParameters/nope is not a valid field"),
    ]
    # What Intacct clients send is accepted.
    accepted = {"includePrivate": False, "includeHierarchyFields": False, "asOfDate": None}
    assert post(forced_api, base(filterParameters=accepted)).status_code == 200


def test_protocol_errors(forced_api, catalogue):
    assert error(forced_api.post(QUERY, "", content_type="application/json")) == (
        400,
        "REST-1028",
        None,
        "A POST request requires a payload",
    )
    assert error(forced_api.post(QUERY, ["id"], format="json"))[:2] == (400, "KS-4002")
    assert error(forced_api.post(QUERY, "{nope", content_type="application/json"))[:2] == (
        400,
        "KS-4001",
    )
    assert error(forced_api.post(QUERY, {"object": ITEM}, format="multipart"))[:2] == (
        415,
        "KS-4151",
    )
    assert error(forced_api.get(QUERY))[:2] == (405, "KS-4051")


# --- OpenAPI ----------------------------------------------------------------------------------
def test_the_schema_documents_the_real_request_and_response(db):
    from drf_spectacular.generators import SchemaGenerator
    from openapi_spec_validator import validate

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate(schema)
    operation = schema["paths"]["/services/core/query"]["post"]
    assert "/ia/api/v1/services/core/query" not in schema["paths"]
    components = schema["components"]["schemas"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QueryRequest"
    }
    request = components["QueryRequest"]
    assert request["required"] == ["object", "fields"]
    assert request["additionalProperties"] is False
    assert set(request["properties"]) == {
        "object",
        "fields",
        "filters",
        "filterExpression",
        "filterParameters",
        "orderBy",
        "start",
        "size",
    }
    operators = request["properties"]["filters"]["items"]["properties"]
    assert list(operators) == [
        "$eq",
        "$ne",
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$in",
        "$notIn",
        "$between",
        "$notBetween",
        "$contains",
        "$notContains",
        "$startsWith",
        "$notStartsWith",
        "$endsWith",
        "$notEndsWith",
        "$has",
    ]
    assert request["properties"]["size"]["maximum"] == 4000
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["properties"]["ia::result"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/QueryRow"},
    }
    assert ok["properties"]["ia::meta"]["required"] == [
        "totalCount",
        "start",
        "pageSize",
        "next",
        "previous",
    ]
    assert list(operation["responses"]) == ["200", "400", "401", "403", "415", "429", "500"]
    for status in ("400", "401", "403", "415", "429", "500"):
        content = operation["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
    # The objects that can be queried are listed (an enum component of the registered names).
    enum = request["properties"]["object"]
    ref = enum.get("$ref") or enum["allOf"][0]["$ref"]
    names = components[ref.rsplit("/", 1)[1]]["enum"]
    assert {ITEM, LINE, "inventory-control/warehouse"} <= set(names)


def test_the_largest_accepted_queries(forced_api, catalogue):
    days = [(dt.date(2024, 2, 5) + dt.timedelta(days=n)).isoformat() for n in range(100)]
    assert days[-1] == "2024-05-14"
    created = {"$in": {"audit.createdDateTime": days}}
    others = [{"$in": {"name": [f"{n}"] * 100}} for n in range(4)]
    assert item_ids(forced_api, created, *others, filterExpression="or") == but(
        "Kit_1", "SalesOnly"
    )
    nested = "(" * 32 + "1" + ")" * 32
    assert item_ids(forced_api, KIT_1, filterExpression=nested) == ["Kit_1"]
    many = [{"$ne": {"id": f"x{n}"}} for n in range(99)]
    assert item_ids(forced_api, KIT_1, *many, filterExpression="or") == ALL_IDS
    assert result(forced_api, object=ITEM, fields=["id"] * 200, orderBy=[{"id": "asc"}] * 20)
