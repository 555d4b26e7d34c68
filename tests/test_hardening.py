"""Inputs and races found in review: each once gave a 500 or let a rule slip."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.api import identity
from inventory import services as inventory_services
from inventory.models import PartInventory
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent
from tests.support.parallel import requests_together

KC = "/objects/inventory-control/kit-component"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers"
)


def error_of(response) -> dict:
    body = response.json()
    assert body["ia::meta"] == {"totalCount": 1, "totalSuccess": 0, "totalError": 1}
    error = body["ia::result"]["ia::error"]
    assert error.pop("supportId") == response["X-Request-Id"]
    return error


def not_found_detail(target: str, reference: str) -> dict:
    return {
        "code": "operationFailed",
        "message": f"{target} refers to a inventory-control/item that does not exist: {reference}",
        "errorId": "KS-4224",
        "target": target,
        "additionalInfo": {
            "messageId": "KS.REFERENCE_NOT_FOUND",
            "placeholders": {
                "FIELD": target,
                "OBJECT": "inventory-control/item",
                "REFERENCE": reference,
            },
            "propertySet": {},
        },
    }


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ({"key": "²"}, "key ²"),
        ({"key": "99999999999999999999999"}, "key 99999999999999999999999"),
        ({"key": "0"}, "key 0"),
        ({"id": "Kit\u0000_1"}, "id Kit\u0000_1"),
    ],
)
def test_references_that_cannot_exist_are_not_found(api, items, reference, text):
    data = {"kit": reference, "component": {"id": "Prnt_Paper"}, "numberOfUnits": 1}
    response = api.post(KC, data, format="json")
    assert response.status_code == 422
    assert error_of(response)["details"] == [not_found_detail("kit", text)]
    assert not KitComponent.objects.exists()


@pytest.mark.parametrize("key", ["99999999999999999999999", "²", "0", "-1"])
def test_detail_of_an_impossible_key_is_404(api, key):
    response = api.get(f"/objects/inventory-control/item/{key}")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "notFound",
        "message": f"inventory-control/item with key {key} was not found",
        "errorId": "KS-4041",
        "additionalInfo": {
            "messageId": "KS.OBJECT_NOT_FOUND",
            "placeholders": {"OBJECT": "inventory-control/item", "KEY": key},
            "propertySet": {},
        },
    }


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"{KC}?kit=99999999999999999999999", "kit"),
        (f"{KC}?component=1.5", "component"),
        ("/objects/inventory-control/run?part=1e30", "part"),
        ("/objects/inventory-control/part-kit?run=0", "run"),
        ("/objects/inventory-control/part-inventory?part=-3", "part"),
    ],
)
def test_key_filters_refuse_what_is_not_a_key(api, path, parameter):
    response = api.get(path)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalidRequest",
        "message": f"Query parameter {parameter} is invalid: not a valid value",
        "errorId": "KS-4003",
        "target": parameter,
        "additionalInfo": {
            "messageId": "KS.INVALID_PARAMETER",
            "placeholders": {"PARAMETER": parameter, "REASON": "not a valid value"},
            "propertySet": {},
        },
    }


def test_healthz_refuses_other_methods_with_an_error_body(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert error_of(response)["errorId"] == "KS-4051"


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_renumbering_and_pushing_lines_together_never_deadlocks(admin_user, items):
    kit = items["Kit_1"]
    parts = [
        inventory_services.item_create(
            user=admin_user, code=f"P{n}", name=f"P{n}", item_type="inventory"
        )
        for n in range(8)
    ]
    lines = [
        kit_services.kit_component_create(
            user=admin_user, kit=kit, component=part, number_of_units=1
        )
        for part in parts[:4]
    ]
    for _ in range(3):
        calls = [("patch", f"{KC}/{line.pk}", {"lineNumber": 1}) for line in lines]
        calls += [("patch", f"{KC}/{line.pk}", {"numberOfUnits": 2}) for line in lines]
        statuses = [r.status_code for r in requests_together(admin_user, calls)]
        assert statuses == [200] * len(calls)
    numbers = sorted(KitComponent.objects.filter(kit=kit).values_list("line_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 4


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_tracking_change_and_an_inventory_create_cannot_both_win(admin_user):
    for attempt in range(6):
        part = inventory_services.item_create(
            user=admin_user, code=f"T{attempt}", name="T", item_type="inventory"
        )
        responses = requests_together(
            admin_user,
            [
                ("patch", identity.href(part), {"tracking": {"enableSerialNo": True}}),
                (
                    "post",
                    "/objects/inventory-control/part-inventory",
                    {"part": {"key": str(part.pk)}, "quantity": 5},
                ),
            ],
        )
        statuses = [r.status_code for r in responses]
        part.refresh_from_db()
        has_inventory = PartInventory.objects.filter(part=part).exists()
        # Exactly one wins, and what is stored agrees with the winner.
        assert sorted(statuses) in ([200, 422], [201, 422])
        assert part.enable_serial_no is (statuses[0] == 200)
        assert has_inventory is (statuses[1] == 201)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_run_id_taken_while_we_insert_is_the_same_409(admin_user):
    """Deterministic race: our insert waits on the unique index behind an open transaction that
    holds the same id; when it commits, we must answer KS-4091, not a generic conflict."""
    from django.db import transaction

    from kitting import services as kitting_services

    results = []

    def late_request():
        client = APIClient()
        client.force_authenticate(admin_user)
        try:
            response = client.post("/objects/inventory-control/run", {"id": "RUN-R"}, format="json")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    with transaction.atomic():
        kitting_services.run_create(user=admin_user, code="RUN-R")
        late = threading.Thread(target=late_request)
        late.start()
        late.join(timeout=1.0)  # it passes the uniqueness check, then blocks on the index
        assert late.is_alive()
    late.join(timeout=30)
    [(status, body)] = results
    assert status == 409
    assert body["ia::result"]["ia::error"]["errorId"] == "KS-4091"
