"""The kitting workflows of contract 7.3 and 7.4: issue, move-to-inventory and run/complete."""

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from core.errors import DomainErrors
from inventory import services as inventory_services
from inventory.models import InventoryTransaction, PartInventory
from kitting import services
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.errors import assert_error, assert_rules, err, invalid, not_found, required
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import (
    COMPLETE,
    ISSUE,
    MOVE,
    assert_ledger_invariant,
    exceeds_on_hand,
    fresh,
    issue_body,
    kit_closed,
    ledger,
    lines_of,
    run_closed,
    serial_moves_one,
)
from tests.support.refs import ONE, ref, snapshot
from tests.support.users import make_user

D = Decimal
KIT_OBJECT = "inventory-control/part-kit"
RUN_OBJECT = "inventory-control/run"
STATE = (PartInventory, PartKit, PartKitLine, Run, InventoryTransaction, Installation)


@pytest.fixture
def shop(admin_user):
    """A serial, a lot and an untracked part in stock, two warehouses, and a run with a kit."""
    widget = part(admin_user, "Widget", enable_serial_no=True, serial_mask="W-####")
    resin = part(admin_user, "Resin", enable_lot_category=True)
    screw = part(admin_user, "Screw")
    wh1 = inventory_services.warehouse_create(user=admin_user, code="WH-1", name="Main")
    wh2 = inventory_services.warehouse_create(user=admin_user, code="WH-2", name="Line side")
    the_run = run(admin_user, "RUN-1")
    return {
        "widget": widget,
        "resin": resin,
        "screw": screw,
        "wh1": wh1,
        "wh2": wh2,
        "serial": stock(admin_user, widget, 1, serial_number="W-0001", location=wh1),
        "lot": stock(admin_user, resin, 10, lot_number="L-1", location=wh1),
        "loose": stock(admin_user, screw, 100),
        "run": the_run,
        "kit": kit(admin_user, the_run),
    }


def kit_move_result(part_kit, inventory, issued) -> dict:
    inventory = fresh(inventory)
    return {
        "ia::result": {
            **ref(part_kit),
            "partInventory": {**ref(inventory), "quantity": float(inventory.quantity)},
            "issuedQuantity": issued,
        },
        "ia::meta": ONE,
    }


# --- issue ---------------------------------------------------------------------------------------


def test_issue_lot_moves_quantity_into_the_kit_with_an_issue_row(api, shop):
    lot, part_kit, the_run = shop["lot"], shop["kit"], shop["run"]
    version = lot.version

    response = api.post(ISSUE, issue_body(part_kit, lot, 3), format="json")

    assert response.status_code == 200
    assert response.json() == kit_move_result(part_kit, lot, 3)
    assert response.json()["ia::result"]["partInventory"]["quantity"] == 7
    lot = fresh(lot)
    assert (lot.quantity, lot.kitted_quantity, lot.installed_quantity) == (7, 3, 0)
    assert lot.version == version + 1  # the ETag moves: a stale PATCH now gets 412
    assert lines_of(part_kit) == [(lot.pk, D(3))]
    assert ledger(lot)[-1] == ("issue", -3, 3, 0, 7, part_kit.pk, the_run.pk)

    again = api.post(ISSUE, issue_body(part_kit, lot, D("2.5")), format="json")
    assert again.status_code == 200
    assert again.json()["ia::result"]["issuedQuantity"] == 5.5
    assert again.json()["ia::result"]["partInventory"]["quantity"] == 4.5
    assert lines_of(part_kit) == [(lot.pk, D("5.5"))]  # one entry per inventory
    assert assert_ledger_invariant() == 3


def test_issue_untracked_and_serial(api, shop):
    loose, serial, part_kit = shop["loose"], shop["serial"], shop["kit"]

    untracked = api.post(ISSUE, issue_body(part_kit, loose, 40), format="json")
    assert untracked.json() == kit_move_result(part_kit, loose, 40)

    # A serial may leave the quantity out: it moves one unit.
    response = api.post(ISSUE, issue_body(part_kit, serial), format="json")
    assert response.status_code == 200
    assert response.json() == kit_move_result(part_kit, serial, 1)
    serial = fresh(serial)
    assert (serial.quantity, serial.kitted_quantity) == (0, 1)
    assert lines_of(part_kit) == [(loose.pk, D(40)), (serial.pk, D(1))]
    assert assert_ledger_invariant() == 3


def test_issue_serial_with_quantity_one_and_keys_as_numbers(api, shop):
    body = {"key": shop["kit"].pk, "partInventory": {"key": shop["serial"].pk}, "quantity": 1}
    response = api.post(ISSUE, body, format="json")
    assert response.json() == kit_move_result(shop["kit"], shop["serial"], 1)


def test_issue_served_under_the_intacct_prefix(api, shop):
    response = api.post(
        "/ia/api/v1" + ISSUE, issue_body(shop["kit"], shop["lot"], 1), format="json"
    )
    assert response.json() == kit_move_result(shop["kit"], shop["lot"], 1)


def test_issue_by_part_inventory_id(api, shop):
    body = {"key": str(shop["kit"].pk), "partInventory": {"id": str(shop["lot"].pk)}, "quantity": 1}
    response = api.post(ISSUE, body, format="json")
    assert response.json() == kit_move_result(shop["kit"], shop["lot"], 1)


def test_issue_more_than_on_hand_is_422_naming_both_and_changes_nothing(api, shop):
    lot = shop["lot"]
    before = snapshot(*STATE)
    response = api.post(ISSUE, issue_body(shop["kit"], lot, 11), format="json")
    assert_rules(response, exceeds_on_hand(lot.pk, "11", "10"))
    assert snapshot(*STATE) == before


def test_issue_a_serial_twice_is_422_with_nothing_on_hand(api, admin_user, shop):
    serial = shop["serial"]
    other = kit(admin_user, shop["run"])
    assert api.post(ISSUE, issue_body(shop["kit"], serial), format="json").status_code == 200
    before = snapshot(*STATE)

    response = api.post(ISSUE, issue_body(other, serial), format="json")

    assert_rules(response, exceeds_on_hand(serial.pk, "1", "0"))
    assert snapshot(*STATE) == before


@pytest.mark.parametrize("quantity", [2, 0, D("0.5")])
def test_issue_serial_quantity_must_be_one(api, shop, quantity):
    response = api.post(ISSUE, issue_body(shop["kit"], shop["serial"], quantity), format="json")
    assert_rules(response, serial_moves_one(shop["serial"]))


@pytest.mark.parametrize("inventory", ["lot", "loose"])
def test_issue_quantity_required_for_lot_and_untracked(api, shop, inventory):
    response = api.post(ISSUE, issue_body(shop["kit"], shop[inventory]), format="json")
    assert_rules(response, required("quantity"))
    null = {**issue_body(shop["kit"], shop[inventory]), "quantity": None}
    assert_rules(api.post(ISSUE, null, format="json"), required("quantity"))


@pytest.mark.parametrize("quantity", [0, -1, "-0.5"])
def test_issue_quantity_must_be_positive(api, shop, quantity):
    response = api.post(ISSUE, issue_body(shop["kit"], shop["lot"], quantity), format="json")
    assert_rules(response, invalid("quantity", "must be greater than 0"))


def test_issue_quantity_must_be_a_number(api, shop):
    for bad in ("three", True, {"n": 1}):
        response = api.post(ISSUE, issue_body(shop["kit"], shop["lot"], bad), format="json")
        assert response.status_code == 422
        assert response.json()["ia::result"]["ia::error"]["details"][0]["target"] == "quantity"


@pytest.mark.parametrize("status", ["completed", "canceled"])
def test_issue_to_a_closed_kit_is_422_with_every_problem(api, admin_user, shop, status):
    closed = kit(admin_user, shop["run"], status=status)
    before = snapshot(*STATE)

    assert_rules(
        api.post(ISSUE, issue_body(closed, shop["lot"], 1), format="json"), kit_closed(closed)
    )
    assert_rules(
        api.post(ISSUE, issue_body(closed, shop["lot"], 50), format="json"),
        kit_closed(closed),
        exceeds_on_hand(shop["lot"].pk, "50", "10"),
    )
    assert snapshot(*STATE) == before


def test_issue_to_open_kits_in_every_open_status(api, admin_user, shop):
    for status in ("draft", "requested", "inProgress", "delivered"):
        open_kit = kit(admin_user, shop["run"], status=status)
        assert (
            api.post(ISSUE, issue_body(open_kit, shop["lot"], 1), format="json").status_code == 200
        )
    assert fresh(shop["lot"]).kitted_quantity == 4


def test_issue_unknown_kit_is_404(api, shop):
    for key in ("999999", "abc"):
        body = {"key": key, "partInventory": {"key": str(shop["lot"].pk)}, "quantity": 1}
        assert_error(api.post(ISSUE, body, format="json"), 404, not_found(KIT_OBJECT, key))


def test_issue_payload_errors(api, shop):
    lot, part_kit = shop["lot"], shop["kit"]
    assert_rules(
        api.post(ISSUE, {"partInventory": {"key": str(lot.pk)}, "quantity": 1}, format="json"),
        required("key"),
    )
    assert_rules(
        api.post(ISSUE, {"key": str(part_kit.pk), "quantity": 1}, format="json"),
        required("partInventory"),
    )
    assert_rules(
        api.post(
            ISSUE, {"key": {"key": "1"}, "partInventory": {"key": str(lot.pk)}}, format="json"
        ),
        invalid("key", "must be the object's key, a string"),
    )
    missing = api.post(
        ISSUE,
        {"key": str(part_kit.pk), "partInventory": {"key": "999999"}, "quantity": 1},
        format="json",
    )
    assert_rules(
        missing,
        err(
            "KS-4224",
            "partInventory refers to a inventory-control/part-inventory that does not exist: "
            "key 999999",
            "partInventory",
            FIELD="partInventory",
            OBJECT="inventory-control/part-inventory",
            REFERENCE="key 999999",
        ),
    )


def test_issue_unknown_fields_are_400(api, shop):
    body = {**issue_body(shop["kit"], shop["lot"], 1), "qty": 1}
    body["partInventory"]["serial"] = "x"
    assert_error(
        api.post(ISSUE, body, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [
            err(
                "REST-1043",
                "/partInventory/serial is not a valid field",
                "/partInventory/serial",
                FIELD="/partInventory/serial",
            ),
            err("REST-1043", "/qty is not a valid field", "/qty", FIELD="/qty"),
        ],
    )


def test_issue_needs_a_json_object(api):
    assert_error(
        api.post(ISSUE, "", content_type="application/json"),
        400,
        err("REST-1028", "A POST request requires a payload", METHOD="POST"),
    )
    assert_error(
        api.post(ISSUE, [1], format="json"),
        400,
        err("KS-4002", "The payload must be a JSON object"),
    )


def test_workflows_only_answer_post(api):
    for path in (ISSUE, MOVE, COMPLETE):
        response = api.get(path)
        assert_error(
            response,
            405,
            err("KS-4051", f"Method GET is not allowed on {path}", METHOD="GET", PATH=path),
        )


def test_workflow_permissions(client_for, admin_user, shop):
    anonymous = client_for(None)
    body = issue_body(shop["kit"], shop["lot"], 1)
    assert_error(
        anonymous.post(ISSUE, body, format="json"),
        401,
        err("KS-4011", "Authentication credentials were not provided"),
    )
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    kit_only = client_for(make_user("kitter", "kitting.change_partkit"))
    assert_error(kit_only.post(ISSUE, body, format="json"), 403, forbidden)
    assert_error(kit_only.post(MOVE, body, format="json"), 403, forbidden)
    assert_error(
        kit_only.post(COMPLETE, {"key": str(shop["run"].pk)}, format="json"), 403, forbidden
    )
    allowed = client_for(
        make_user("stores", "kitting.change_partkit", "inventory.change_partinventory")
    )
    assert allowed.post(ISSUE, body, format="json").status_code == 200
    assert allowed.post(MOVE, body, format="json").status_code == 200
    assert_error(
        allowed.post(COMPLETE, {"key": str(shop["run"].pk)}, format="json"), 403, forbidden
    )
    builder = client_for(make_user("builder", "kitting.change_run"))
    services.run_update(run_key=shop["run"].pk, user=admin_user, part=shop["widget"])
    assert builder.post(COMPLETE, {"key": str(shop["run"].pk)}, format="json").status_code == 200
    assert fresh(shop["lot"]).modified_by.username == "stores"


# --- move to inventory ---------------------------------------------------------------------------


def test_move_part_of_a_lot_back_with_a_return_row_and_a_new_location(api, shop):
    lot, part_kit, wh2 = shop["lot"], shop["kit"], shop["wh2"]
    api.post(ISSUE, issue_body(part_kit, lot, 5), format="json")

    body = {**issue_body(part_kit, lot, 2), "location": {"id": "WH-2"}}
    response = api.post(MOVE, body, format="json")

    assert response.status_code == 200
    assert response.json() == kit_move_result(part_kit, lot, 3)
    lot = fresh(lot)
    assert (lot.quantity, lot.kitted_quantity, lot.location_id) == (7, 3, wh2.pk)
    assert lines_of(part_kit) == [(lot.pk, D(3))]
    assert ledger(lot)[-1] == ("return", 2, -2, 0, 7, part_kit.pk, shop["run"].pk)

    # The rest: the entry leaves the kit; no location keeps the one it has.
    rest = api.post(MOVE, issue_body(part_kit, lot, 3), format="json")
    assert rest.json() == kit_move_result(part_kit, lot, 0)
    lot = fresh(lot)
    assert (lot.quantity, lot.kitted_quantity, lot.location_id) == (10, 0, wh2.pk)
    assert lines_of(part_kit) == []
    assert assert_ledger_invariant() == 3


def test_move_serial_back_without_quantity(api, shop):
    serial, part_kit = shop["serial"], shop["kit"]
    api.post(ISSUE, issue_body(part_kit, serial), format="json")
    response = api.post(MOVE, {**issue_body(part_kit, serial), "location": None}, format="json")
    assert response.json() == kit_move_result(part_kit, serial, 0)
    serial = fresh(serial)
    assert (serial.quantity, serial.kitted_quantity, serial.location_id) == (1, 0, shop["wh1"].pk)
    assert_rules(
        api.post(MOVE, issue_body(part_kit, serial, 2), format="json"),
        err(
            "KS-4252",
            f"Part inventory {serial.pk} is not issued to part kit {part_kit.pk}",
            "partInventory",
            KEY=serial.pk,
            KIT=part_kit.pk,
        ),
    )


def test_move_rules(api, admin_user, shop):
    lot, serial, part_kit = shop["lot"], shop["serial"], shop["kit"]
    api.post(ISSUE, issue_body(part_kit, lot, 4), format="json")
    api.post(ISSUE, issue_body(part_kit, serial), format="json")
    other = kit(admin_user, shop["run"])
    before = snapshot(*STATE)

    assert_rules(
        api.post(MOVE, issue_body(part_kit, lot, 5), format="json"),
        err(
            "KS-4251",
            f"Cannot move 5 to inventory: part kit {part_kit.pk} holds 4 of part inventory "
            f"{lot.pk}",
            "quantity",
            REQUESTED="5",
            KIT=part_kit.pk,
            ISSUED="4",
            KEY=lot.pk,
        ),
    )
    assert_rules(api.post(MOVE, issue_body(part_kit, lot), format="json"), required("quantity"))
    assert_rules(
        api.post(MOVE, issue_body(part_kit, lot, 0), format="json"),
        invalid("quantity", "must be greater than 0"),
    )
    assert_rules(
        api.post(MOVE, issue_body(part_kit, serial, 2), format="json"), serial_moves_one(serial)
    )
    assert_rules(
        api.post(MOVE, issue_body(other, lot, 1), format="json"),
        err(
            "KS-4252",
            f"Part inventory {lot.pk} is not issued to part kit {other.pk}",
            "partInventory",
            KEY=lot.pk,
            KIT=other.pk,
        ),
    )
    assert_rules(
        api.post(
            MOVE, {**issue_body(part_kit, lot, 1), "location": {"id": "nowhere"}}, format="json"
        ),
        err(
            "KS-4224",
            "location refers to a inventory-control/warehouse that does not exist: id nowhere",
            "location",
            FIELD="location",
            OBJECT="inventory-control/warehouse",
            REFERENCE="id nowhere",
        ),
    )
    assert_error(
        api.post(MOVE, {**issue_body(part_kit, lot, 1), "extra": 1}, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/extra is not a valid field", "/extra", FIELD="/extra")],
    )
    assert snapshot(*STATE) == before


def test_move_out_of_a_closed_kit_is_422(api, admin_user, shop):
    lot, part_kit = shop["lot"], shop["kit"]
    api.post(ISSUE, issue_body(part_kit, lot, 4), format="json")
    services.part_kit_update(part_kit_key=part_kit.pk, user=admin_user, status="canceled")
    assert_rules(
        api.post(MOVE, issue_body(part_kit, lot, 1), format="json"), kit_closed(fresh(part_kit))
    )


# --- run/complete --------------------------------------------------------------------------------


@pytest.fixture
def assembly(admin_user, shop):
    """A serial-tracked stockable kit built from a widget, 2 resin and 4 screws per unit."""
    from kitcomponents.services import kit_component_create

    item = part(admin_user, "ASM", "stockableKit", enable_serial_no=True, serial_mask="ASM-###")
    for component, units in ((shop["widget"], 1), (shop["resin"], 2), (shop["screw"], 4)):
        kit_component_create(user=admin_user, kit=item, component=component, number_of_units=units)
    return item


def complete_result(the_run, outputs) -> dict:
    return {
        "ia::result": {
            **ref(the_run),
            "status": "complete",
            "outputs": [
                {
                    **ref(output),
                    "serialNumber": output.serial_number,
                    "lotNumber": output.lot_number,
                    "quantity": float(output.quantity),
                }
                for output in outputs
            ],
        },
        "ia::meta": ONE,
    }


def test_complete_installs_the_open_kits_and_builds_serial_outputs(api, admin_user, shop, assembly):
    lot, serial, loose, wh2 = shop["lot"], shop["serial"], shop["loose"], shop["wh2"]
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=2)
    first, second = kit(admin_user, the_run), kit(admin_user, the_run, status="delivered")
    canceled = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(first, lot, 3), format="json")
    api.post(ISSUE, issue_body(first, serial), format="json")
    api.post(ISSUE, issue_body(second, lot, 1), format="json")
    api.post(ISSUE, issue_body(second, loose, 8), format="json")
    api.post(ISSUE, issue_body(canceled, loose, 5), format="json")
    api.patch(f"/objects/{KIT_OBJECT}/{canceled.pk}", {"status": "canceled"}, format="json")

    body = {
        "key": str(the_run.pk),
        "location": {"key": str(wh2.pk)},
        "serialNumbers": ["A-1", "A-2"],
    }
    response = api.post(COMPLETE, body, format="json")

    assert response.status_code == 200, response.json()
    outputs = list(PartInventory.objects.filter(built_by=the_run).order_by("pk"))
    assert response.json() == complete_result(fresh(the_run), outputs)
    assert [(o.serial_number, o.quantity, o.location_id, o.part_id) for o in outputs] == [
        ("A-1", 1, wh2.pk, assembly.pk),
        ("A-2", 1, wh2.pk, assembly.pk),
    ]
    for output in outputs:
        assert ledger(output) == [("build", 1, 0, 0, 1, None, the_run.pk)]
    assert fresh(the_run).status == "complete"
    assert [fresh(k).status for k in (first, second, canceled)] == [
        "completed",
        "completed",
        "canceled",
    ]
    lot, serial, loose = fresh(lot), fresh(serial), fresh(loose)
    assert (lot.quantity, lot.kitted_quantity, lot.installed_quantity) == (6, 0, 4)
    assert (serial.quantity, serial.kitted_quantity, serial.installed_quantity) == (0, 0, 1)
    assert (loose.quantity, loose.kitted_quantity, loose.installed_quantity) == (92, 0, 8)
    assert ledger(lot)[-2:] == [
        ("install", 0, -3, 3, 6, first.pk, the_run.pk),
        ("install", 0, -1, 1, 6, second.pk, the_run.pk),
    ]
    assert list(
        Installation.objects.filter(run=the_run)
        .order_by("pk")
        .values_list("part_inventory_id", "quantity")
    ) == [(serial.pk, 1), (lot.pk, 4), (loose.pk, 8)]
    # The completed kits keep what they delivered; the canceled one gave its screws back.
    assert lines_of(first) == [(lot.pk, 3), (serial.pk, 1)]
    assert lines_of(canceled) == []
    assert assert_ledger_invariant() == 5


def test_complete_generates_serials_from_the_mask(api, admin_user, assembly):
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=3)
    response = api.post(COMPLETE, {"key": str(the_run.pk)}, format="json")
    outputs = list(PartInventory.objects.filter(built_by=the_run).order_by("pk"))
    assert [o.serial_number for o in outputs] == ["ASM-001", "ASM-002", "ASM-003"]
    assert [o.location_id for o in outputs] == [None, None, None]
    assert response.json() == complete_result(fresh(the_run), outputs)
    assert Installation.objects.count() == 0  # nothing was issued: nothing installed


def test_complete_lot_and_untracked_parts_build_one_record(api, admin_user, shop):
    lot_run = run(admin_user, "RUN-L", part=shop["resin"], quantity=D("12.5"))
    response = api.post(
        COMPLETE,
        {"key": str(lot_run.pk), "location": {"id": "WH-1"}, "serialNumbers": []},
        format="json",
    )
    [output] = PartInventory.objects.filter(built_by=lot_run)
    assert (output.lot_number, output.serial_number, output.quantity) == (
        "Resin-L000001",
        None,
        D("12.5"),
    )
    assert output.location == shop["wh1"]
    assert response.json() == complete_result(fresh(lot_run), [output])

    plain_run = run(admin_user, "RUN-U", part=shop["screw"], quantity=50)
    response = api.post(COMPLETE, {"key": str(plain_run.pk)}, format="json")
    [output] = PartInventory.objects.filter(built_by=plain_run)
    assert (output.lot_number, output.serial_number, output.quantity) == (None, None, 50)
    assert ledger(output) == [("build", 50, 0, 0, 50, None, plain_run.pk)]
    assert response.json() == complete_result(fresh(plain_run), [output])


def test_complete_rules(api, admin_user, shop, assembly):
    no_part = run(admin_user, "RUN-NP")
    assert_rules(
        api.post(COMPLETE, {"key": str(no_part.pk)}, format="json"),
        err(
            "KS-4256",
            "Run RUN-NP has no part: set the part it builds before completing it",
            "part",
            ID="RUN-NP",
        ),
    )
    kit_item = part(admin_user, "Bundle", "kit")
    bundle = run(admin_user, "RUN-K", part=kit_item)
    assert_rules(
        api.post(COMPLETE, {"key": str(bundle.pk)}, format="json"),
        err(
            "KS-4257",
            "Run RUN-K builds item Bundle of type kit: only inventory and stockableKit items are "
            "built into part inventory",
            "part",
            ID="RUN-K",
            PART="Bundle",
            TYPE="kit",
        ),
    )
    serial_run = run(admin_user, "RUN-S", part=assembly, quantity=2)
    assert_rules(
        api.post(COMPLETE, {"key": str(serial_run.pk), "serialNumbers": ["A-1"]}, format="json"),
        err(
            "KS-4260",
            "1 serial numbers given for a run of 2: give one per unit, or none to generate them",
            "serialNumbers",
            COUNT=1,
            QUANTITY="2",
        ),
    )
    assert_rules(
        api.post(
            COMPLETE, {"key": str(serial_run.pk), "serialNumbers": ["A-1", " A-1"]}, format="json"
        ),
        invalid("serialNumbers", "A-1 is given twice"),
    )
    assert_rules(
        api.post(
            COMPLETE, {"key": str(serial_run.pk), "serialNumbers": ["A-1", ""]}, format="json"
        ),
        invalid("serialNumbers", "a serial number cannot be blank"),
    )
    assert_rules(
        api.post(COMPLETE, {"key": str(shop["run"].pk), "serialNumbers": ["x"]}, format="json"),
        err(
            "KS-4256",
            "Run RUN-1 has no part: set the part it builds before completing it",
            "part",
            ID="RUN-1",
        ),
    )
    screws = run(admin_user, "RUN-U", part=shop["screw"])
    assert_rules(
        api.post(COMPLETE, {"key": str(screws.pk), "serialNumbers": ["x"]}, format="json"),
        invalid("serialNumbers", "part Screw is not serial-tracked"),
    )
    half = run(admin_user, "RUN-H", part=assembly, quantity=D("1.5"))
    assert_rules(
        api.post(COMPLETE, {"key": str(half.pk)}, format="json"),
        invalid("quantity", "part ASM is serial-tracked, so a run builds whole units, not 1.5"),
    )
    assert_error(
        api.post(COMPLETE, {"key": "424242"}, format="json"), 404, not_found(RUN_OBJECT, "424242")
    )
    assert_rules(api.post(COMPLETE, {}, format="json"), required("key"))
    assert_error(
        api.post(COMPLETE, {"key": str(screws.pk), "serials": []}, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/serials is not a valid field", "/serials", FIELD="/serials")],
    )
    assert not PartInventory.objects.filter(built_by__isnull=False).exists()


def test_complete_twice_or_canceled_is_422(api, admin_user, shop):
    the_run = run(admin_user, "RUN-U", part=shop["screw"])
    assert api.post(COMPLETE, {"key": str(the_run.pk)}, format="json").status_code == 200
    before = snapshot(*STATE)
    reason = "only a run that is todo or inProgress can be completed"
    assert_rules(
        api.post(COMPLETE, {"key": str(the_run.pk)}, format="json"),
        run_closed(fresh(the_run), "key", reason),
    )
    canceled = run(admin_user, "RUN-C", part=shop["screw"], status="canceled")
    assert_rules(
        api.post(COMPLETE, {"key": str(canceled.pk)}, format="json"),
        run_closed(canceled, "key", reason),
    )
    assert snapshot(*STATE) == {**before, "kitting.Run": snapshot(Run)["kitting.Run"]}


def test_complete_with_a_serial_number_already_taken_is_409_and_changes_nothing(
    api, admin_user, shop, assembly
):
    stock(admin_user, assembly, 1, serial_number="A-1")
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=2)
    part_kit = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 2), format="json")
    before = snapshot(*STATE)

    response = api.post(
        COMPLETE, {"key": str(the_run.pk), "serialNumbers": ["A-0", "A-1"]}, format="json"
    )

    value = "A-1 for part ASM"
    assert_error(
        response,
        409,
        err(
            "KS-4091",
            f"inventory-control/part-inventory with serialNumber {value} already exists",
            "serialNumbers",
            OBJECT="inventory-control/part-inventory",
            FIELD="serialNumber",
            VALUE=value,
        ),
    )
    assert snapshot(*STATE) == before


def test_after_completion_the_run_and_its_kits_are_closed(api, admin_user, shop):
    the_run = run(admin_user, "RUN-U", part=shop["screw"])
    part_kit = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 1), format="json")
    api.post(COMPLETE, {"key": str(the_run.pk)}, format="json")
    part_kit, the_run = fresh(part_kit), fresh(the_run)

    assert_rules(
        api.post(ISSUE, issue_body(part_kit, shop["lot"], 1), format="json"), kit_closed(part_kit)
    )
    assert_rules(
        api.post(MOVE, issue_body(part_kit, shop["lot"], 1), format="json"), kit_closed(part_kit)
    )
    assert_rules(
        api.post(KIT_PATH, {"run": {"id": "RUN-U"}}, format="json"),
        run_closed(the_run, "run", "no part kit can be added to it"),
    )
    # The output is ordinary inventory, ready for a higher-level kit.
    [output] = PartInventory.objects.filter(built_by=the_run)
    higher = kit(admin_user, run(admin_user, "RUN-TOP"))
    assert api.post(ISSUE, issue_body(higher, output, 1), format="json").status_code == 200
    assert assert_ledger_invariant() == 4


KIT_PATH = f"/objects/{KIT_OBJECT}"


def test_services_keep_the_rules_when_called_directly(admin_user, shop):
    """The admin and commands call the same services: the rules hold without the API."""
    lot, part_kit = shop["lot"], shop["kit"]
    move = services.part_kit_issue(
        user=admin_user, part_kit=part_kit, part_inventory=lot, quantity=4
    )
    assert (move.issued_quantity, move.part_inventory.quantity) == (4, 6)
    with pytest.raises(DomainErrors) as raised:
        services.part_kit_issue(user=admin_user, part_kit=part_kit, part_inventory=lot, quantity=7)
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("issue_exceeds_on_hand", "quantity")
    ]
    back = services.part_kit_move_to_inventory(
        user=admin_user, part_kit=part_kit, part_inventory=lot, quantity=4
    )
    assert (back.issued_quantity, back.part_inventory.quantity) == (0, 10)
    assert assert_ledger_invariant() == 3


@pytest.mark.parametrize(
    ("model", "change"),
    [
        ("inventory", {"quantity": F("quantity") - 11}),
        ("inventory", {"kitted_quantity": F("kitted_quantity") - 1}),
        ("inventory", {"installed_quantity": -1}),
        ("serial", {"kitted_quantity": 1}),  # on hand and in a kit at once
        ("line", {"issued_quantity": 0}),
    ],
)
def test_the_database_refuses_what_a_buggy_service_might_write(admin_user, shop, model, change):
    """Saleor's rule: every invariant is also a constraint, so a bug cannot make stock negative."""
    line_kit = kit(admin_user, shop["run"])
    services.part_kit_issue(
        user=admin_user, part_kit=line_kit, part_inventory=shop["loose"], quantity=1
    )
    rows = {
        "inventory": PartInventory.objects.filter(pk=shop["lot"].pk),
        "serial": PartInventory.objects.filter(pk=shop["serial"].pk),
        "line": PartKitLine.objects.filter(part_kit=line_kit),
    }[model]
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(**change)


# --- OpenAPI -------------------------------------------------------------------------------------


def test_workflows_are_documented_with_their_real_bodies(client):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    components = schema["components"]["schemas"]

    def resolve(node):
        if "allOf" in node:  # a read-only nested serializer: {"allOf": [{"$ref"}], "readOnly"}
            [node] = node["allOf"]
        return components[node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    expected = {
        ISSUE: ("PartKitIssueRequest", "KitMoveResult"),
        MOVE: ("PartKitMoveToInventoryRequest", "KitMoveResult"),
        COMPLETE: ("RunCompleteRequest", "RunCompleteResult"),
    }
    for path, (request_name, result_name) in expected.items():
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{request_name}"}
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["properties"]["ia::result"] == {"$ref": f"#/components/schemas/{result_name}"}
        assert set(ok["properties"]["ia::meta"]["properties"]) == {
            "totalCount",
            "totalSuccess",
            "totalError",
        }
        for status in ("400", "401", "403", "404", "422"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    assert set(components["PartKitIssueRequest"]["properties"]) == {
        "key",
        "partInventory",
        "quantity",
    }
    assert components["PartKitIssueRequest"]["required"] == ["key", "partInventory"]
    assert set(components["PartKitMoveToInventoryRequest"]["properties"]) == {
        "key",
        "partInventory",
        "quantity",
        "location",
    }
    assert set(components["RunCompleteRequest"]["properties"]) == {
        "key",
        "location",
        "serialNumbers",
    }
    result = components["KitMoveResult"]["properties"]
    assert set(result) == {"key", "id", "href", "partInventory", "issuedQuantity"}
    assert set(resolve(result["partInventory"])["properties"]) == {"key", "id", "href", "quantity"}
    outputs = components["RunCompleteResult"]["properties"]["outputs"]["items"]
    assert set(resolve(outputs)["properties"]) == {
        "key",
        "id",
        "href",
        "serialNumber",
        "lotNumber",
        "quantity",
    }
    kit_fields = components["PartKit"]["properties"]
    assert resolve(kit_fields["requirements"]["items"])["properties"].keys() == {
        "part",
        "requiredQuantity",
        "issuedQuantity",
        "shortQuantity",
    }
    assert "/ia/api/v1" + ISSUE not in schema["paths"]
