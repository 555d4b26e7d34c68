"""What the kitting workflow tests (tests/test_kitting_workflows_*.py) share: the `shop` fixture
(registered by tests/conftest.py), the object names and the move result body."""

from decimal import Decimal

import pytest

from inventory import services as inventory_services
from inventory.models import InventoryTransaction, PartInventory
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import (
    fresh,
)
from tests.support.refs import ONE, ref

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
