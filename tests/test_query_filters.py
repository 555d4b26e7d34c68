"""POST /services/core/query (contract 9): the filter operators on each kind of field, date macros
and filterExpression, through real HTTP on a real database."""

import pytest

from inventory import services as inventory_services
from tests.support.query import ALL_IDS, INACTIVE, INK, KIT_1, but, item_ids, line_names


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
