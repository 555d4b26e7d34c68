"""The OpenAPI document, the two documentation pages and the health check: served without
credentials, valid, documenting the real envelopes, and loading nothing from other hosts."""

from html.parser import HTMLParser

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from config.api.schema import REFERENCE, extra_schema
from inventory.models import Item, PartInventory
from tests.support.openapi import response_schema

LINES = "/objects/inventory-control/kit-component"
LINE = "/objects/inventory-control/kit-component/{key}"
JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
REFERENCE_REF = {"$ref": "#/components/schemas/Reference"}
ERROR_STATUSES = ["400", "401", "403", "404", "409", "412", "415", "422", "428", "429", "500"]
ONE_META = {
    "type": "object",
    "properties": {
        "totalCount": {"type": "integer", "example": 1},
        "totalSuccess": {"type": "integer", "example": 1},
        "totalError": {"type": "integer", "example": 0},
    },
    "required": ["totalCount", "totalSuccess", "totalError"],
}


def one_envelope(result):
    return {
        "type": "object",
        "properties": {"ia::result": result, "ia::meta": ONE_META},
        "required": ["ia::result", "ia::meta"],
    }


def multi_envelope(item):
    """A batch's (or composite's) answer: its items by position."""
    return one_envelope({"type": "array", "items": item})


def with_status(schema, example=201):
    status = {"type": "integer", "example": example}
    return {
        "allOf": [
            schema,
            {"type": "object", "properties": {"ia::status": status}, "required": ["ia::status"]},
        ]
    }


@pytest.fixture
def schema(openapi_document):
    return openapi_document


def test_the_json_document_says_its_media_type(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/vnd.oai.openapi+json"


def test_json_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.0")
    validate(schema, cls=OpenAPIV30SpecValidator)


def test_yaml_is_the_default_and_says_the_same(client, schema):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/vnd.oai.openapi"
    document = yaml.safe_load(response.content)
    validate(document, cls=OpenAPIV30SpecValidator)
    assert document == schema


def test_each_path_is_documented_once_as_the_contract_spells_it(schema):
    paths = set(schema["paths"])
    assert {
        "/objects/inventory-control/item",
        "/objects/inventory-control/item/{key}",
        "/objects/inventory-control/warehouse",
        "/objects/inventory-control/warehouse/{key}",
        LINES,
        LINE,
    } <= paths
    assert not [path for path in paths if path.startswith("/ia/api/v1")]
    assert not [path for path in paths if path.endswith("/")]


def test_kit_component_list_documents_references_and_page_meta(schema):
    assert set(schema["paths"][LINES]) == {"get", "post", "patch"}  # patch: the batch form
    assert response_schema(schema, LINES, "get", "200") == {
        "type": "object",
        "properties": {
            "ia::result": {"type": "array", "items": REFERENCE_REF},
            "ia::meta": {
                "type": "object",
                "properties": {
                    "totalCount": {"type": "integer", "example": 2},
                    "start": {"type": "integer", "example": 1},
                    "pageSize": {"type": "integer", "example": 100},
                    "next": {"type": "integer", "nullable": True, "example": None},
                    "previous": {"type": "integer", "nullable": True, "example": None},
                },
                "required": ["totalCount", "start", "pageSize", "next", "previous"],
            },
        },
        "required": ["ia::result", "ia::meta"],
    }
    parameters = {p["name"]: p for p in schema["paths"][LINES]["get"]["parameters"]}
    assert parameters["start"]["schema"] == {"type": "integer"}
    assert parameters["size"]["schema"] == {"type": "integer"}
    assert schema["components"]["schemas"]["Reference"] == {
        "type": "object",
        "properties": {
            "key": {"type": "string", "example": "27"},
            "id": {"type": "string", "example": "Kit_1"},
            "href": {"type": "string", "example": "/objects/inventory-control/item/27"},
        },
        "required": ["key", "id", "href"],
    }


def test_kit_component_retrieve_documents_the_object(schema):
    assert set(schema["paths"][LINE]) == {"get", "patch", "delete"}  # no PUT
    line_ref = {"$ref": "#/components/schemas/KitComponent"}
    assert response_schema(schema, LINE, "get", "200") == {
        "oneOf": [one_envelope(line_ref), multi_envelope(line_ref)]
    }
    line = schema["components"]["schemas"]["KitComponent"]
    assert list(line["properties"]) == [
        "key",
        "id",
        "kit",
        "component",
        "numberOfUnits",
        "revenuePercentage",
        "defaultDeliveryStatus",
        "defaultDeferralStatus",
        "lineNumber",
        "audit",
        "href",
    ]
    assert list(line["properties"]["kit"]["properties"]) == ["key", "id", "href"]
    component = line["properties"]["component"]["properties"]
    assert list(component) == [
        "key",
        "id",
        "name",
        "costMethod",
        "itemType",
        "unitOfMeasure",
        "standardCost",
        "href",
    ]
    assert component["itemType"]["enum"] == [
        "inventory",
        "nonInventory",
        "purchaseOnlyNonInventory",
        "salesOnlyNonInventory",
        "kit",
        "stockableKit",
    ]
    assert all(component[name]["readOnly"] for name in list(component)[2:])
    assert line["properties"]["numberOfUnits"]["type"] == "number"


def test_a_reference_documents_its_extras_as_the_model_fields_they_read(schema):
    # Documented by our own extension (no private drf-spectacular hook): the model field's type,
    # its choices, a decimal's digits and its nullability; a callable's is text.
    schemas = schema["components"]["schemas"]
    component = schemas["KitComponent"]["properties"]["component"]["properties"]
    assert component["name"] == {"type": "string", "readOnly": True}
    assert component["standardCost"] == {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d{0,18}(?:\.\d{0,10})?$",
        "readOnly": True,
    }
    assert component["costMethod"] == {
        "enum": ["standard", "average", "FIFO", "LIFO"],
        "type": "string",
        "description": "* `standard` - Standard\n* `average` - Average\n* `FIFO` - Fifo\n"
        "* `LIFO` - Lifo",
        "readOnly": True,
    }
    inventory = schemas["Installation"]["properties"]["partInventory"]["properties"]
    assert list(inventory) == ["key", "id", "serialNumber", "lotNumber", "part", "href"]
    assert inventory["serialNumber"] == {"type": "string", "nullable": True, "readOnly": True}
    # The part is a reference of its own, as a body renders it.
    assert inventory["part"] == {**REFERENCE, "readOnly": True}
    # A request carries no extras.
    sent = schemas["KitComponentRequest"]["properties"]["component"]["properties"]
    assert list(sent) == ["key", "id", "href"]


def test_kit_component_writes_document_their_envelopes(schema):
    create = schema["paths"][LINES]["post"]
    one = {"$ref": "#/components/schemas/KitComponentRequest"}
    assert create["requestBody"]["content"][JSON]["schema"] == {
        "oneOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": 500}]
    }
    assert "200" not in create["responses"]
    assert response_schema(schema, LINES, "post", "201") == {
        "oneOf": [one_envelope(REFERENCE_REF), multi_envelope(with_status(REFERENCE_REF))]
    }
    request = schema["components"]["schemas"]["KitComponentRequest"]
    assert set(request["required"]) == {"kit", "component", "numberOfUnits"}
    # A request names the component by key or id; nothing else it may send back is read.
    sent = request["properties"]["component"]["properties"]
    assert [name for name, prop in sent.items() if not prop.get("readOnly")] == ["key", "id"]

    patch = schema["paths"][LINE]["patch"]
    assert patch["requestBody"]["content"][JSON]["schema"] == {
        "$ref": "#/components/schemas/PatchedKitComponentRequest"
    }
    assert response_schema(schema, LINE, "patch", "200") == one_envelope(REFERENCE_REF)
    if_match = [p for p in patch["parameters"] if p["name"] == "If-Match"]
    assert [(p["in"], p.get("required", False)) for p in if_match] == [("header", False)]

    delete = schema["paths"][LINE]["delete"]
    assert delete["responses"]["204"] == {"description": "Deleted; no body"}
    assert "200" not in delete["responses"]


def test_the_batch_forms_are_documented(schema):
    batch = schema["paths"][LINES]["patch"]
    keyed = {
        "type": "object",
        "properties": {"key": {"type": "string", "example": "42"}},
        "required": ["key"],
    }
    # The single PATCH's members and the key, in one object that refuses anything else.
    patched = dict(schema["components"]["schemas"]["PatchedKitComponentRequest"])
    patched.pop("description")
    body = batch["requestBody"]["content"][JSON]["schema"]
    assert (body["type"], body["minItems"], body["maxItems"]) == ("array", 1, 500)
    assert body["items"] == {"$ref": "#/components/schemas/PatchedKitComponentBatchRequest"}
    element = schema["components"]["schemas"]["PatchedKitComponentBatchRequest"]
    assert element["required"] == keyed["required"]
    assert element["properties"] == {**keyed["properties"], **patched["properties"]}
    assert element["additionalProperties"] is False
    assert response_schema(schema, LINES, "patch", "200") == multi_envelope(
        with_status(REFERENCE_REF)
    )
    error_item = {
        "type": "object",
        "properties": {
            "ia::error": schema["components"]["schemas"]["Error"]["properties"]["ia::result"][
                "properties"
            ]["ia::error"],
            "ia::status": {"type": "integer", "example": 404},
        },
        "required": ["ia::error", "ia::status"],
    }
    status_only = {**with_status({}, 201)["allOf"][1], "additionalProperties": False}
    for path, method, success in [
        (LINES, "post", REFERENCE_REF),
        (LINES, "patch", REFERENCE_REF),
        (LINE, "get", {"$ref": "#/components/schemas/KitComponent"}),
        (LINE, "delete", REFERENCE_REF),
    ]:
        item = {"oneOf": [with_status(success), status_only, error_item]}
        assert response_schema(schema, path, method, "207") == multi_envelope(item), (path, method)
        operation = schema["paths"][path][method]
        assert "batch" in operation["description"] or method == "patch"
    for method in ("get", "delete"):
        key = next(p for p in schema["paths"][LINE][method]["parameters"] if p["name"] == "key")
        assert "comma" in key["description"]
    headers = {p["name"] for p in schema["paths"][LINES]["post"]["parameters"]}
    assert "X-IA-API-Param-Transaction" in headers


def test_the_composite_service_is_documented(schema):
    operation = schema["paths"]["/services/core/composite"]["post"]
    assert "/ia/api/v1/services/core/composite" not in schema["paths"]
    body = operation["requestBody"]["content"][JSON]["schema"]
    assert (body["type"], body["minItems"], body["maxItems"]) == ("array", 2, 10)
    assert body["items"]["required"] == ["method", "path"]
    assert body["items"]["properties"]["method"]["enum"] == ["GET", "POST", "PATCH", "DELETE"]
    assert {"200", "207", "400", "401"} <= set(operation["responses"])
    answer = response_schema(schema, "/services/core/composite", "post", "207")
    assert answer["properties"]["ia::result"]["type"] == "array"


def test_errors_reference_the_ia_error_schema(schema):
    for path, method in [
        (LINES, "get"),
        (LINES, "post"),
        (LINE, "get"),
        (LINE, "patch"),
        (LINE, "delete"),
    ]:
        responses = schema["paths"][path][method]["responses"]
        for status in ERROR_STATUSES:
            assert response_schema(schema, path, method, status) == ERROR_REF, (path, method)
            assert responses[status]["description"]
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["ia::result", "ia::meta"]
    body = error["properties"]["ia::result"]["properties"]["ia::error"]
    assert error["properties"]["ia::result"]["required"] == ["ia::error"]
    assert body["required"] == ["code", "message", "errorId", "supportId"]
    assert set(body["properties"]) == {
        "code",
        "message",
        "errorId",
        "target",
        "additionalInfo",
        "supportId",
        "details",
    }
    assert body["properties"]["details"]["type"] == "array"


def test_operations_offer_only_the_usable_schemes(schema):
    # Client credentials at the service's own token endpoint, or a bearer token; no session
    # cookie (Swagger UI cannot send one) and no flow needing a redirect page.
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"oauth2", "bearer"}
    assert schemes["oauth2"]["flows"] == {
        "clientCredentials": {"tokenUrl": "/oauth2/token", "scopes": {}}
    }
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    for method in ("get", "patch", "delete"):
        security = schema["paths"][LINE][method]["security"]
        assert security == [{"oauth2": []}, {"bearer": []}]  # either one
    secured = [op for ops in schema["paths"].values() for op in ops.values() if "security" in op]
    assert secured and all(
        {"oauth2": []} in op["security"] and "cookieAuth" not in str(op) for op in secured
    )


# --- the documentation pages --------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_assets_the_service_serves(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "/api/schema/" in html
    parser = _Assets()
    parser.feed(html)
    assert parser.urls  # the page has its scripts
    for url in parser.urls:
        assert url.startswith("/static/"), url  # no CDN
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content), url
    assert "https://" not in html and "http://" not in html


# --- health -------------------------------------------------------------------------------------


def test_healthz_answers_without_credentials(client, db):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["X-Request-Id"]


@pytest.mark.parametrize(
    ("source", "schema"),
    [
        ("name", {"type": "string"}),
        ("enable_serial_no", {"type": "boolean"}),
        ("version", {"type": "integer"}),  # PositiveBigIntegerField
        ("created_at", {"type": "string", "format": "date-time"}),
    ],
)
def test_a_reference_extra_is_typed_as_the_spec_types_a_member(source, schema):
    # One table of JSON types (config.api.spec): a date-time extra was once a bare string.
    assert extra_schema(Item, source) == schema
    nullable = {"type": "string", "nullable": True}
    assert extra_schema(PartInventory, "serial_number") == nullable


def test_a_reference_extra_reading_a_relation_is_a_reference_or_refused():
    assert extra_schema(PartInventory, "part") == REFERENCE  # an object of the API
    with pytest.raises(ImproperlyConfigured, match="no JSON type"):
        extra_schema(PartInventory, "created_by")  # a user: no object of the API
