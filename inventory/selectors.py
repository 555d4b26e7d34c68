"""Reads for items, warehouses, part inventory and the ledger."""

from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When

from inventory.models import (
    ITEM_TRACKING_FLAGS,
    InventoryTransaction,
    Item,
    PartInventory,
    TrackingType,
    Warehouse,
)


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_tracking_type() -> Case:
    """`Item.tracking_type` in SQL (serial wins over lot), for the query service."""
    return Case(
        *(
            When(**{flag: True}, then=Value(tracking.value))
            for flag, tracking in ITEM_TRACKING_FLAGS
        ),
        default=Value(TrackingType.UNTRACKED.value),
    )


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all()


def part_inventory_list() -> QuerySet[PartInventory]:
    return PartInventory.objects.all()


def part_inventory_expressions() -> dict[str, Any]:
    """PartInventory's computed properties (`tracking_type`, `kitted`, `installed`) in SQL, for
    reads that filter, sort or aggregate on them."""
    return {
        "tracking_type": Case(
            When(serial_number__isnull=False, then=Value(TrackingType.SERIAL.value)),
            When(lot_number__isnull=False, then=Value(TrackingType.LOT.value)),
            default=Value(TrackingType.UNTRACKED.value),
        ),
        "kitted": Q(quantity=0, kitted_quantity__gt=0),
        "installed": Q(quantity=0, kitted_quantity=0, installed_quantity__gt=0),
    }


def inventory_transaction_list() -> QuerySet[InventoryTransaction]:
    return InventoryTransaction.objects.all()
