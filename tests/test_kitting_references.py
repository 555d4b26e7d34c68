"""Issue and move-to-inventory take their references by key: the body's references are resolved
without reading the rows, the service reads and locks them in its transaction, and a missing one
is answered exactly as before, named as the request named it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services as inventory_services
from inventory.models import InventoryTransaction, PartInventory
from kitting.models import PartKit, PartKitLine
from tests.support.errors import assert_error, assert_rules, err, not_found, reference_not_found
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import COMPLETE, ISSUE, MOVE, issue_body
from tests.support.refs import snapshot

STATE = (PartInventory, PartKit, PartKitLine, InventoryTransaction)
INVENTORY_OBJECT = "inventory-control/part-inventory"


@pytest.fixture
def shop(admin_user):
    screw = part(admin_user, "Screw")
    wh1 = inventory_services.warehouse_create(user=admin_user, code="WH-1", name="Main")
    return {
        "loose": stock(admin_user, screw, 100),
        "kit": kit(admin_user, run(admin_user)),
        "wh1": wh1,
    }


@pytest.mark.parametrize("path", [ISSUE, MOVE])
def test_a_workflow_reads_nothing_outside_its_transaction(forced_api, shop, path):
    # No bearer token (forced_api): every statement the request runs is the workflow's own.
    forced = forced_api
    forced.post(ISSUE, issue_body(shop["kit"], shop["loose"], 2), format="json")
    with CaptureQueriesContext(connection) as captured:
        response = forced.post(path, issue_body(shop["kit"], shop["loose"], 1), format="json")
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in captured.captured_queries]
    # The test's own transaction turns BEGIN/COMMIT into a savepoint and its release.
    assert statements[0].startswith("SAVEPOINT") and statements[-1].startswith("RELEASE")
    # Lock kit, lock inventory (with the kit's line), UPDATE, ledger INSERT, the line's change.
    assert len(statements) == 7


@pytest.mark.parametrize("path", [ISSUE, MOVE])
def test_a_missing_part_inventory_is_named_as_the_request_named_it(api, shop, path):
    before = snapshot(*STATE)
    for reference, named in (
        ({"key": "999999"}, "key 999999"),
        ({"key": "0999999"}, "key 0999999"),
        ({"id": "999999"}, "id 999999"),
        ({"key": "999999", "id": "999999"}, "key 999999"),
        ({"key": "abc"}, "key abc"),
    ):
        body = {"key": str(shop["kit"].pk), "partInventory": reference, "quantity": 1}
        assert_rules(
            api.post(path, body, format="json"),
            reference_not_found("partInventory", INVENTORY_OBJECT, named),
        )
    assert snapshot(*STATE) == before


def test_a_missing_part_inventory_is_answered_before_a_missing_kit(api, shop):
    for key in ("999999", "0999999", "abc"):
        body = {"key": key, "partInventory": {"key": "999999"}, "quantity": 1}
        assert_rules(
            api.post(ISSUE, body, format="json"),
            reference_not_found("partInventory", INVENTORY_OBJECT, "key 999999"),
        )
        body["partInventory"] = {"key": str(shop["loose"].pk)}
        assert_error(
            api.post(ISSUE, body, format="json"), 404, not_found("inventory-control/part-kit", key)
        )


def test_a_missing_location_is_answered_before_a_missing_kit(api, shop):
    lot = shop["loose"]
    api.post(ISSUE, issue_body(shop["kit"], lot, 2), format="json")
    before = snapshot(*STATE)
    for key in (str(shop["kit"].pk), "999999"):
        body = {**issue_body(shop["kit"], lot, 1), "key": key, "location": {"key": "999999"}}
        assert_rules(
            api.post(MOVE, body, format="json"),
            reference_not_found("location", "inventory-control/warehouse", "key 999999"),
        )
    assert snapshot(*STATE) == before


def test_a_reference_whose_key_and_id_differ_is_read_as_before(api, shop):
    lot = shop["loose"]
    body = {
        "key": str(shop["kit"].pk),
        "partInventory": {"key": str(lot.pk), "id": f"0{lot.pk}"},
        "quantity": 1,
    }
    mismatch = err(
        "KS-4225",
        f"partInventory: key {lot.pk} and id 0{lot.pk} name different objects",
        "partInventory",
        FIELD="partInventory",
        KEY=lot.pk,
        ID=f"0{lot.pk}",
    )
    assert_rules(api.post(ISSUE, body, format="json"), mismatch)


def test_a_location_named_by_key_or_id_moves_the_inventory(api, shop):
    lot, wh1 = shop["loose"], shop["wh1"]
    api.post(ISSUE, issue_body(shop["kit"], lot, 2), format="json")
    for location in ({"key": str(wh1.pk)}, {"id": "WH-1"}):
        body = {**issue_body(shop["kit"], lot, 1), "location": location}
        assert api.post(MOVE, body, format="json").status_code == 200
    lot.refresh_from_db()
    assert (lot.location_id, lot.quantity) == (wh1.pk, 100)


def test_an_unknown_run_is_named_as_the_request_named_it(api, db):
    for key in ("424242", "0424242", "abc", "99999999999999999999"):
        body = {"key": key}
        assert_error(
            api.post(COMPLETE, body, format="json"), 404, not_found("inventory-control/run", key)
        )


def test_issue_and_move_write_the_ledger_rows_and_stamps_the_orm_would(api, admin_user, shop):
    lot, part_kit, wh1 = shop["loose"], shop["kit"], shop["wh1"]
    version = lot.version
    assert api.post(ISSUE, issue_body(part_kit, lot, "2.5"), format="json").status_code == 200
    body = {**issue_body(part_kit, lot, "2.5"), "location": {"id": "WH-1"}}
    assert api.post(MOVE, body, format="json").status_code == 200
    lot.refresh_from_db()
    issued, returned = InventoryTransaction.objects.filter(part_inventory=lot).order_by("pk")[1:]
    expected = {
        "version": 1,
        "created_by_id": admin_user.pk,
        "modified_by_id": admin_user.pk,
        "part_inventory_id": lot.pk,
        "part_id": lot.part_id,
        "part_kit_id": part_kit.pk,
        "run_id": part_kit.run_id,
    }
    for row, kind, on_hand, after in (
        (issued, "issue", Decimal("-2.5"), Decimal("97.5")),
        (returned, "return", Decimal("2.5"), Decimal(100)),
    ):
        assert {name: getattr(row, name) for name in expected} == expected
        assert (row.type, row.quantity, row.kitted_quantity, row.installed_quantity) == (
            kind,
            on_hand,
            -on_hand,
            0,
        )
        assert row.quantity_after == after
        assert row.created_at == row.modified_at and row.created_at.tzinfo is not None
    # The inventory carries the same stamp as its last ledger row.
    assert (lot.version, lot.modified_by_id, lot.modified_at) == (
        version + 2,
        admin_user.pk,
        returned.created_at,
    )
    assert (lot.quantity, lot.kitted_quantity, lot.location_id) == (100, 0, wh1.pk)
    assert not PartKitLine.objects.filter(part_kit=part_kit).exists()
