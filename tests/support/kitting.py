"""Helpers for the kitting tests: literal bodies of the kitting errors, workflow bodies, and
the ledger invariant of contract 7.5. (Rows are made in tests/support/factories.py.)"""

from decimal import Decimal

from django.db.models import Sum

from inventory.models import InventoryTransaction, PartInventory
from kitting.models import CLOSED_KIT_STATUSES, PartKitLine
from tests.support.errors import err
from tests.support.factories import kit, part, run, stock
from tests.support.refs import ref

ISSUE = "/workflows/inventory-control/part-kit/issue"
MOVE = "/workflows/inventory-control/part-kit/move-to-inventory"
COMPLETE = "/workflows/inventory-control/run/complete"
ADJUST = "/workflows/inventory-control/part-inventory/adjust"
SPLIT = "/workflows/inventory-control/part-inventory/split"
FULFILL = "/workflows/inventory-control/part-kit/fulfill"
RUNS = "/objects/inventory-control/run"
KITS = "/objects/inventory-control/part-kit"
INVENTORY = "/objects/inventory-control/part-inventory"


def exceeds_on_hand(key, requested, available) -> dict:
    return err(
        "KS-4250",
        f"Cannot issue {requested}: part inventory {key} has {available} on hand",
        "quantity",
        REQUESTED=requested,
        KEY=key,
        AVAILABLE=available,
    )


def kit_closed(kit) -> dict:
    return err(
        "KS-4253",
        f"Part kit {kit.pk} is {kit.status}: nothing can be issued to it or moved out of it",
        "key",
        KEY=kit.pk,
        STATUS=kit.status,
    )


def serial_moves_one(inventory) -> dict:
    return err(
        "KS-4258",
        f"Part inventory {inventory.pk} is serial {inventory.serial_number}: it moves one unit at "
        "a time, quantity must be 1",
        "quantity",
        KEY=inventory.pk,
        SERIAL=inventory.serial_number,
    )


def run_closed(run, target: str, reason: str) -> dict:
    return err(
        "KS-4255",
        f"Run {run.code} is {run.status}: {reason}",
        target,
        ID=run.code,
        STATUS=run.status,
        REASON=reason,
    )


def inventory_ref(inventory) -> dict:
    """A part inventory as a kit's partInventories and a run's installations render it."""
    return {
        **ref(inventory),
        "serialNumber": inventory.serial_number,
        "lotNumber": inventory.lot_number,
        "part": ref(inventory.part),
    }


def issue_body(part_kit, inventory, quantity=None) -> dict:
    body = {"key": str(part_kit.pk), "partInventory": {"key": str(inventory.pk)}}
    if quantity is not None:
        body["quantity"] = quantity
    return body


def fresh(obj):
    obj.refresh_from_db()
    return obj


def lines_of(part_kit) -> list[tuple[int, Decimal]]:
    return list(
        PartKitLine.objects.filter(part_kit=part_kit)
        .order_by("pk")
        .values_list("part_inventory_id", "issued_quantity")
    )


def ledger(inventory) -> list[tuple]:
    """(type, quantity, kittedQuantity, installedQuantity, quantityAfter, partKit, run) rows."""
    return [
        (
            row.type,
            row.quantity,
            row.kitted_quantity,
            row.installed_quantity,
            row.quantity_after,
            row.part_kit_id,
            row.run_id,
        )
        for row in InventoryTransaction.objects.filter(part_inventory_id=inventory.pk).order_by(
            "pk"
        )
    ]


def assert_ledger_invariant() -> int:
    """Contract 7.5 for every part inventory: each quantity is the sum of its ledger deltas, none
    is negative, and what open kits hold is exactly the kitted quantity. Returns the row count."""
    sums = {
        row["part_inventory_id"]: row
        for row in InventoryTransaction.objects.values("part_inventory_id").annotate(
            q=Sum("quantity"), k=Sum("kitted_quantity"), i=Sum("installed_quantity")
        )
    }
    open_lines = {
        row["part_inventory_id"]: row["held"]
        for row in PartKitLine.objects.exclude(part_kit__status__in=CLOSED_KIT_STATUSES)
        .values("part_inventory_id")
        .annotate(held=Sum("issued_quantity"))
    }
    inventories = list(PartInventory.objects.order_by("pk"))
    for inventory in inventories:
        totals = sums[inventory.pk]
        assert (inventory.quantity, inventory.kitted_quantity, inventory.installed_quantity) == (
            totals["q"],
            totals["k"],
            totals["i"],
        ), inventory.pk
        assert min(inventory.quantity, inventory.kitted_quantity, inventory.installed_quantity) >= 0
        assert open_lines.get(inventory.pk, 0) == inventory.kitted_quantity, inventory.pk
    return len(inventories)


def issue_burst(user, count: int = 40) -> tuple[PartInventory, list[dict]]:
    """A lot of 25 and `count` issues of one from it, to eight kits of one run in turn."""
    resin = part(user, "Resin", enable_lot_category=True)
    lot = stock(user, resin, 25, lot_number="L-25")
    the_run = run(user, "RUN-1")
    kits = [kit(user, the_run) for _ in range(8)]
    body = {"partInventory": {"key": str(lot.pk)}, "quantity": 1}
    return lot, [{**body, "key": str(kits[n % 8].pk)} for n in range(count)]
