"""What the inventory-control/part-inventory tests (tests/test_part_inventory_*.py, test_ledger.py)
share: snapshots, the ledger, kitting through its services, and the `parts` and `shelf` fixtures
(registered by tests/conftest.py)."""

from decimal import Decimal

import pytest

from inventory import services
from inventory.models import InventoryTransaction, Item, PartInventory
from kitting import services as kitting_services
from kitting.models import PartKit, PartKitLine
from tests.support.errors import err
from tests.support.factories import complete

PI = "/objects/inventory-control/part-inventory"
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
        user=user, part_kit_key=kit.pk, part_inventory_key=inventory.pk, quantity=Decimal(quantity)
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
    complete(user, run)


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
