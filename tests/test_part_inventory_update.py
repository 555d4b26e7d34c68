"""inventory-control/part-inventory (contract 6): update (6.2) and delete, with exact bodies."""

from decimal import Decimal

import pytest

from inventory.models import InventoryTransaction, PartInventory, Warehouse
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.errors import assert_error, err, failed, invalid, required
from tests.support.part_inventory import (
    PI,
    SERIAL_QUANTITY,
    get_result,
    install,
    issue,
    ledger_of,
    make,
    mismatch,
    snapshot,
)
from tests.support.refs import ONE

pytestmark = pytest.mark.django_db

# --- update (6.2) ------------------------------------------------------------------------------


def patch(forced_api, inventory, body, etag: str | None = '"1"'):
    headers = {} if etag is None else {"HTTP_IF_MATCH": etag}
    return forced_api.patch(f"{PI}/{inventory.pk}", body, format="json", **headers)


def test_patch_needs_if_match(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=3)
    before = snapshot()
    assert_error(
        patch(forced_api, inventory, {"quantity": 4}, etag=None),
        428,
        err(
            "KS-4281",
            "inventory-control/part-inventory can only be changed with an If-Match header"
            " carrying its current ETag",
            OBJECT="inventory-control/part-inventory",
        ),
    )
    assert_error(
        patch(forced_api, inventory, {"quantity": 4}, etag='"7"'),
        412,
        err(
            "KS-4121",
            'If-Match "7" does not match the current version "1"',
            GIVEN='"7"',
            CURRENT='"1"',
        ),
    )
    assert snapshot() == before


def test_patch_quantity_writes_adjust_row_and_bumps_etag(forced_api, admin_user, parts, shelf):
    inventory = make(admin_user, parts["lot"], lot_number="L1", quantity=10)
    response = patch(
        forced_api, inventory, {"quantity": 7.5, "location": {"key": str(shelf.pk)}, "cost": 3}
    )
    assert response.status_code == 200, response.content
    href = f"{PI}/{inventory.pk}"
    assert response.json() == {
        "ia::result": {"key": str(inventory.pk), "id": str(inventory.pk), "href": href},
        "ia::meta": ONE,
    }
    assert response["ETag"] == '"2"'
    inventory.refresh_from_db()
    assert (inventory.quantity, inventory.location_id, inventory.cost, inventory.version) == (
        Decimal("7.5"),
        shelf.pk,
        3,
        2,
    )
    assert ledger_of(inventory.pk) == [("create", 10, 0, 0, 10), ("adjust", -2.5, 0, 0, 7.5)]
    result = get_result(forced_api, inventory)
    assert (result["etag"], result["quantity"], result["cost"]) == ('"2"', 7.5, "3")
    # No quantity change, no ledger row; the version still moves.
    assert patch(forced_api, inventory, {"lotNumber": "L2"}, etag='"2"').status_code == 200
    inventory.refresh_from_db()
    assert (inventory.lot_number, inventory.version, len(ledger_of(inventory.pk))) == ("L2", 3, 2)
    # The old ETag is stale now.
    assert patch(forced_api, inventory, {"quantity": 1}, etag='"2"').status_code == 412


def test_patch_back_what_get_returned(forced_api, admin_user, parts, shelf):
    inventory = make(admin_user, parts["serial"], serial_number="S-9", location=shelf, quantity=1)
    body = get_result(forced_api, inventory)
    response = patch(forced_api, inventory, body)
    assert response.status_code == 200, response.content
    # It changes nothing, so the version stays (contract 12.2).
    assert response["ETag"] == '"1"'
    inventory.refresh_from_db()
    assert (inventory.serial_number, inventory.quantity, inventory.version) == ("S-9", 1, 1)


def test_part_is_immutable(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=1)
    other = parts["lot"]
    before = snapshot()
    assert_error(
        patch(forced_api, inventory, {"part": {"key": str(other.pk)}}),
        422,
        failed(
            err(
                "KS-4223",
                "part cannot be changed after create",
                target="part",
                FIELD="part",
            )
        ),
    )
    assert snapshot() == before
    # The same part sent back is fine.
    assert patch(forced_api, inventory, {"part": {"id": "Screw"}, "quantity": 2}).status_code == 200


@pytest.mark.parametrize(
    ("part", "start", "body", "details"),
    [
        (
            "serial",
            {"serial_number": "S1"},
            {"quantity": 2},
            [invalid("quantity", SERIAL_QUANTITY)],
        ),
        ("serial", {"serial_number": "S1"}, {"serialNumber": None}, [required("serialNumber")]),
        ("serial", {"serial_number": "S1"}, {"serialNumber": ""}, [required("serialNumber")]),
        ("lot", {"lot_number": "L1"}, {"lotNumber": None}, [required("lotNumber")]),
        (
            "lot",
            {"lot_number": "L1"},
            {"serialNumber": "S1"},
            [mismatch("serialNumber", "Resin", "lot-tracked")],
        ),
        ("untracked", {}, {"lotNumber": "L1"}, [mismatch("lotNumber", "Screw", "untracked")]),
        (
            "untracked",
            {"quantity": 5},
            {"quantity": -6},
            [invalid("quantity", "must be 0 or more")],
        ),
        ("untracked", {}, {"quantity": None}, [required("quantity")]),
    ],
)
def test_update_keeps_the_create_rules(forced_api, admin_user, parts, part, start, body, details):
    inventory = make(admin_user, parts[part], **start)
    before = snapshot()
    assert_error(patch(forced_api, inventory, body), 422, failed(*details))
    assert snapshot() == before


def test_patch_to_a_taken_serial_is_409(forced_api, admin_user, parts):
    widget = parts["serial"]
    make(admin_user, widget, serial_number="S1")
    second = make(admin_user, widget, serial_number="S2")
    before = snapshot()
    response = patch(forced_api, second, {"serialNumber": "S1"})
    assert response.status_code == 409
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4091"
    assert snapshot() == before
    # Its own serial sent back is no clash.
    assert patch(forced_api, second, {"serialNumber": "S2"}).status_code == 200


def test_patch_autogenerate_replaces_the_number(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["masked"], serial_number="HAND-1")
    assert patch(forced_api, inventory, {"autogenerateSerialNumber": True}).status_code == 200
    inventory.refresh_from_db()
    assert inventory.serial_number == "SN-00001"


def test_serial_in_a_kit_cannot_be_put_back_on_hand_by_patch(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    run = Run.objects.create(code="R-1")
    issue(inventory, PartKit.objects.create(run=run), 1, admin_user)
    before = snapshot()
    assert_error(
        patch(forced_api, inventory, {"quantity": 1}, etag='"2"'),
        422,
        failed(
            invalid(
                "quantity", "the serial is issued to a kit or installed, so its quantity stays 0"
            )
        ),
    )
    assert snapshot() == before


def test_kitting_changes_move_the_etag(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=5)
    issue(inventory, PartKit.objects.create(run=Run.objects.create(code="R-1")), 2, admin_user)
    assert patch(forced_api, inventory, {"quantity": 1}).status_code == 412
    response = patch(forced_api, inventory, {"quantity": 1}, etag='"2"')
    assert response.status_code == 200
    inventory.refresh_from_db()
    assert (inventory.quantity, inventory.kitted_quantity) == (1, 2)
    assert ledger_of(inventory.pk) == [
        ("create", 5, 0, 0, 5),
        ("issue", -2, 2, 0, 3),
        ("adjust", -2, 0, 0, 1),
    ]


# --- delete --------------------------------------------------------------------------------------


def delete(forced_api, inventory, etag: str | None = '"1"'):
    headers = {} if etag is None else {"HTTP_IF_MATCH": etag}
    return forced_api.delete(f"{PI}/{inventory.pk}", **headers)


def test_delete_needs_if_match_and_writes_a_delete_row(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["lot"], lot_number="L1", quantity=4)
    before = snapshot()
    assert delete(forced_api, inventory, etag=None).status_code == 428
    assert delete(forced_api, inventory, etag='"2"').status_code == 412
    assert snapshot() == before
    response = delete(forced_api, inventory)
    assert response.status_code == 204
    assert response.content == b""
    assert not PartInventory.objects.filter(pk=inventory.pk).exists()
    assert ledger_of(inventory.pk) == [("create", 4, 0, 0, 4), ("delete", -4, 0, 0, 0)]
    assert_error(
        forced_api.get(f"{PI}/{inventory.pk}"),
        404,
        err(
            "KS-4041",
            f"inventory-control/part-inventory with key {inventory.pk} was not found",
            OBJECT="inventory-control/part-inventory",
            KEY=inventory.pk,
        ),
    )


def test_delete_of_inventory_in_an_open_kit_is_409(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=5)
    issue(inventory, PartKit.objects.create(run=Run.objects.create(code="R-1")), 2, admin_user)
    before = snapshot()
    assert_error(
        delete(forced_api, inventory, etag='"2"'),
        409,
        err(
            "KS-4094",
            f"Part inventory {inventory.pk} cannot be deleted: 2 is still issued to open kits",
            KEY=inventory.pk,
            QUANTITY="2",
        ),
    )
    assert snapshot() == before


def test_delete_of_installed_inventory_is_409(forced_api, admin_user, parts):
    inventory = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    run = Run.objects.create(code="R-1")
    kit = PartKit.objects.create(run=run)
    issue(inventory, kit, 1, admin_user)
    install(inventory, kit, 1, admin_user)
    installation = Installation.objects.get()
    # run/complete keeps the kit's line as the record of what it delivered; both refer to it.
    line = PartKitLine.objects.get(part_inventory=inventory)
    references = f"installation {installation.pk}, part kit line {line.pk}"
    before = snapshot()
    assert_error(
        delete(forced_api, inventory, etag='"3"'),
        409,
        err(
            "KS-4092",
            f"inventory-control/part-inventory {inventory.pk} cannot be deleted: it is still"
            f" referenced by {references}",
            OBJECT="inventory-control/part-inventory",
            KEY=inventory.pk,
            REFERENCES=references,
        ),
    )
    assert snapshot() == before


def test_delete_of_a_run_output_is_409(forced_api, admin_user, parts):
    run = Run.objects.create(code="R-1", part=parts["skit"])
    output = make(
        admin_user,
        parts["skit"],
        autogenerate_serial_number=True,
        quantity=1,
        transaction_type="build",
        run=run,
    )
    assert (output.serial_number, output.built_by_id) == ("Assembly-000001", run.pk)
    assert ledger_of(output.pk) == [("build", 1, 0, 0, 1)]
    assert InventoryTransaction.objects.get(part_inventory_id=output.pk).run_id == run.pk
    before = snapshot()
    assert_error(
        delete(forced_api, output),
        409,
        err(
            "KS-4092",
            f"inventory-control/part-inventory {output.pk} cannot be deleted: it is still"
            f" referenced by inventory-control/run {run.pk}",
            OBJECT="inventory-control/part-inventory",
            KEY=output.pk,
            REFERENCES=f"inventory-control/run {run.pk}",
        ),
    )
    assert snapshot() == before


def test_warehouse_holding_part_inventory_cannot_be_deleted(forced_api, admin_user, parts, shelf):
    inventory = make(admin_user, parts["untracked"], location=shelf, quantity=1)
    response = forced_api.delete(f"/objects/inventory-control/warehouse/{shelf.pk}")
    assert_error(
        response,
        409,
        err(
            "KS-4092",
            f"inventory-control/warehouse {shelf.pk} cannot be deleted: it is still referenced"
            f" by inventory-control/part-inventory {inventory.pk}",
            OBJECT="inventory-control/warehouse",
            KEY=shelf.pk,
            REFERENCES=f"inventory-control/part-inventory {inventory.pk}",
        ),
    )
    assert Warehouse.objects.filter(pk=shelf.pk).exists()


def test_create_transaction_type_is_checked(admin_user, parts):
    with pytest.raises(ValueError):
        make(admin_user, parts["untracked"], transaction_type="adjust")
    assert not PartInventory.objects.exists()
