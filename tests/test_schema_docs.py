"""The OpenAPI document reads as documentation: every operation has its own summary and a
description made from its object's one description (config.api.spec), not a developer's
docstring shared by every operation."""

import pytest

from config.api import spec
from tests.support.openapi import schema_errors

METHODS = ("get", "post", "patch", "delete")


def operations(openapi_document):
    for path, item in openapi_document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_operation_has_its_own_summary_and_a_description(openapi_document):
    summaries = [op.get("summary") for _, _, op in operations(openapi_document)]
    assert all(summaries), [
        (p, m) for p, m, op in operations(openapi_document) if not op.get("summary")
    ]
    assert len(summaries) == len(set(summaries))  # ReDoc's headings tell them apart
    for path, method, op in operations(openapi_document):
        assert op.get("description"), (path, method)
        # The base viewset's docstring was every CRUD operation's description.
        assert "partial_update" not in op["description"], (path, method)


@pytest.mark.parametrize(
    ("method", "path", "summary"),
    [
        ("get", "/objects/inventory-control/item", "List items"),
        ("post", "/objects/inventory-control/item", "Create an item"),
        ("patch", "/objects/inventory-control/item", "Update several items"),
        ("get", "/objects/inventory-control/part-inventory/{key}", "Get a part inventory"),
        ("patch", "/objects/inventory-control/warehouse/{key}", "Update a warehouse"),
        ("delete", "/objects/inventory-control/kit-component/{key}", "Delete a kit component"),
        ("get", "/objects/inventory-control/inventory-transaction", "List inventory transactions"),
        ("get", "/objects/inventory-control/part-inventory", "List part inventories"),
    ],
)
def test_object_operations_are_summarised_by_their_object(openapi_document, method, path, summary):
    assert openapi_document["paths"][path][method]["summary"] == summary


def test_object_descriptions_come_from_the_object_spec(openapi_document):
    for described in spec.objects():
        base = f"/objects/{described.name}"
        for path in (base, base + "/{key}"):
            for method, op in openapi_document["paths"][path].items():
                first = op["description"].split("\n\n")[0]
                assert first == described.description, (path, method)
                assert "\n" not in first and first.endswith("."), first
    item = openapi_document["paths"]["/objects/inventory-control/item"]
    assert (
        item["get"]["description"]
        .split("\n\n")[1]
        .startswith("A page of references to items, by key. Filters: `id`, `itemType`, `status`.")
    )
    required = openapi_document["components"]["schemas"]["ItemRequest"]["required"]
    create = item["post"]["description"].split("\n\n")[1]
    listed = create.split("Required: ")[1].rstrip(".").split(", ")
    assert sorted(listed) == sorted(f"`{name}`" for name in required)
    patch = item["patch"]["description"].split("\n\n")[1]
    assert patch.endswith("Set at create only: `costMethod`, `id`, `itemType`.")


# --- request bodies as strict as the API ------------------------------------------------------


def test_every_request_body_is_required_and_refuses_unknown_members(openapi_document):
    for path, method, op in operations(openapi_document):
        if "requestBody" in op:
            assert op["requestBody"]["required"] is True, (path, method)
    requests = {
        n: s for n, s in openapi_document["components"]["schemas"].items() if n.endswith("Request")
    }
    assert requests
    for name, schema in requests.items():
        assert schema["additionalProperties"] is False, name


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id": "WH-X", "name": "X", "colour": "red"}, 400),  # an unknown member
        ({"id": "", "name": "X"}, 422),
    ],
)
def test_what_the_warehouse_create_refuses_its_schema_refuses(api, openapi_document, body, status):
    response = api.post("/objects/inventory-control/warehouse", body, format="json")
    assert response.status_code == status, response.content
    request = {"$ref": "#/components/schemas/WarehouseRequest"}
    assert schema_errors(openapi_document, request, body) != []


@pytest.mark.parametrize("reference", [{}, {"key": ""}, {"id": ""}, {"key": "", "id": ""}])
def test_an_empty_reference_is_refused_by_the_api_and_its_schema(api, openapi_document, reference):
    body = {"kit": reference, "component": {"id": "X"}, "numberOfUnits": 1}
    response = api.post("/objects/inventory-control/kit-component", body, format="json")
    assert response.status_code in (400, 422), response.content
    request = {"$ref": "#/components/schemas/KitComponentRequest"}
    errors = schema_errors(openapi_document, request, body)
    assert [e for e in errors if e.startswith("$.kit")], errors
