"""The kitting workflows of contract 7.3 and 7.4: move-to-inventory."""

from kitting import services
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.factories import kit
from tests.support.kitting import (
    ISSUE,
    MOVE,
    assert_ledger_invariant,
    fresh,
    issue_body,
    kit_closed,
    ledger,
    lines_of,
    serial_moves_one,
)
from tests.support.kitting_workflows import STATE, D, kit_move_result
from tests.support.refs import snapshot

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
