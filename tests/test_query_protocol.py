"""POST /services/core/query (contract 9): permissions, error bodies in full, protocol errors, the
OpenAPI schema and the largest accepted queries."""

import datetime as dt

from rest_framework.test import APIClient

from tests.support.query import (
    ALL_IDS,
    ITEM,
    KIT_1,
    LINE,
    QUERY,
    base,
    but,
    error,
    item_ids,
    post,
    result,
)
from tests.support.users import make_user


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
