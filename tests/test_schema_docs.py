"""The OpenAPI document reads as documentation: every operation has its own summary and a
description made from its object's one description (config.api.spec), not a developer's
docstring shared by every operation."""

import json

import pytest

from config.api import spec

METHODS = ("get", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return json.loads(Client().get("/api/schema/?format=json").content)


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_operation_has_its_own_summary_and_a_description(document):
    summaries = [op.get("summary") for _, _, op in operations(document)]
    assert all(summaries), [(p, m) for p, m, op in operations(document) if not op.get("summary")]
    assert len(summaries) == len(set(summaries))  # ReDoc's headings tell them apart
    for path, method, op in operations(document):
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
def test_object_operations_are_summarised_by_their_object(document, method, path, summary):
    assert document["paths"][path][method]["summary"] == summary


def test_object_descriptions_come_from_the_object_spec(document):
    for described in spec.objects():
        base = f"/objects/{described.name}"
        for path in (base, base + "/{key}"):
            for method, op in document["paths"][path].items():
                first = op["description"].split("\n\n")[0]
                assert first == described.description, (path, method)
                assert "\n" not in first and first.endswith("."), first
    item = document["paths"]["/objects/inventory-control/item"]
    assert (
        item["get"]["description"]
        .split("\n\n")[1]
        .startswith("A page of references to items, by key. Filters: `id`, `itemType`, `status`.")
    )
    required = document["components"]["schemas"]["ItemRequest"]["required"]
    create = item["post"]["description"].split("\n\n")[1]
    listed = create.split("Required: ")[1].rstrip(".").split(", ")
    assert sorted(listed) == sorted(f"`{name}`" for name in required)
    patch = item["patch"]["description"].split("\n\n")[1]
    assert patch.endswith("Set at create only: `costMethod`, `id`, `itemType`.")
