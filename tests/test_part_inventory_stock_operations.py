"""The part-inventory workflows adjust (scrap, recount, transfer) and split (contract 15.4, 15.5,
15.7): exact bodies, ledger rows and database state, If-Match, the tracking rules, permissions,
and the ledger invariant (7.5) after a mix."""

from decimal import Decimal

import pytest

from core.errors import DomainErrors
from inventory import services
from inventory.models import InventoryTransaction, PartInventory
from kitting import services as kitting_services
from tests.support.errors import (
    FORBIDDEN,
    assert_error,
    assert_rules,
    err,
    invalid,
    not_found,
    precondition_failed,
    precondition_required,
    required,
)
from tests.support.factories import kit, run
from tests.support.kitting import ADJUST, SPLIT, assert_ledger_invariant, fresh
from tests.support.part_inventory import ledger_of, make, snapshot
from tests.support.refs import ONE, ref
from tests.support.users import make_user

INVENTORY = "inventory-control/part-inventory"
LEDGER = "/objects/inventory-control/inventory-transaction"
WAREHOUSE_MISSING = err(
    "KS-4224",
    "location refers to a inventory-control/warehouse that does not exist: key 999",
    "location",
    FIELD="location",
    OBJECT="inventory-control/warehouse",
    REFERENCE="key 999",
)


@pytest.fixture
def back(admin_user):
    return services.warehouse_create(user=admin_user, code="WH-2", name="Back shelf")


@pytest.fixture
def lot(admin_user, parts, shelf):
    return make(
        admin_user, parts["lot"], lot_number="L-7", quantity=10, location=shelf, cost=Decimal("2.5")
    )


def send(api, path, body, version=1):
    """POST a workflow with If-Match naming `version` (None: no header)."""
    headers = {} if version is None else {"HTTP_IF_MATCH": f'"{version}"'}
    return api.post(path, body, format="json", **headers)


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ia::meta"] == ONE
    return body["ia::result"]


def moved(inventory, quantity, location) -> dict:
    """The adjust answer: the inventory's reference, its quantity and location now."""
    return {**ref(inventory), "quantity": quantity, "location": location and ref(location)}


def stock_rows(inventory) -> list[tuple]:
    """(type, quantity, quantityAfter, reason, fromLocation, toLocation) ledger rows."""
    return list(
        InventoryTransaction.objects.filter(part_inventory_id=inventory.pk)
        .order_by("pk")
        .values_list("type", "quantity", "quantity_after", "reason", "from_location", "to_location")
    )


def scrap_exceeds(inventory, requested, available) -> dict:
    return err(
        "KS-4273",
        f"Cannot scrap {requested}: part inventory {inventory.pk} has {available} on hand",
        "quantity",
        REQUESTED=requested,
        KEY=inventory.pk,
        AVAILABLE=available,
    )


# --- adjust --------------------------------------------------------------------------------------


def test_scrap_removes_the_quantity_with_a_scrap_row_keeping_the_reason(api, lot, shelf):
    body = {"key": str(lot.pk), "type": "scrap", "quantity": 3, "reason": " water damage "}
    assert ok(send(api, ADJUST, body)) == moved(lot, 7, shelf)
    lot = fresh(lot)
    assert (lot.quantity, lot.version, lot.location_id) == (7, 2, shelf.pk)
    assert stock_rows(lot) == [
        ("create", 10, 10, "", None, None),
        ("scrap", -3, 7, "water damage", None, None),
    ]


def test_recount_sets_the_on_hand_quantity_with_the_difference(api, lot, shelf):
    body = {"key": str(lot.pk), "type": "recount", "quantity": 12.5, "reason": "stocktake"}
    assert ok(send(api, ADJUST, body)) == moved(lot, 12.5, shelf)
    body.update(quantity=4, reason="stocktake again")
    assert ok(send(api, ADJUST, body, version=2)) == moved(lot, 4, shelf)
    # A count that finds what the records say is still recorded, with no change.
    assert ok(send(api, ADJUST, {**body, "reason": "confirmed"}, version=3)) == moved(lot, 4, shelf)
    assert [row[:4] for row in stock_rows(lot)] == [
        ("create", 10, 10, ""),
        ("recount", Decimal("2.5"), Decimal("12.5"), "stocktake"),
        ("recount", Decimal("-8.5"), 4, "stocktake again"),
        ("recount", 0, 4, "confirmed"),
    ]
    assert fresh(lot).version == 4


def test_transfer_moves_the_inventory_and_records_both_locations(api, admin_user, lot, shelf, back):
    body = {"key": str(lot.pk), "type": "transfer", "location": {"id": "WH-2"}, "reason": "move"}
    assert ok(send(api, ADJUST, body)) == moved(lot, 10, back)
    assert (fresh(lot).location_id, fresh(lot).quantity) == (back.pk, 10)
    row = InventoryTransaction.objects.filter(part_inventory_id=lot.pk).latest("pk")
    assert stock_rows(lot)[-1] == ("transfer", 0, 10, "move", shelf.pk, back.pk)
    # The ledger object shows the reason and both locations, by GET and through the query service.
    got = ok(api.get(f"{LEDGER}/{row.pk}"))
    assert (got["type"], got["quantity"], got["quantityAfter"]) == ("transfer", 0, 10)
    assert (got["reason"], got["fromLocation"], got["toLocation"]) == (
        "move",
        ref(shelf),
        ref(back),
    )
    query = {
        "object": "inventory-control/inventory-transaction",
        "fields": ["type", "reason", "fromLocation.id", "toLocation.id"],
        "filters": [{"$eq": {"partInventory.key": str(lot.pk)}}],
        "orderBy": [{"key": "asc"}],
    }
    rows = api.post("/services/core/query", query, format="json").json()["ia::result"]
    assert rows == [
        {"type": "create", "reason": "", "fromLocation.id": None, "toLocation.id": None},
        {"type": "transfer", "reason": "move", "fromLocation.id": "WH-1", "toLocation.id": "WH-2"},
    ]
    # Inventory without a location moves too: the row has no origin.
    loose = make(admin_user, lot.part, lot_number="L-8", quantity=1)
    body = {"key": str(loose.pk), "type": "transfer", "location": {"key": str(shelf.pk)}}
    assert ok(send(api, ADJUST, {**body, "reason": "shelved"})) == moved(loose, 1, shelf)
    assert stock_rows(loose)[-1] == ("transfer", 0, 1, "shelved", None, shelf.pk)


def test_serial_inventory_is_scrapped_and_recounted_as_0_or_1(api, admin_user, parts):
    serial = make(admin_user, parts["serial"], serial_number="S-1", quantity=1)
    body = {"key": str(serial.pk), "type": "scrap", "quantity": 1, "reason": "broken"}
    assert ok(send(api, ADJUST, body)) == moved(serial, 0, None)
    recount = {"key": str(serial.pk), "type": "recount", "quantity": 2, "reason": "found"}
    assert_rules(
        send(api, ADJUST, recount, version=2),
        invalid("quantity", "serial inventory holds a quantity of 0 or 1"),
    )
    assert ok(send(api, ADJUST, {**recount, "quantity": 1}, version=2)) == moved(serial, 1, None)
    assert_rules(
        send(api, ADJUST, {**body, "quantity": 0.5}, version=3),
        invalid("quantity", "serial inventory holds a quantity of 0 or 1"),
    )
    # Issued to a kit, the serial's on-hand quantity stays 0.
    kitting_services.part_kit_issue(
        user=admin_user,
        part_kit_key=kit(admin_user, run(admin_user)).pk,
        part_inventory_key=serial.pk,
    )
    assert_rules(
        send(api, ADJUST, recount | {"quantity": 1}, version=4),
        invalid("quantity", "the serial is issued to a kit or installed, so its quantity stays 0"),
    )
    assert ledger_of(serial.pk) == [
        ("create", 1, 0, 0, 1),
        ("scrap", -1, 0, 0, 0),
        ("recount", 1, 0, 0, 1),
        ("issue", -1, 1, 0, 0),
    ]


def test_adjust_rules_are_422_with_one_detail_each_and_change_nothing(api, lot, shelf):
    before = snapshot()
    key = str(lot.pk)
    cases = [
        (
            {"key": key, "type": "scrap", "quantity": 11, "reason": "x"},
            [scrap_exceeds(lot, 11, 10)],
        ),
        (
            {"key": key, "type": "scrap", "quantity": 0, "reason": " "},
            [required("reason"), invalid("quantity", "must be greater than 0")],
        ),
        ({"key": key, "type": "recount", "reason": "x"}, [required("quantity")]),
        (
            {"key": key, "type": "recount", "quantity": -1, "reason": "x"},
            [invalid("quantity", "must be 0 or more")],
        ),
        (
            {"key": key, "type": "scrap", "quantity": 1, "location": {"id": "WH-1"}},
            [required("reason"), invalid("location", "leave it out for a scrap")],
        ),
        ({"key": key, "type": "transfer", "reason": "x"}, [required("location")]),
        (
            {
                "key": key,
                "type": "transfer",
                "quantity": 1,
                "location": {"id": "WH-1"},
                "reason": "x",
            },
            [
                invalid("quantity", "leave it out for a transfer"),
                invalid("location", "the inventory is already at WH-1"),
            ],
        ),
        (
            {"key": key, "type": "transfer", "location": {"key": "999"}, "reason": "x"},
            [WAREHOUSE_MISSING, required("location")],
        ),
    ]
    for body, details in cases:
        assert_rules(send(api, ADJUST, body), *details)
    assert snapshot() == before


def test_adjust_payload_errors(api, lot):
    body = {"key": str(lot.pk), "type": "lose", "reason": "x"}
    assert_error(
        send(api, ADJUST, {**body, "extra": 1}),
        400,
        err("REST-1064", "Payload contains errors"),
        details=[err("REST-1043", "/extra is not a valid field", "/extra", FIELD="/extra")],
    )
    assert_rules(send(api, ADJUST, body), invalid("type", '"lose" is not a valid choice.'))
    assert_rules(send(api, SPLIT, {"key": str(lot.pk)}), required("quantity"))


def test_if_match_is_required_and_checked_under_the_lock(api, lot):
    before = snapshot()
    body = {"key": str(lot.pk), "type": "scrap", "quantity": 1, "reason": "x"}
    for path, request in ((ADJUST, body), (SPLIT, {"key": str(lot.pk), "quantity": 1})):
        assert_error(send(api, path, request, version=None), 428, precondition_required(INVENTORY))
        assert_error(send(api, path, request, version=7), 412, precondition_failed('"7"', '"1"'))
    assert snapshot() == before
    assert ok(api.post(ADJUST, body, format="json", HTTP_IF_MATCH='"3", W/"1"'))["quantity"] == 9
    assert ok(
        api.post(SPLIT, {"key": str(lot.pk), "quantity": 1}, format="json", HTTP_IF_MATCH="*")
    )
    assert fresh(lot).quantity == 8


def test_unknown_inventory_is_404(api):
    body = {"key": "999", "type": "scrap", "quantity": 1, "reason": "x"}
    assert_error(send(api, ADJUST, body), 404, not_found(INVENTORY, "999"))
    assert_error(send(api, SPLIT, {"key": "999", "quantity": 1}), 404, not_found(INVENTORY, "999"))


def test_permissions(client_for, lot):
    body = {"key": str(lot.pk), "type": "scrap", "quantity": 1, "reason": "x"}
    split = {"key": str(lot.pk), "quantity": 1}
    viewer = client_for(make_user("viewer", "inventory.view_partinventory"))
    assert_error(send(viewer, ADJUST, body), 403, FORBIDDEN)
    assert_error(send(viewer, SPLIT, split), 403, FORBIDDEN)
    assert fresh(lot).quantity == 10
    clerk = client_for(make_user("clerk", "inventory.change_partinventory"))
    assert ok(send(clerk, ADJUST, body))["quantity"] == 9
    assert ok(send(clerk, SPLIT, split, version=2))["quantity"] == 1
    assert fresh(lot).modified_by.username == "clerk"


def test_a_keyed_adjust_answers_once(api, lot, shelf):
    body = {"key": str(lot.pk), "type": "scrap", "quantity": 2, "reason": "x"}
    headers = {"HTTP_IF_MATCH": '"1"', "HTTP_IDEMPOTENCY_KEY": "scrap-1"}
    first = api.post(ADJUST, body, format="json", **headers)
    again = api.post(ADJUST, body, format="json", **headers)
    assert first.json() == again.json() and ok(first) == moved(lot, 8, shelf)
    assert "x-ia-idempotency-cached-date" in again
    assert [row[0] for row in stock_rows(lot)] == ["create", "scrap"]


# --- split ---------------------------------------------------------------------------------------


def test_split_makes_new_inventory_of_the_same_lot_and_cost(api, admin_user, lot, shelf):
    answer = ok(send(api, SPLIT, {"key": str(lot.pk), "quantity": 4}))
    new = PartInventory.objects.get(origin_part_inventory=lot)
    assert answer == {**moved(new, 4, shelf), "originPartInventory": ref(lot)}
    assert (new.part_id, new.lot_number, new.cost, new.quantity, new.location_id) == (
        lot.part_id,
        "L-7",
        Decimal("2.5"),
        4,
        shelf.pk,
    )
    assert (fresh(lot).quantity, fresh(lot).version, new.version) == (6, 2, 1)
    # Both sides of the split sum to zero; the new record starts with its split row.
    assert ledger_of(lot.pk) == [("create", 10, 0, 0, 10), ("split", -4, 0, 0, 6)]
    assert ledger_of(new.pk) == [("split", 4, 0, 0, 4)]
    got = ok(api.get(f"/objects/{INVENTORY}/{new.pk}"))
    assert (got["originPartInventory"], got["lotNumber"], got["quantity"]) == (ref(lot), "L-7", 4)
    assert ok(api.get(f"/objects/{INVENTORY}/{lot.pk}"))["originPartInventory"] is None


def test_split_untracked_to_another_location(api, admin_user, parts, shelf, back):
    screws = make(admin_user, parts["untracked"], quantity=100, location=shelf)
    answer = ok(
        send(api, SPLIT, {"key": str(screws.pk), "quantity": 30, "location": {"id": "WH-2"}})
    )
    new = PartInventory.objects.get(pk=answer["key"])
    assert answer == {**moved(new, 30, back), "originPartInventory": ref(screws)}
    assert (new.lot_number, new.serial_number, new.location_id) == (None, None, back.pk)
    assert fresh(screws).quantity == 70


def test_split_rules_are_422_and_change_nothing(api, admin_user, parts, lot):
    serial = make(admin_user, parts["serial"], serial_number="S-1", quantity=1)
    before = snapshot()
    assert_rules(
        send(api, SPLIT, {"key": str(serial.pk), "quantity": 1}),
        err(
            "KS-4275",
            f"Part inventory {serial.pk} is serial S-1: only lot and untracked inventory can be "
            "split",
            "key",
            KEY=serial.pk,
            SERIAL="S-1",
        ),
    )
    for quantity in (10, 10.5):
        assert_rules(
            send(api, SPLIT, {"key": str(lot.pk), "quantity": quantity}),
            err(
                "KS-4274",
                f"Cannot split {quantity} off part inventory {lot.pk}: it has 10 on hand, and a "
                "split leaves some behind",
                "quantity",
                REQUESTED=quantity,
                KEY=lot.pk,
                AVAILABLE=10,
            ),
        )
    assert_rules(
        send(api, SPLIT, {"key": str(lot.pk), "quantity": 0, "location": {"key": "999"}}),
        WAREHOUSE_MISSING,
        invalid("quantity", "must be greater than 0"),
    )
    assert snapshot() == before


# --- the ledger explains every unit after a mix ---------------------------------------------------


def test_ledger_invariant_after_a_mix_of_workflows(api, admin_user, lot, back):
    part_kit = kit(admin_user, run(admin_user))
    kitting_services.part_kit_issue(
        user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=lot.pk, quantity=Decimal(3)
    )
    split = ok(send(api, SPLIT, {"key": str(lot.pk), "quantity": 2}, version=2))
    adjust = {"key": split["key"], "type": "transfer", "location": {"id": "WH-2"}, "reason": "r"}
    ok(send(api, ADJUST, adjust))
    ok(send(api, ADJUST, {"key": str(lot.pk), "type": "scrap", "quantity": 1, "reason": "r"}, 3))
    ok(send(api, ADJUST, {"key": split["key"], "type": "recount", "quantity": 5, "reason": "r"}, 2))
    kitting_services.part_kit_move_to_inventory(
        user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=lot.pk, quantity=Decimal(1)
    )
    assert (fresh(lot).quantity, fresh(lot).kitted_quantity) == (5, 2)
    assert PartInventory.objects.get(pk=split["key"]).quantity == 5
    assert assert_ledger_invariant() == 2


def test_openapi_documents_both_workflows_with_if_match_required(client):
    schema = client.get("/api/schema/?format=json").json()
    for path, members in (
        (ADJUST, ["key", "type", "quantity", "location", "reason"]),
        (SPLIT, ["key", "quantity", "location"]),
    ):
        operation = schema["paths"][path]["post"]
        (if_match,) = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert (if_match["in"], if_match["required"]) == ("header", True)
        request = operation["requestBody"]["content"]["application/json"]["schema"]
        component = schema["components"]["schemas"][request["$ref"].rsplit("/", 1)[1]]
        assert list(component["properties"]) == members
        assert {"200", "412", "422", "428"} <= set(operation["responses"])


def test_the_adjust_service_refuses_an_unknown_type(admin_user, lot):
    with pytest.raises(DomainErrors) as refused:
        services.part_inventory_adjust(
            user=admin_user, part_inventory_key=lot.pk, type="lose", quantity=1, reason="x"
        )
    assert [(e.code, e.field, e.params) for e in refused.value.errors] == [
        ("invalid_value", "type", {"REASON": "one of scrap, recount, transfer"})
    ]
