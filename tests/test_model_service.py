"""`GET /services/core/model` (contract 13.1): the list of what the API serves, its filters, one
object's and one workflow's model as exact bodies, bad parameters, unknown names, credentials
and the /ia/api/v1 prefix. (The published SDK's `get_model()` runs in tests/test_sdk.py.)"""

import pytest
from rest_framework.test import APIClient

from tests.support.errors import NOT_AUTHENTICATED, assert_error, err, not_allowed
from tests.support.objects import BASES
from tests.support.refs import ONE
from tests.support.users import bearer_client, make_user

MODEL = "/services/core/model"
HREF = "/services/core/model?version=v1&name="
CRUD = "OPTIONS,GET,POST,PATCH,DELETE"


def entry(api_object: str, type_: str, methods: str) -> dict:
    return {
        "apiObject": api_object,
        "type": type_,
        "httpMethods": methods,
        "href": HREF + api_object,
    }


OBJECTS = [
    entry("objects/inventory-control/warehouse", "rootObject", CRUD),
    entry("objects/inventory-control/item", "rootObject", CRUD),
    entry("objects/inventory-control/kit-component", "rootObject", CRUD),
    entry("objects/inventory-control/part-inventory", "rootObject", CRUD),
    entry("objects/inventory-control/inventory-transaction", "rootObject", "OPTIONS,GET"),
    entry("objects/inventory-control/run", "rootObject", CRUD),
    entry("objects/inventory-control/part-kit", "rootObject", CRUD),
    entry("objects/inventory-control/requirement", "rootObject", "OPTIONS,GET"),
]
WORKFLOWS = [
    entry("workflows/inventory-control/part-kit/issue", "workflow", "OPTIONS,POST"),
    entry("workflows/inventory-control/part-kit/move-to-inventory", "workflow", "OPTIONS,POST"),
    entry("workflows/inventory-control/part-kit/fulfill", "workflow", "OPTIONS,POST"),
    entry("workflows/inventory-control/run/complete", "workflow", "OPTIONS,POST"),
    entry("workflows/inventory-control/part-inventory/adjust", "workflow", "OPTIONS,POST"),
    entry("workflows/inventory-control/part-inventory/split", "workflow", "OPTIONS,POST"),
]
SERVICES = [
    entry("services/core/query", "service", "OPTIONS,POST"),
    entry("services/core/model", "service", "OPTIONS,GET"),
    entry("services/core/composite", "service", "OPTIONS,POST"),
]


UNKNOWN = "unknown parameter; the model service takes name, type, filter, version"


def listed(entries: list[dict]) -> dict:
    count = len(entries)
    return {
        "ia::result": entries,
        "ia::meta": {"totalCount": count, "totalSuccess": count, "totalError": 0},
    }


def invalid(parameter: str, reason: str) -> dict:
    return err(
        "KS-4003",
        f"Query parameter {parameter} is invalid: {reason}",
        parameter,
        PARAMETER=parameter,
        REASON=reason,
    )


def field(type_: str, *, read_only=False, nullable=False, mutable=None, **more) -> dict:
    """One entry of `fields`, as Intacct writes it (`required` is always false)."""
    return {
        "type": type_,
        "readOnly": read_only,
        "writeOnly": False,
        "required": False,
        "nullable": nullable,
        "mutable": (not read_only) if mutable is None else mutable,
        **more,
    }


def read_only(type_: str = "string", **more) -> dict:
    return field(type_, read_only=True, **more)


def reference(api_object: str, *, read_only=False, nullable=False, **extras) -> dict:
    named_by = field("string", read_only=read_only, nullable=nullable)
    shown = field("string", read_only=True, nullable=nullable)
    return {
        "apiObject": api_object,
        "fields": {"key": named_by, "id": named_by, **extras, "href": shown},
    }


USER = reference("company-config/user", read_only=True, nullable=True)
AUDIT = {
    "fields": {
        "createdDateTime": read_only(format="date-time"),
        "modifiedDateTime": read_only(format="date-time"),
        "createdBy": read_only(nullable=True),
        "modifiedBy": read_only(nullable=True),
    },
    "refs": {"createdByUser": USER, "modifiedByUser": USER},
}
ITEM_TYPES = [
    "inventory",
    "nonInventory",
    "purchaseOnlyNonInventory",
    "salesOnlyNonInventory",
    "kit",
    "stockableKit",
]

# The whole model of a kit component, written out (contract 4 and 13.1).
KIT_COMPONENT_MODEL = {
    "fields": {
        "key": read_only(),
        "id": read_only(),
        "numberOfUnits": field("number"),
        "revenuePercentage": field("number", nullable=True),
        "defaultDeliveryStatus": field(
            "string", enum=["delivered", "undelivered"], default="delivered"
        ),
        "defaultDeferralStatus": field(
            "string",
            enum=["deferUntilItemIsDelivered", "deferBundleUntilItemIsDelivered"],
            default="deferUntilItemIsDelivered",
        ),
        "lineNumber": field("integer", nullable=True),
        "href": read_only(),
    },
    "groups": {"audit": AUDIT},
    "refs": {
        "kit": reference("inventory-control/item"),
        "component": reference(
            "inventory-control/item",
            name=read_only(),
            costMethod=read_only(enum=["standard", "average", "FIFO", "LIFO"]),
            itemType=read_only(enum=ITEM_TYPES),
            unitOfMeasure=read_only(),
            standardCost=read_only(format="decimal"),
        ),
    },
    "lists": [],
    "httpMethods": CRUD,
    "idempotenceSupported": True,
    "apiObject": "objects/inventory-control/kit-component",
    "type": "rootObject",
    "href": HREF + "objects/inventory-control/kit-component",
}

ISSUE_MODEL = {
    "request": {
        "fields": {
            "key": field("string"),
            "quantity": field("number", nullable=True),
        },
        "refs": {"partInventory": reference("inventory-control/part-inventory")},
    },
    "response": {
        "fields": {
            "key": read_only(),
            "id": read_only(),
            "href": read_only(),
            "issuedQuantity": read_only("number"),
        },
        "groups": [],
        "refs": {
            "partInventory": {
                "apiObject": "inventory-control/part-inventory",
                "fields": {
                    "key": read_only(),
                    "id": read_only(),
                    "href": read_only(),
                    "quantity": read_only("number"),
                },
            }
        },
        "lists": [],
    },
    "httpMethods": "OPTIONS,POST",
    "idempotenceSupported": True,
    "apiObject": "workflows/inventory-control/part-kit/issue",
    "type": "workflow",
    "href": HREF + "workflows/inventory-control/part-kit/issue",
}


def get(client, **params):
    return client.get(MODEL, params)


def result(client, **params):
    response = get(client, **params)
    assert response.status_code == 200, response.content
    return response.json()


# --- the list ------------------------------------------------------------------------------------


def test_the_list_names_every_object_workflow_and_service(api):
    everything = listed(OBJECTS + WORKFLOWS + SERVICES)
    for base in BASES:
        response = api.get(base + MODEL)
        assert (response.status_code, response.json()) == (200, everything)
    assert result(api, version="v1") == everything
    assert result(api, version="", type="", filter="") == everything  # empty is absent


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("object", OBJECTS),
        ("rootObject", OBJECTS),
        ("workflow", WORKFLOWS),
        ("service", SERVICES),
    ],
)
def test_type_narrows_the_list(api, type_, expected):
    assert result(api, type=type_) == listed(expected)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("part-kit", [OBJECTS[6], *WORKFLOWS[:3]]),
        ("^services/", SERVICES),
        ("/(item|warehouse)$", [OBJECTS[0], OBJECTS[1]]),
        ("inventory", OBJECTS + WORKFLOWS),  # anywhere in the name
        ("nothing-by-this-name", []),
    ],
)
def test_filter_matches_a_regular_expression_on_the_name(api, pattern, expected):
    assert result(api, filter=pattern) == listed(expected)


def test_type_and_filter_together(api):
    assert result(api, type="workflow", filter="run") == listed([WORKFLOWS[3]])
    assert result(api, type="object", filter="kit") == listed([OBJECTS[2], OBJECTS[6]])


# --- one model -----------------------------------------------------------------------------------


def test_the_model_of_a_kit_component(api):
    expected = {"ia::result": KIT_COMPONENT_MODEL, "ia::meta": ONE}
    for base in BASES:
        for name in ("inventory-control/kit-component", "objects/inventory-control/kit-component"):
            response = api.get(base + MODEL, {"name": name})
            assert (response.status_code, response.json()) == (200, expected)
    assert result(api, name="inventory-control/kit-component", version="v1") == expected


def test_what_cannot_change_after_create_is_not_mutable(api):
    item = result(api, name="inventory-control/item")["ia::result"]["fields"]
    assert {name for name, f in item.items() if not f["readOnly"] and not f["mutable"]} == {
        "id",
        "itemType",
        "costMethod",
    }
    assert item["name"]["mutable"] and item["status"]["default"] == "active"
    inventory = result(api, name="inventory-control/part-inventory")["ia::result"]
    assert inventory["refs"]["part"]["fields"]["key"] == field("string", mutable=False)
    assert inventory["refs"]["location"]["fields"]["key"] == field("string", nullable=True)
    assert inventory["fields"]["autogenerateSerialNumber"] == {
        **field("boolean"),
        "writeOnly": True,
    }
    kit = result(api, name="inventory-control/part-kit")["ia::result"]
    assert kit["refs"]["run"]["fields"]["id"] == field("string", mutable=False)


def test_lists_and_groups_of_an_object(api):
    item = result(api, name="inventory-control/item")["ia::result"]
    assert item["lists"] == {"kitComponents": {"apiObject": "inventory-control/kit-component"}}
    assert list(item["groups"]) == ["purchasing", "tracking", "audit"]
    assert item["groups"]["tracking"] == {
        "fields": {
            "enableSerialNo": field("boolean", default=False),
            "serialMask": field("string", default=""),
            "enableLotCategory": field("boolean", default=False),
            "lotCategory": field("string", default=""),
        }
    }
    run = result(api, name="inventory-control/run")["ia::result"]
    assert run["lists"] == {
        "partKits": {"apiObject": "inventory-control/part-kit"},
        "outputs": {"apiObject": "inventory-control/part-inventory"},
    }
    assert run["fields"]["installations"] == read_only("array")
    ledger = result(api, name="inventory-control/inventory-transaction")["ia::result"]
    assert ledger["httpMethods"] == "OPTIONS,GET"
    assert list(ledger["refs"]) == [
        "partInventory",
        "part",
        "partKit",
        "run",
        "fromLocation",
        "toLocation",
    ]
    assert ledger["refs"]["partKit"] == reference(
        "inventory-control/part-kit", read_only=True, nullable=True
    )


def test_the_model_of_a_workflow(api):
    expected = {"ia::result": ISSUE_MODEL, "ia::meta": ONE}
    for name in ("workflows/inventory-control/part-kit/issue", "inventory-control/part-kit/issue"):
        assert result(api, name=name) == expected
    complete = result(api, name="workflows/inventory-control/run/complete")["ia::result"]
    assert complete["request"] == {
        "fields": {
            "key": field("string"),
            "serialNumbers": field("array", nullable=True),
            "allowShortage": field("boolean"),
        },
        "refs": {"location": reference("inventory-control/warehouse", nullable=True)},
    }
    assert complete["response"]["fields"]["outputs"] == read_only("array")


def test_the_model_of_a_service(api):
    assert result(api, name="services/core/query") == {
        "ia::result": {
            "httpMethods": "OPTIONS,POST",
            "idempotenceSupported": False,
            "apiObject": "services/core/query",
            "type": "service",
            "href": HREF + "services/core/query",
        },
        "ia::meta": ONE,
    }


@pytest.mark.parametrize(
    "name",
    [
        "inventory-control/customer",
        "objects/inventory-control/kit",
        "workflows/inventory-control/item",
        "kit-component",
        "objects/inventory-control/kit-component/1",
        "/objects/inventory-control/kit-component",
    ],
)
def test_an_unknown_name_is_an_empty_result(api, name):
    assert result(api, name=name) == {
        "ia::result": [],
        "ia::meta": {"totalCount": 0, "totalSuccess": 0, "totalError": 0},
    }


# --- bad parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter", "reason"),
    [
        ("schema=true", "schema", UNKNOWN),
        ("names=inventory-control/item", "names", UNKNOWN),
        ("type=object&Type=object", "Type", UNKNOWN),
        ("type=object&type=service", "type", "given more than once"),
        ("name=a&name=b", "name", "given more than once"),
        ("version=v2", "version", "must be v1"),
        ("version=1", "version", "must be v1"),
        ("type=objects", "type", "must be one of object, rootObject, workflow, service"),
        ("type=object,service", "type", "must be one of object, rootObject, workflow, service"),
        ("name=inventory-control/item&type=object", "type", "cannot be combined with name"),
        ("name=inventory-control/item&filter=item", "filter", "cannot be combined with name"),
        (
            "filter=(item",
            "filter",
            "not a valid regular expression: missing ) at position 5",
        ),
        (
            "filter=*item",
            "filter",
            "not a valid regular expression: nothing to repeat at position 0",
        ),
    ],
)
def test_a_bad_parameter_is_400(api, query, parameter, reason):
    assert_error(api.get(f"{MODEL}?{query}"), 400, invalid(parameter, reason))


def test_a_pathological_filter_answers_at_once(api):
    # Nested quantifiers backtrack exponentially in Python's own `re`; the filter never hangs.
    assert result(api, filter="(.*.*)*z") == listed([])
    assert result(api, filter="(\\w|\\w)*Z$") == listed([])
    # What is still slow (a fuzzy match allowing 25 errors) is given up on, with a 400.
    response = get(api, filter="(?:" + "z" * 30 + "){e<=25}")
    assert_error(response, 400, invalid("filter", "the regular expression takes too long to match"))


def test_only_get_is_served(api):
    for method in ("post", "patch", "delete", "put"):
        response = getattr(api, method)(MODEL, {}, format="json")
        assert_error(response, 405, not_allowed(method.upper(), MODEL))


# --- who may ask ---------------------------------------------------------------------------------


def test_without_credentials_is_401(db):
    anonymous = APIClient()
    for base in BASES:
        assert_error(anonymous.get(base + MODEL), 401, NOT_AUTHENTICATED)
        response = anonymous.get(base + MODEL, {"name": "inventory-control/item"})
        assert_error(response, 401, NOT_AUTHENTICATED)


def test_any_signed_in_user_may_read_models(db):
    client = bearer_client(make_user("reader"))  # no permission at all
    assert result(client) == listed(OBJECTS + WORKFLOWS + SERVICES)
    assert result(client, name="inventory-control/kit-component")["ia::result"] == (
        KIT_COMPONENT_MODEL
    )


# --- its own documentation -----------------------------------------------------------------------


def test_the_openapi_document_describes_the_model_service(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][MODEL]["get"]
    assert set(schema["paths"][MODEL]) == {"get"}
    assert operation["operationId"] == "model"
    assert [p["name"] for p in operation["parameters"]] == ["filter", "name", "type", "version"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "429", "500"]
    result = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert result["properties"]["ia::result"]["oneOf"] == [
        {"type": "array", "items": {"$ref": "#/components/schemas/ModelEntry"}},
        {"$ref": "#/components/schemas/Model"},
    ]
    entry = schema["components"]["schemas"]["ModelEntry"]
    assert entry["required"] == ["apiObject", "type", "httpMethods", "href"]
    # The query service documents the statuses it can answer, no others.
    query = schema["paths"]["/services/core/query"]["post"]["responses"]
    assert sorted(query) == ["200", "400", "401", "403", "415", "429", "500"]
