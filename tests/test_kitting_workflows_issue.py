"""The kitting workflows of contract 7.3 and 7.4: issue (and what every workflow route answers)."""

import pytest

from kitting import services
from tests.support.errors import assert_error, assert_rules, err, invalid, not_found, required
from tests.support.factories import kit
from tests.support.kitting import (
    COMPLETE,
    FULFILL,
    ISSUE,
    MOVE,
    assert_ledger_invariant,
    exceeds_on_hand,
    fresh,
    issue_body,
    kit_closed,
    ledger,
    lines_of,
    serial_moves_one,
)
from tests.support.kitting_workflows import KIT_OBJECT, STATE, D, kit_move_result
from tests.support.refs import snapshot
from tests.support.users import make_user

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
    for path in (ISSUE, MOVE, FULFILL, COMPLETE):
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
    fulfil = {"key": str(shop["kit"].pk)}
    assert_error(kit_only.post(FULFILL, fulfil, format="json"), 403, forbidden)
    assert_error(
        kit_only.post(COMPLETE, {"key": str(shop["run"].pk)}, format="json"), 403, forbidden
    )
    allowed = client_for(
        make_user("stores", "kitting.change_partkit", "inventory.change_partinventory")
    )
    assert allowed.post(ISSUE, body, format="json").status_code == 200
    assert allowed.post(MOVE, body, format="json").status_code == 200
    assert allowed.post(FULFILL, fulfil, format="json").status_code == 200
    assert_error(
        allowed.post(COMPLETE, {"key": str(shop["run"].pk)}, format="json"), 403, forbidden
    )
    builder = client_for(make_user("builder", "kitting.change_run"))
    services.run_update(run_key=shop["run"].pk, user=admin_user, part=shop["widget"])
    build = {"key": str(shop["run"].pk), "location": {"id": "WH-1"}}
    assert builder.post(COMPLETE, build, format="json").status_code == 200
    assert fresh(shop["lot"]).modified_by.username == "stores"
