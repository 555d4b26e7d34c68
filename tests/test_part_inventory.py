"""inventory-control/part-inventory (contract 6): every rule and status, with exact bodies."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services
from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitting import services as kitting_services
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.errors import assert_error, err, failed, invalid, required
from tests.support.refs import ONE, ref
from tests.support.users import make_user

PI = "/objects/inventory-control/part-inventory"

pytestmark = pytest.mark.django_db


# --- helpers shared with the ledger and concurrency tests -----------------------------------


def snapshot() -> tuple:
    """Everything a failed part-inventory request must leave as it was."""
    return (
        list(PartInventory.objects.order_by("pk").values()),
        list(InventoryTransaction.objects.order_by("pk").values()),
        list(Item.objects.order_by("pk").values("pk", "serial_counter", "lot_counter")),
    )


def ledger_of(inventory_id: int) -> list[tuple]:
    return list(
        InventoryTransaction.objects.filter(part_inventory_id=inventory_id)
        .order_by("pk")
        .values_list("type", "quantity", "kitted_quantity", "installed_quantity", "quantity_after")
    )


def issue(inventory: PartInventory, kit: PartKit, quantity, user) -> None:
    """Issue through kitting's own workflow service, so these tests see what kitting writes."""
    kitting_services.part_kit_issue(
        user=user, part_kit=kit, part_inventory=inventory, quantity=Decimal(quantity)
    )


def install(inventory: PartInventory, kit: PartKit, quantity, user) -> None:
    """Install what the kit holds by completing its run (run/complete), as kitting does. The run
    builds an untracked output part when it names none; `inventory`/`quantity` must be all the
    kit holds."""
    run = kit.run
    assert PartKitLine.objects.get(part_kit=kit, part_inventory=inventory).issued_quantity == (
        Decimal(quantity)
    )
    if run.part_id is None:
        run.part = services.item_create(
            user=user, code=f"OUT-{run.code}", name="Output", item_type="inventory"
        )
        run.save(update_fields=["part"])
    kitting_services.run_complete(user=user, run=run)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def parts(admin_user):
    def item(code, item_type="inventory", **fields):
        return services.item_create(
            user=admin_user, code=code, name=f"{code} name", item_type=item_type, **fields
        )

    return {
        "serial": item("Widget", enable_serial_no=True, unit_of_measure="piece"),
        "lot": item("Resin", enable_lot_category=True, unit_of_measure="kg"),
        "untracked": item("Screw"),
        "masked": item("Gizmo", enable_serial_no=True, serial_mask="SN-#####"),
        "serial_lot": item("Board", enable_serial_no=True, enable_lot_category=True),
        "skit": item("Assembly", "stockableKit", enable_serial_no=True),
        "noninv": item("Service", "nonInventory"),
        "kit": item("Bundle", "kit"),
    }


@pytest.fixture
def shelf(admin_user):
    return services.warehouse_create(user=admin_user, code="WH-1", name="Main shelf")


def create(forced_api, body, status=201):
    response = forced_api.post(PI, body, format="json")
    assert response.status_code == status, response.content
    return response


def make(user, part, **fields) -> PartInventory:
    return services.part_inventory_create(user=user, part=part, **fields)


def get_result(forced_api, inventory) -> dict:
    response = forced_api.get(f"{PI}/{inventory.pk}")
    assert response.status_code == 200, response.content
    return response.json()["ia::result"]


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
        "runs": [],
        "builtBy": None,
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


def mismatch(field: str, part: str, tracking: str) -> dict:
    return err(
        "KS-4241",
        f"{field} is not allowed: part {part} is {tracking}",
        target=field,
        FIELD=field,
        PART=part,
        TRACKING=tracking,
    )


SERIAL_QUANTITY = "serial inventory holds a quantity of 0 or 1"


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
    inventory.refresh_from_db()
    assert (inventory.serial_number, inventory.quantity, inventory.version) == ("S-9", 1, 2)


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


# --- reads ---------------------------------------------------------------------------------


def test_list_and_filters(forced_api, admin_user, parts, shelf):
    a = make(admin_user, parts["serial"], serial_number="S1", location=shelf)
    b = make(admin_user, parts["lot"], lot_number="L1", quantity=2)
    c = make(admin_user, parts["lot"], lot_number="L2", location=shelf)

    def keys(query=""):
        response = forced_api.get(f"{PI}{query}")
        assert response.status_code == 200, response.content
        return [row["key"] for row in response.json()["ia::result"]]

    listed = forced_api.get(PI).json()
    assert listed == {
        "ia::result": [
            {"key": str(x.pk), "id": str(x.pk), "href": f"{PI}/{x.pk}"} for x in (a, b, c)
        ],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert keys(f"?part={parts['lot'].pk}") == [str(b.pk), str(c.pk)]
    assert keys(f"?location={shelf.pk}") == [str(a.pk), str(c.pk)]
    assert keys("?serialNumber=S1") == [str(a.pk)]
    assert keys("?lotNumber=L2") == [str(c.pk)]
    assert keys(f"?part={parts['lot'].pk}&lotNumber=L1") == [str(b.pk)]
    assert keys("?serialNumber=nope") == []
    response = forced_api.get(f"{PI}?part=abc")
    assert response.status_code == 400
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4003"


def test_kitting_fields(forced_api, admin_user, parts):
    serial = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    bulk = make(admin_user, parts["untracked"], quantity=10)
    run_a = Run.objects.create(code="R-A", part=parts["skit"])
    run_b = Run.objects.create(code="R-B")
    kit_a, kit_b = PartKit.objects.create(run=run_a), PartKit.objects.create(run=run_b)

    issue(bulk, kit_b, 3, admin_user)
    issue(bulk, kit_a, 2, admin_user)
    result = get_result(forced_api, bulk)
    assert {k: result[k] for k in ("quantity", "kittedQuantity", "installedQuantity")} == {
        "quantity": 5,
        "kittedQuantity": 5,
        "installedQuantity": 0,
    }
    assert (result["kitted"], result["installed"]) == (False, False)
    assert result["runs"] == [ref(run_a), ref(run_b)]
    assert result["etag"] == '"3"'

    issue(serial, kit_a, 1, admin_user)
    result = get_result(forced_api, serial)
    assert (
        result["quantity"],
        result["kittedQuantity"],
        result["kitted"],
        result["installed"],
    ) == (
        0,
        1,
        True,
        False,
    )
    install(serial, kit_a, 1, admin_user)
    output = make(
        admin_user,
        parts["skit"],
        serial_number="ASM-1",
        quantity=1,
        transaction_type="build",
        run=run_a,
    )
    result = get_result(forced_api, serial)
    assert (result["kittedQuantity"], result["installedQuantity"]) == (0, 1)
    assert (result["kitted"], result["installed"]) == (False, True)
    assert result["runs"] == [ref(run_a)]
    assert result["builtBy"] is None
    assert get_result(forced_api, output)["builtBy"] == ref(run_a)


def test_list_and_detail_query_counts_do_not_grow(forced_api, admin_user, parts, shelf):
    def populate(n: int) -> PartInventory:
        first = None
        for i in range(n):
            inventory = make(
                admin_user, parts["untracked"], quantity=10, location=shelf, cost=Decimal(i)
            )
            for j in range(n):
                kit = PartKit.objects.create(run=Run.objects.create(code=f"R-{n}-{i}-{j}"))
                issue(inventory, kit, 1, admin_user)
            make(
                admin_user,
                parts["skit"],
                serial_number=f"A-{n}-{i}",
                run=Run.objects.get(code=f"R-{n}-{i}-0"),
                transaction_type="build",
            )
            first = first or inventory
        return first

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = forced_api.get(url)
        assert response.status_code == 200, response.content
        return len(queries)

    one = populate(1)
    list_one, detail_one = count(PI), count(f"{PI}/{one.pk}")
    many = populate(6)
    assert PartInventory.objects.count() == 14
    assert count(PI) == list_one
    assert count(f"{PI}/{many.pk}") == detail_one
    assert len(get_result(forced_api, many)["runs"]) == 6


# --- admin: saves through the services; the ledger is read-only ------------------------------

ADMIN_PI = "/admin/inventory/partinventory/"
ADMIN_LEDGER = "/admin/inventory/inventorytransaction/"


def pi_form(part, **overrides) -> dict:
    data = {
        "part": str(part.pk),
        "serial_number": "",
        "lot_number": "",
        "location": "",
        "quantity": "0",
        "cost": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_admin_add_goes_through_the_service(admin_client, parts):
    response = admin_client.post(
        f"{ADMIN_PI}add/",
        pi_form(parts["masked"], autogenerate_serial_number="on", quantity="1"),
    )
    assert response.status_code == 302, response.content
    inventory = PartInventory.objects.get()
    assert (inventory.serial_number, inventory.quantity) == ("SN-00001", 1)
    assert ledger_of(inventory.pk) == [("create", 1, 0, 0, 1)]


def test_admin_rule_violation_is_a_field_error(admin_client, admin_user, parts):
    make(admin_user, parts["serial"], serial_number="S1")
    before = snapshot()
    response = admin_client.post(f"{ADMIN_PI}add/", pi_form(parts["lot"], serial_number="S1"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {
        "serial_number": ["Serial number is not allowed: part Resin is lot-tracked"],
        "lot_number": ["Lot number is required"],
    }
    response = admin_client.post(
        f"{ADMIN_PI}add/", pi_form(parts["serial"], serial_number="S1", quantity="1")
    )
    assert response.context["adminform"].form.errors == {
        "serial_number": ["Part inventory with Serial number S1 for part Widget already exists"]
    }
    assert snapshot() == before


def test_admin_change_writes_an_adjust_row_and_keeps_the_part(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=3)
    response = admin_client.post(
        f"{ADMIN_PI}{inventory.pk}/change/",
        pi_form(parts["lot"], quantity="5"),  # `part` is read-only there: ignored
    )
    assert response.status_code == 302, response.content
    inventory.refresh_from_db()
    assert (inventory.part_id, inventory.quantity, inventory.version) == (
        parts["untracked"].pk,
        5,
        2,
    )
    assert ledger_of(inventory.pk) == [("create", 3, 0, 0, 3), ("adjust", 2, 0, 0, 5)]
    page = admin_client.get(f"{ADMIN_PI}{inventory.pk}/change/")
    assert page.status_code == 200
    assert "part" not in page.context["adminform"].form.fields


def test_admin_delete_goes_through_the_service(admin_client, admin_user, parts):
    kitted = make(admin_user, parts["untracked"], quantity=3)
    issue(kitted, PartKit.objects.create(run=Run.objects.create(code="R-1")), 1, admin_user)
    response = admin_client.post(f"{ADMIN_PI}{kitted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert PartInventory.objects.filter(pk=kitted.pk).exists()
    assert [t for t, *_ in ledger_of(kitted.pk)] == ["create", "issue"]

    free = make(admin_user, parts["untracked"], quantity=2)
    response = admin_client.post(f"{ADMIN_PI}{free.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PartInventory.objects.filter(pk=free.pk).exists()
    assert ledger_of(free.pk) == [("create", 2, 0, 0, 2), ("delete", -2, 0, 0, 0)]


def test_admin_ledger_is_read_only(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=2)
    services.part_inventory_delete(part_inventory_key=inventory.pk, user=admin_user)
    row = InventoryTransaction.objects.filter(type="create").get()
    assert admin_client.get(ADMIN_LEDGER).status_code == 200
    # A row of deleted inventory still shows.
    page = admin_client.get(f"{ADMIN_LEDGER}{row.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert admin_client.get(f"{ADMIN_LEDGER}add/").status_code == 403
    assert (
        admin_client.post(f"{ADMIN_LEDGER}{row.pk}/change/", {"quantity": "9"}).status_code == 403
    )
    assert admin_client.post(f"{ADMIN_LEDGER}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        InventoryTransaction.objects.filter(pk=row.pk).values_list("quantity", flat=True).get() == 2
    )


def test_admin_pages_render(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    for url in (
        ADMIN_PI,
        f"{ADMIN_PI}add/",
        f"{ADMIN_PI}{inventory.pk}/change/",
        f"{ADMIN_PI}?q=S1",
    ):
        assert admin_client.get(url).status_code == 200, url
