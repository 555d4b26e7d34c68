"""The query service never answers odd but valid JSON with a 500: aggregates over computed fields,
oversized filter expressions, lone surrogates, huge numbers, odd dates and keys."""

import json

import pytest

from config.api.query import registry
from config.api.query.build import MAX_PERIODS
from config.api.query.expression import MAX_REFERENCES
from config.api.query.parse import AGGREGATES
from tests.support.factories import part, stock

QUERY = "/services/core/query"
ITEM = "inventory-control/item"
INVENTORY = "inventory-control/part-inventory"
META = {"totalCount": 1, "totalSuccess": 0, "totalError": 1}


def post(api, body):
    # Raw text: the client's own encoder refuses lone surrogates, which a request may carry.
    return api.post(QUERY, json.dumps(body), content_type="application/json")


def error_body(response, error_id, message_id, message, target, placeholders):
    return {
        "ia::result": {
            "ia::error": {
                "code": "invalidRequest",
                "message": message,
                "errorId": error_id,
                "target": target,
                "additionalInfo": {
                    "messageId": message_id,
                    "placeholders": placeholders,
                    "propertySet": {},
                },
                "supportId": response["X-Request-Id"],
            }
        },
        "ia::meta": META,
    }


def assert_invalid_query(response, target, reason):
    assert response.status_code == 400
    assert response.json() == error_body(
        response,
        "KS-4004",
        "KS.INVALID_QUERY",
        f"Invalid query: {reason}",
        target,
        {"REASON": reason},
    )


def assert_invalid_expression(response, expression, reason):
    assert response.status_code == 400
    assert response.json() == error_body(
        response,
        "KS-4009",
        "KS.QUERY_INVALID_EXPRESSION",
        f"Invalid query: filterExpression {expression} is invalid: {reason}",
        "/filterExpression",
        {"EXPRESSION": expression, "REASON": reason},
    )


def totals(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ia::meta"]["totalCount"] == 1
    return body["ia::result"]


# --- 1. aggregates over computed fields -----------------------------------------------------
REQUIREMENT = "inventory-control/requirement"
STOCK_FIGURES = ("onHandQuantity", "availableQuantity", "kittedQuantity", "buildableQuantity")
REQUIREMENT_FIGURES = ("shortQuantity", "availableQuantity", "uncoveredQuantity")
# Every computed (SQL expression) field of every registered object, and its kind.
COMPUTED = {
    (ITEM, "trackingType"): "string",
    (INVENTORY, "trackingType"): "string",
    (INVENTORY, "kitted"): "boolean",
    (INVENTORY, "installed"): "boolean",
    (INVENTORY, "status"): "string",
    (INVENTORY, "etag"): "string",
    **{(ITEM, path): "number" for path in STOCK_FIGURES},
    **{(REQUIREMENT, path): "number" for path in REQUIREMENT_FIGURES},
}
APPLIES = {
    "string": ("count", "min", "max"),
    "boolean": ("count",),
    "number": ("count", "sum", "avg", "min", "max"),
}


def test_the_computed_fields_listed_here_are_all_there_are(client):
    client.get("/")  # the URLconf registers the objects
    found = {
        (name, path): str(column.kind)
        for name in registry.names()
        for path, column in registry.get(name).fields.columns.items()
        if column.expression is not None
    }
    assert found == COMPUTED


@pytest.fixture
def tracked(admin_user, items):
    """10 items (a serial and a lot one among them) and 3 part inventories, one of each tracking,
    the serial one at version 2."""
    widget = part(admin_user, "Widget", enable_serial_no=True)
    resin = part(admin_user, "Resin", enable_lot_category=True)
    serial = stock(admin_user, widget, 1, serial_number="SN-1")
    stock(admin_user, resin, 5, lot_number="L-1")
    stock(admin_user, items["Prnt_Paper"], 3)
    serial.__class__.objects.filter(pk=serial.pk).update(version=2)


# The totals over `tracked`: what each aggregate of each computed field gives.
EXPECTED = {
    (ITEM, "count:trackingType"): 10,
    (ITEM, "min:trackingType"): "lot",
    (ITEM, "max:trackingType"): "untracked",
    (INVENTORY, "count:trackingType"): 3,
    (INVENTORY, "min:trackingType"): "lot",
    (INVENTORY, "max:trackingType"): "untracked",
    (INVENTORY, "count:kitted"): 3,
    (INVENTORY, "count:installed"): 3,
    (INVENTORY, "count:status"): 3,
    (INVENTORY, "min:status"): "available",
    (INVENTORY, "max:status"): "available",
    (INVENTORY, "count:etag"): 3,
    (INVENTORY, "min:etag"): '"1"',
    (INVENTORY, "max:etag"): '"2"',
    # 9 on hand (1 + 5 + 3) over 10 items, all available, nothing kitted, no kit with a line.
    **{
        (ITEM, f"{function}:{path}"): value
        for path in ("onHandQuantity", "availableQuantity")
        for function, value in (("count", 10), ("sum", 9), ("avg", 0.9), ("min", 0), ("max", 5))
    },
    **{
        (ITEM, f"{function}:kittedQuantity"): value
        for function, value in (("count", 10), ("sum", 0), ("avg", 0), ("min", 0), ("max", 0))
    },
    **{
        (ITEM, f"{function}:buildableQuantity"): 0 if function == "count" else None
        for function in ("count", "sum", "avg", "min", "max")
    },
    # No run: no requirement.
    **{
        (REQUIREMENT, f"{function}:{path}"): 0 if function == "count" else None
        for path in REQUIREMENT_FIGURES
        for function in ("count", "sum", "avg", "min", "max")
    },
}
CASES = [
    (name, f"{function}:{path}", kind)
    for (name, path), kind in COMPUTED.items()
    for function in AGGREGATES
]


@pytest.mark.parametrize(("name", "field", "kind"), CASES)
def test_every_aggregate_of_every_computed_field_alone(api, tracked, name, field, kind):
    function, _, path = field.partition(":")
    response = post(api, {"object": name, "fields": [field]})
    if function in APPLIES[kind]:
        assert totals(response) == [{field: EXPECTED[(name, field)]}]
    else:
        reason = f"{field}: {function} does not apply to {path}, a {kind} field"
        assert_invalid_query(response, "/fields/0", reason)


def test_computed_aggregates_together_and_filtered_by_a_computed_field(api, tracked):
    body = {
        "object": INVENTORY,
        "fields": ["count:etag", "min:trackingType", "max:etag"],
        "filters": [{"$ne": {"trackingType": "untracked"}}],
    }
    assert totals(post(api, body)) == [
        {"count:etag": 2, "min:trackingType": "lot", "max:etag": '"2"'}
    ]


def test_computed_aggregates_grouped_by_a_computed_field(api, tracked):
    body = {
        "object": ITEM,
        "fields": ["trackingType", "count:trackingType", "max:trackingType"],
        "orderBy": [{"trackingType": "asc"}],
    }
    response = post(api, body)
    assert response.status_code == 200
    assert response.json()["ia::result"] == [
        {"trackingType": "lot", "count:trackingType": 1, "max:trackingType": "lot"},
        {"trackingType": "serial", "count:trackingType": 1, "max:trackingType": "serial"},
        {"trackingType": "untracked", "count:trackingType": 8, "max:trackingType": "untracked"},
    ]


# --- 2. oversized filter expressions ----------------------------------------------------------
def test_an_expression_naming_filters_too_often_is_ks_4009(api, items):
    expression = " or ".join(["1"] * 5000)
    body = {
        "object": ITEM,
        "fields": ["key"],
        "filters": [{"$eq": {"id": "Kit_1"}}],
        "filterExpression": expression,
    }
    position = len(" or ".join(["1"] * MAX_REFERENCES)) + len(" or ") + 1
    reason = (
        f"more than {MAX_REFERENCES} filter numbers at position {position}: an expression names "
        f"filters at most {MAX_REFERENCES} times"
    )
    assert_invalid_expression(post(api, body), json.dumps(expression)[:77] + "...", reason)


def test_an_expression_at_the_limit_is_answered(api, items):
    body = {
        "object": ITEM,
        "fields": ["id"],
        "filters": [{"$eq": {"id": "Kit_1"}}, {"$eq": {"id": "Kit_2"}}],
        "filterExpression": " or ".join(["1", "2"] * (MAX_REFERENCES // 2)),
        "orderBy": [{"id": "asc"}],
    }
    response = post(api, body)
    assert response.status_code == 200
    assert response.json()["ia::result"] == [{"id": "Kit_1"}, {"id": "Kit_2"}]


def test_a_filter_number_of_thousands_of_digits_is_ks_4009(api, items):
    number = "1" * 5000
    body = {
        "object": ITEM,
        "fields": ["key"],
        "filters": [{"$eq": {"id": "Kit_1"}}],
        "filterExpression": number,
    }
    reason = f"filter {number} at position 1 does not exist: there is 1 filter"
    assert_invalid_expression(post(api, body), json.dumps(number)[:77] + "...", reason)


def test_a_list_of_dates_named_again_and_again_is_ks_4009(api, items):
    # Each date of a list is a branch of the SQL condition, each time the filter is named.
    dates = ["today"] * MAX_PERIODS
    expression = " or ".join(["1"] * 2)
    body = {
        "object": ITEM,
        "fields": ["key"],
        "filters": [{"$in": {"audit.createdDateTime": dates}}],
        "filterExpression": expression,
    }
    reason = (
        f"its filters compare more than {MAX_PERIODS} dates in lists, counting each time a "
        "filter is named"
    )
    assert_invalid_expression(post(api, body), json.dumps(expression), reason)
    body["filterExpression"] = "1"
    assert post(api, body).status_code == 200


# --- 3. odd but valid JSON --------------------------------------------------------------------
FULLWIDTH_DATE = "\uff12\uff10\uff12\uff14-01-01"  # 2024-01-01 in fullwidth digits
SURROGATE = "\ud800"  # half a UTF-16 pair: valid JSON escape, not Unicode text
NOT_TEXT = "the string is not valid Unicode text (a lone surrogate)"


@pytest.mark.parametrize(
    ("body", "target", "reason"),
    [
        ({"object": ITEM, "fields": ["key"], "filters": [{"$eq": {"name": SURROGATE}}]},
         "/filters/0/$eq/name", NOT_TEXT),
        ({"object": ITEM, "fields": ["key"], "filters": [{"$in": {"id": ["A", "b" + SURROGATE]}}]},
         "/filters/0/$in/id/1", NOT_TEXT),
        ({"object": SURROGATE, "fields": ["key"]}, "/object", NOT_TEXT),
        ({"object": ITEM, "fields": ["key", SURROGATE]}, "/fields/1", NOT_TEXT),
        ({"object": ITEM, "fields": ["key"], "filterExpression": SURROGATE},
         "/filterExpression", NOT_TEXT),
        ({"object": ITEM, "fields": ["key"], "orderBy": [{SURROGATE: "asc"}]},
         "/orderBy/0", "a member name is not valid Unicode text"),
        ({"object": ITEM, "fields": ["key"], "filters": [{"$eq": {SURROGATE: 1}}]},
         "/filters/0/$eq", "a member name is not valid Unicode text"),
    ],
)  # fmt: skip
def test_lone_surrogates_are_a_400_naming_where(api, items, body, target, reason):
    # Refused by the JSON parser, as on every route, before the query service reads anything.
    response = post(api, body)
    assert response.status_code == 400
    assert response.json() == error_body(
        response,
        "KS-4010",
        "KS.NOT_UNICODE_TEXT",
        f"Invalid text at {target}: {reason}",
        target,
        {"POINTER": target, "REASON": reason},
    )


def test_lone_surrogates_are_refused_on_writes_too(api):
    response = api.post(
        "/objects/inventory-control/item",
        '{"id": "X", "name": "bad \\ud800", "itemType": "inventory"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["ia::result"]["ia::error"]["target"] == "/name"


def value_error(response, op, field, expected, value, target):
    assert response.status_code == 400
    assert response.json() == error_body(
        response,
        "KS-4008",
        "KS.QUERY_INVALID_VALUE",
        f"Invalid query: {op} on {field} takes {expected}, not {value}",
        target,
        {"OPERATOR": op, "FIELD": field, "EXPECTED": expected, "VALUE": value},
    )


@pytest.mark.parametrize(
    ("op", "field", "value", "expected"),
    [
        ("$lt", "purchasing.standardCost", "1e999999", "a number"),
        ("$eq", "purchasing.standardCost", "-1e-999999", "a number or null"),
        ("$eq", "purchasing.standardCost", "NaN", "a number or null"),
        ("$gt", "purchasing.standardCost", 10**1001, "a number"),  # shown cut to 80
        ("$eq", "key", 2**64, "a key (a string of digits) or null"),
        ("$eq", "key", "²", "a key (a string of digits) or null"),
        ("$eq", "key", "١٢", "a key (a string of digits) or null"),
        ("$gt", "key", 1e30, "a key (a string of digits)"),
        ("$eq", "name", "a\u0000b", "a string or null"),
        ("$eq", "name", [[[["x"]]]], "a string or null"),
        ("$eq", "audit.createdDateTime", "0000-01-01", EXPECTED_DT := (
            "a date-time (ISO 8601), a date or a date macro or null")),
        ("$eq", "audit.createdDateTime", "9999-12-31T23:59:60Z", EXPECTED_DT),
        ("$lt", "audit.createdDateTime", FULLWIDTH_DATE,
         "a date-time (ISO 8601), a date or a date macro"),
        # Its second would end in year 10000.
        ("$gte", "audit.createdDateTime", "9999-12-31T23:59:59Z",
         "a date-time (ISO 8601), a date or a date macro"),
    ],
)  # fmt: skip
def test_odd_values_are_a_400_naming_the_value(api, items, op, field, value, expected):
    body = {"object": ITEM, "fields": ["key"], "filters": [{op: {field: value}}]}
    shown = json.dumps(value, default=str)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    target = f"/filters/0/{op}/{field}"
    value_error(post(api, body), op, field, expected, shown, target)


@pytest.mark.parametrize(
    ("op", "value", "ids"),
    [
        ("$lt", "1e1000", ["Kit_1", "Kit_2"]),  # every cost is below the largest number allowed
        ("$gt", "-1e1000", ["Kit_1", "Kit_2"]),
        ("$gt", 1e308, []),
        ("$gte", "9999-12-31T23:59:58Z", []),
        ("$gt", "0001-01-01T00:00:00Z", ["Kit_1", "Kit_2"]),
    ],
)
def test_extreme_but_valid_values_are_answered(api, items, op, value, ids):
    field = "audit.createdDateTime" if isinstance(value, str) and "T" in value else None
    field = field or "purchasing.standardCost"
    body = {
        "object": ITEM,
        "fields": ["id"],
        "filters": [{op: {field: value}}, {"$startsWith": {"id": "Kit"}}],
        "orderBy": [{"id": "asc"}],
    }
    response = post(api, body)
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["ia::result"]] == ids


@pytest.mark.parametrize("start", [1e30, "²", 1.5, "1e3", -1])
def test_odd_starts_are_a_400(api, items, start):
    response = post(api, {"object": ITEM, "fields": ["key"], "start": start})
    assert response.status_code == 400
    reason = "must be an integer at least 1"
    assert response.json() == error_body(
        response,
        "KS-4003",
        "KS.INVALID_PARAMETER",
        f"Query parameter start is invalid: {reason}",
        "start",
        {"PARAMETER": "start", "REASON": reason},
    )


@pytest.mark.parametrize("fields", [["key"], ["count:key"], ["itemType", "count:key"]])
def test_a_start_past_every_row_is_an_empty_page(api, items, fields):
    response = post(api, {"object": ITEM, "fields": fields, "start": 2**64})
    assert response.status_code == 200
    assert response.json()["ia::result"] == []


def test_an_as_of_date_in_other_digits_is_a_400(api, items):
    body = {"object": ITEM, "fields": ["key"], "filterParameters": {"asOfDate": FULLWIDTH_DATE}}
    assert_invalid_query(
        post(api, body), "/filterParameters/asOfDate", "asOfDate must be a date (YYYY-MM-DD)"
    )
