"""The OpenAPI document as a test reads it: real bodies validated against it with a real OpenAPI
3.0 schema validator (openapi-schema-validator: `nullable`, `readOnly`, formats), and a scene of
every object made with every optional member set, with the workflows' real answers."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from inventory import services as inventory_services
from inventory.models import InventoryTransaction, PartInventory, Warehouse
from kitcomponents.models import KitComponent
from kitting.selectors import requirement_list
from tests.support.factories import issue, kit, kit_line, part, run, stock, warehouse
from tests.support.kitting import ADJUST, COMPLETE, FULFILL, ISSUE, MOVE, SPLIT

JSON = "application/json"


@pytest.fixture(scope="session")
def openapi_document(django_db_setup, django_db_blocker) -> dict:
    """/api/schema/ as JSON, fetched once (the document depends on the code only)."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def schema_errors(document: dict, schema: dict, value) -> list[str]:
    """What is wrong with `value` against `schema` (a part of `document`, whose `$ref`s name
    the document's components), each as `<JSON path>: <message>`."""
    validator = OAS30Validator(
        {**schema, "components": document["components"]}, format_checker=oas30_format_checker
    )
    return sorted({message for error in validator.iter_errors(value) for message in _leaves(error)})


def _leaves(error) -> list[str]:
    """The errors under a `oneOf` that no choice matched, down to the members at fault."""
    if not error.context:
        return [f"{error.json_path}: {error.message}"]
    return [message for inner in error.context for message in _leaves(inner)]


def response_schema(document: dict, path: str, method: str, status: int | str) -> dict:
    """The schema of an answer, which is JSON alone."""
    response = document["paths"][path][method.lower()]["responses"][str(status)]
    assert list(response["content"]) == [JSON], (path, method, status)
    return response["content"][JSON]["schema"]


def assert_matches_schema(document: dict, path: str, method: str, response, status: int) -> None:
    """A real answer has the `status` expected (every operation also documents the error
    statuses, so an error would match too), that status is documented, and the body matches its
    schema."""
    assert response.status_code == status, (path, method, response.content)
    documented = document["paths"][path][method.lower()]["responses"]
    assert str(status) in documented, (path, method, status)
    if response.status_code == 204:
        return
    schema = response_schema(document, path, method, response.status_code)
    assert schema_errors(document, schema, response.json()) == [], (path, method)


def post(api, path: str, body: dict, **headers) -> dict:
    response = api.post(path, body, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()["ia::result"]


@pytest.fixture
def scene(api, admin_user):
    """Objects with every optional field set, and the workflows' real answers on the way:
    a serial-tracked stockable kit of a serial part and a lot part, built by a run from kitted
    stock, its output renumbered and issued on to a second run's kit."""
    user = admin_user
    shelf = warehouse(user, "WH-1", "Shelf")
    serial_part = part(
        user,
        "SER",
        enable_serial_no=True,
        serial_mask="SN-###",
        standard_cost=Decimal("2.5"),
        extended_description="A serial part",
    )
    lot_part = part(user, "LOT", enable_lot_category=True, lot_category="BATCH")
    assembly = part(
        user,
        "SKIT",
        "stockableKit",
        enable_serial_no=True,
        kit_revenue_posting="kitLevel",
        extended_description="A stockable kit",
    )
    kit_line(user, assembly, serial_part, 1, revenue_percentage=Decimal(40), line_number=1)
    kit_line(user, assembly, lot_part, 2, revenue_percentage=Decimal(60), line_number=2)
    serial = stock(
        user, serial_part, 1, serial_number="SN-001", lot_number="B-1", location=shelf, cost=1
    )
    lot = stock(user, lot_part, 10, lot_number="L-1", location=shelf, cost=Decimal("1.5"))
    first = run(user, "RUN-1", title="First build", part=assembly)
    first_kit = kit(user, first)
    requests = {
        ISSUE: {"key": str(first_kit.pk), "partInventory": {"key": str(serial.pk)}},
        MOVE: {
            "key": str(first_kit.pk),
            "partInventory": {"key": str(lot.pk)},
            "quantity": 1,
            "location": {"id": "WH-1"},
        },
        COMPLETE: {"key": str(first.pk), "location": {"id": "WH-1"}, "serialNumbers": ["ASM-1"]},
    }
    answers = {ISSUE: post(api, ISSUE, requests[ISSUE])}
    post(
        api, ISSUE, {"key": str(first_kit.pk), "partInventory": {"key": str(lot.pk)}, "quantity": 3}
    )
    answers[MOVE] = post(api, MOVE, requests[MOVE])
    answers[COMPLETE] = post(api, COMPLETE, requests[COMPLETE])
    # The lot moves to a second shelf (a ledger row with both locations), and a part of it is
    # split off there (part inventory with an origin).
    warehouse(user, "WH-2", "Back shelf")
    requests[ADJUST] = {
        "key": str(lot.pk),
        "type": "transfer",
        "location": {"id": "WH-2"},
        "reason": "Shelf reorganised",
    }
    requests[SPLIT] = {"key": str(lot.pk), "quantity": 2, "location": {"id": "WH-1"}}
    answers[ADJUST] = post(api, ADJUST, requests[ADJUST], HTTP_IF_MATCH="*")
    answers[SPLIT] = post(api, SPLIT, requests[SPLIT], HTTP_IF_MATCH="*")
    output = PartInventory.objects.get(built_by=first)
    inventory_services.part_inventory_update(
        part_inventory_key=output.pk, user=user, lot_number="B-9", cost=Decimal("9.5")
    )
    second = run(user, "RUN-2", title="Second build", part=assembly, quantity=2)
    second_kit = kit(user, second)
    issue(user, second_kit, PartInventory.objects.get(pk=output.pk))
    requests[FULFILL] = {"key": str(second_kit.pk), "location": {"id": "WH-1"}}
    answers[FULFILL] = post(api, FULFILL, requests[FULFILL])
    objects = {
        "inventory-control/warehouse": list(Warehouse.objects.all()),
        "inventory-control/item": [assembly, serial_part, lot_part],
        "inventory-control/kit-component": list(KitComponent.objects.all()),
        "inventory-control/part-inventory": list(PartInventory.objects.all()),
        "inventory-control/inventory-transaction": list(InventoryTransaction.objects.all()),
        "inventory-control/run": [first, second],
        "inventory-control/part-kit": [first_kit, second_kit],
        "inventory-control/requirement": list(requirement_list()),
    }
    return objects, requests, answers
