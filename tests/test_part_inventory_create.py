"""inventory-control/part-inventory (contract 6): create, generated serial and lot numbers
(6.3), and the create rules, with exact bodies."""

from decimal import Decimal

import pytest

from inventory import services
from inventory.models import PartInventory
from tests.support.errors import assert_error, err, failed, invalid, required
from tests.support.part_inventory import (
    PI,
    SERIAL_QUANTITY,
    create,
    get_result,
    ledger_of,
    make,
    mismatch,
    snapshot,
)
from tests.support.refs import ONE, ref
from tests.support.users import make_user

pytestmark = pytest.mark.django_db

# --- create: the seed's three examples --------------------------------------------------------


def test_seed_create_serial_part(api, admin_user, parts, shelf):
    widget = parts["serial"]
    response = create(
        api,
        {
            "part": {"key": str(widget.pk)},
            "serialNumber": "SN-1001",
            "quantity": 1,
            "cost": "12.50",
            "location": {"key": str(shelf.pk)},
        },
    )
    inventory = PartInventory.objects.get()
    href = f"{PI}/{inventory.pk}"
    assert response.json() == {
        "ia::result": {"key": str(inventory.pk), "id": str(inventory.pk), "href": href},
        "ia::meta": ONE,
    }
    assert response["Location"] == href
    assert response["ETag"] == '"1"'

    got = api.get(href)
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    result = got.json()["ia::result"]
    audit = result.pop("audit")
    assert audit["createdByUser"] == {
        "key": str(admin_user.pk),
        "id": "admin",
        "href": f"/objects/company-config/user/{admin_user.pk}",
    }
    assert audit["createdDateTime"].endswith("Z")
    assert result == {
        "key": str(inventory.pk),
        "id": str(inventory.pk),
        "part": ref(widget),
        "serialNumber": "SN-1001",
        "lotNumber": None,
        "location": ref(shelf),
        "quantity": 1,
        "cost": "12.5",
        "unitOfMeasure": "piece",
        "trackingType": "serial",
        "kittedQuantity": 0,
        "installedQuantity": 0,
        "kitted": False,
        "installed": False,
        "status": "available",
        "runs": [],
        "builtBy": None,
        "originPartInventory": None,
        "etag": '"1"',
        "href": href,
    }
    assert ledger_of(inventory.pk) == [("create", 1, 0, 0, 1)]


def test_seed_create_lot_part_without_quantity_is_zero(forced_api, parts):
    resin = parts["lot"]
    create(forced_api, {"part": {"id": "Resin"}, "lotNumber": "LOT-7"})
    inventory = PartInventory.objects.get()
    assert (inventory.part_id, inventory.lot_number, inventory.quantity) == (resin.pk, "LOT-7", 0)
    result = get_result(forced_api, inventory)
    assert (result["quantity"], result["trackingType"], result["unitOfMeasure"]) == (0, "lot", "kg")
    assert result["serialNumber"] is None
    assert ledger_of(inventory.pk) == [("create", 0, 0, 0, 0)]


def test_seed_create_with_generated_serial_and_lot_numbers(forced_api, parts):
    board = parts["serial_lot"]
    body = {
        "part": {"key": str(board.pk)},
        "autogenerateSerialNumber": True,
        "autogenerateLotNumber": True,
        "quantity": 1,
    }
    create(forced_api, body)
    create(forced_api, body)
    rows = list(PartInventory.objects.order_by("pk").values_list("serial_number", "lot_number"))
    assert rows == [("Board-000001", "Board-L000001"), ("Board-000002", "Board-L000002")]
    result = get_result(forced_api, PartInventory.objects.order_by("pk").first())
    assert (result["serialNumber"], result["lotNumber"], result["trackingType"]) == (
        "Board-000001",
        "Board-L000001",
        "serial",
    )
    # Write-only: never rendered.
    assert "autogenerateSerialNumber" not in result and "autogenerateLotNumber" not in result
    board.refresh_from_db()
    assert (board.serial_counter, board.lot_counter) == (2, 2)


# --- generated numbers (6.3) -----------------------------------------------------------------


def test_serial_mask_fills_the_hashes(admin_user, parts):
    gizmo = parts["masked"]
    first = make(admin_user, gizmo, autogenerate_serial_number=True)
    second = make(admin_user, gizmo, autogenerate_serial_number=True, quantity=1)
    assert (first.serial_number, second.serial_number) == ("SN-00001", "SN-00002")
    assert services.serial_number_next(part=gizmo) == "SN-00003"
    # Lots use the mask too, with the L right before the digits.
    assert services.lot_number_next(part=gizmo) == "SN-L00001"


def test_lot_numbers_for_a_lot_part(admin_user, parts):
    resin = parts["lot"]
    inventory = make(admin_user, resin, autogenerate_lot_number=True, quantity=5)
    assert (inventory.lot_number, inventory.serial_number, inventory.quantity) == (
        "Resin-L000001",
        None,
        5,
    )


@pytest.mark.parametrize(
    ("mask", "counter", "prefix", "number"),
    [
        ("", 1, "", "P-000001"),
        ("", 1234567, "", "P-1234567"),
        ("", 42, "L", "P-L000042"),
        ("SN-#####", 7, "", "SN-00007"),
        ("SN-#####", 7, "L", "SN-L00007"),
        ("##-X-##", 123, "", "01-X-23"),
        ("A##Z", 12345, "", "A12345Z"),
        ("A##Z", 12345, "L", "AL12345Z"),
    ],
)
def test_format_generated_number(mask, counter, prefix, number):
    assert (
        services.format_generated_number(code="P", mask=mask, counter=counter, prefix=prefix)
        == number
    )


def test_generation_skips_numbers_taken_by_hand_and_never_reuses(admin_user, parts):
    widget = parts["serial"]
    make(admin_user, widget, serial_number="Widget-000002")
    make(admin_user, widget, serial_number="Widget-000003")
    first = make(admin_user, widget, autogenerate_serial_number=True)
    second = make(admin_user, widget, autogenerate_serial_number=True)
    assert (first.serial_number, second.serial_number) == ("Widget-000001", "Widget-000004")
    # Deleting frees nothing: the counter only grows.
    services.part_inventory_delete(part_inventory_key=second.pk, user=admin_user)
    third = make(admin_user, widget, autogenerate_serial_number=True)
    assert third.serial_number == "Widget-000005"
    widget.refresh_from_db()
    assert widget.serial_counter == 5


def test_generated_lot_skips_a_lot_entered_by_hand(admin_user, parts):
    resin = parts["lot"]
    make(admin_user, resin, lot_number="Resin-L000001")
    assert make(admin_user, resin, autogenerate_lot_number=True).lot_number == "Resin-L000002"


def test_failed_create_consumes_no_number(forced_api, parts):
    widget = parts["serial"]
    before = snapshot()
    response = forced_api.post(
        PI,
        {"part": {"key": str(widget.pk)}, "autogenerateSerialNumber": True, "quantity": 2},
        format="json",
    )
    assert response.status_code == 422
    assert snapshot() == before


# --- create: rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "body", "details"),
    [
        ("serial", {}, [required("serialNumber")]),
        ("serial", {"serialNumber": "  "}, [required("serialNumber")]),
        ("serial", {"lotNumber": "L1"}, [required("serialNumber")]),
        ("lot", {}, [required("lotNumber")]),
        (
            "lot",
            {"serialNumber": "S1", "lotNumber": "L1"},
            [mismatch("serialNumber", "Resin", "lot-tracked")],
        ),
        (
            "lot",
            {"autogenerateSerialNumber": True, "lotNumber": "L1"},
            [mismatch("autogenerateSerialNumber", "Resin", "lot-tracked")],
        ),
        (
            "lot",
            {"serialNumber": "S1"},
            [mismatch("serialNumber", "Resin", "lot-tracked"), required("lotNumber")],
        ),
        (
            "untracked",
            {"serialNumber": "S1", "lotNumber": "L1"},
            [
                mismatch("serialNumber", "Screw", "untracked"),
                mismatch("lotNumber", "Screw", "untracked"),
            ],
        ),
        (
            "untracked",
            {"autogenerateLotNumber": True},
            [mismatch("autogenerateLotNumber", "Screw", "untracked")],
        ),
        ("serial", {"serialNumber": "S1", "quantity": 2}, [invalid("quantity", SERIAL_QUANTITY)]),
        ("serial", {"serialNumber": "S1", "quantity": 0.5}, [invalid("quantity", SERIAL_QUANTITY)]),
        (
            "serial",
            {"autogenerateSerialNumber": True, "quantity": 3},
            [invalid("quantity", SERIAL_QUANTITY)],
        ),
        ("untracked", {"quantity": -1}, [invalid("quantity", "must be 0 or more")]),
        ("lot", {"lotNumber": "L1", "quantity": -0.5}, [invalid("quantity", "must be 0 or more")]),
        (
            "serial",
            {"serialNumber": "S1", "autogenerateSerialNumber": True},
            [
                invalid(
                    "autogenerateSerialNumber",
                    "give serialNumber or autogenerateSerialNumber, not both",
                )
            ],
        ),
        (
            "serial_lot",
            {"serialNumber": "S1", "lotNumber": "L1", "autogenerateLotNumber": True},
            [invalid("autogenerateLotNumber", "give lotNumber or autogenerateLotNumber, not both")],
        ),
    ],
)
def test_tracking_and_quantity_rules(forced_api, parts, part, body, details):
    before = snapshot()
    response = forced_api.post(PI, {"part": {"key": str(parts[part].pk)}, **body}, format="json")
    assert_error(response, 422, failed(*details))
    assert snapshot() == before


def test_what_each_kind_of_part_accepts(admin_user, parts):
    serial_with_lot = make(
        admin_user, parts["serial"], serial_number="S1", lot_number="L1", quantity=1
    )
    assert serial_with_lot.tracking_type == "serial"
    lot = make(admin_user, parts["lot"], lot_number="L1", quantity=Decimal("2.5"))
    assert lot.tracking_type == "lot"
    untracked = make(admin_user, parts["untracked"], quantity=1000)
    assert untracked.tracking_type == "untracked"
    kit_stock = make(admin_user, parts["skit"], serial_number="A-1")
    assert (kit_stock.tracking_type, kit_stock.quantity) == ("serial", 0)


@pytest.mark.parametrize(
    ("part", "code", "item_type"), [("noninv", "Service", "nonInventory"), ("kit", "Bundle", "kit")]
)
def test_only_inventory_and_stockable_kits_hold_inventory(forced_api, parts, part, code, item_type):
    before = snapshot()
    response = forced_api.post(
        PI, {"part": {"key": str(parts[part].pk)}, "quantity": 1}, format="json"
    )
    message = (
        f"Item {code} is of type {item_type}: only items of type inventory or stockableKit hold"
        " part inventory"
    )
    assert_error(
        response,
        422,
        failed(
            err(
                "KS-4240",
                message,
                target="part",
                ID=code,
                TYPE=item_type,
            )
        ),
    )
    assert snapshot() == before


def test_part_is_required(forced_api):
    response = forced_api.post(PI, {"quantity": 1}, format="json")
    assert_error(response, 422, failed(required("part")))


def test_unknown_part_or_location(forced_api, parts):
    response = forced_api.post(PI, {"part": {"key": "9999"}}, format="json")
    assert_error(
        response,
        422,
        failed(
            err(
                "KS-4224",
                "part refers to a inventory-control/item that does not exist: key 9999",
                target="part",
                FIELD="part",
                OBJECT="inventory-control/item",
                REFERENCE="key 9999",
            )
        ),
    )
    response = forced_api.post(
        PI,
        {"part": {"key": str(parts["untracked"].pk)}, "location": {"id": "nowhere"}},
        format="json",
    )
    assert response.status_code == 422
    detail = response.json()["ia::result"]["ia::error"]["details"][0]
    assert (detail["errorId"], detail["target"]) == ("KS-4224", "location")
    assert not PartInventory.objects.exists()


def test_duplicate_serial_per_part_is_409(forced_api, admin_user, parts):
    widget, gizmo = parts["serial"], parts["masked"]
    make(admin_user, widget, serial_number="SN-1")
    before = snapshot()
    response = forced_api.post(
        PI, {"part": {"key": str(widget.pk)}, "serialNumber": "SN-1"}, format="json"
    )
    assert_error(
        response,
        409,
        err(
            "KS-4091",
            "inventory-control/part-inventory with serialNumber SN-1 for part Widget already"
            " exists",
            target="serialNumber",
            OBJECT="inventory-control/part-inventory",
            FIELD="serialNumber",
            VALUE="SN-1 for part Widget",
        ),
    )
    assert snapshot() == before
    # Unique per part only: another part may use the same serial.
    create(forced_api, {"part": {"key": str(gizmo.pk)}, "serialNumber": "SN-1"})


def test_wrong_types_and_unknown_fields(forced_api, parts):
    widget = parts["serial"]
    response = forced_api.post(
        PI,
        {"part": {"key": str(widget.pk)}, "serialNumber": 5, "quantity": "many", "bogus": 1},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["ia::result"]["ia::error"]
    assert (error["errorId"], [d["target"] for d in error["details"]]) == ("REST-1064", ["/bogus"])
    response = forced_api.post(
        PI,
        {"part": {"key": str(widget.pk)}, "serialNumber": 5, "autogenerateLotNumber": "yes"},
        format="json",
    )
    assert response.status_code == 422
    details = response.json()["ia::result"]["ia::error"]["details"]
    assert sorted(d["target"] for d in details) == ["autogenerateLotNumber", "serialNumber"]
    assert not PartInventory.objects.exists()


def test_read_only_user_cannot_write(client_for, parts):
    reader = make_user("reader", "inventory.view_partinventory")
    response = client_for(reader).post(
        PI, {"part": {"key": str(parts["untracked"].pk)}}, format="json"
    )
    assert_error(
        response,
        403,
        err(
            "KS-4031",
            "You do not have permission to perform this action",
        ),
    )
    assert client_for(reader).get(PI).status_code == 200


def test_the_service_refuses_a_field_it_does_not_know(admin_user, parts):
    """A record is a TypedDict read by key: a misspelt field raises, as an unknown keyword did,
    instead of creating a row without it."""
    with pytest.raises(TypeError, match="no field lot"):
        services.part_inventory_create(user=admin_user, part=parts["lot"], quantity=1, lot="L-1")
    with pytest.raises(TypeError, match="no field colour, lot"):
        services.part_inventory_create_many(
            user=admin_user,
            records=[{"part": parts["lot"]}, {"part": parts["lot"], "lot": "L", "colour": 1}],
        )
    assert not PartInventory.objects.exists()
