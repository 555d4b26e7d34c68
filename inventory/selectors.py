"""Reads for items, warehouses, part inventory and the ledger."""

from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When

from inventory.models import (
    ITEM_TRACKING_FLAGS,
    PART_INVENTORY_TRACKING_NUMBERS,
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
        # Numbers are never blank (a constraint): set means not null.
        "tracking_type": Case(
            *(
                When(**{f"{number}__isnull": False}, then=Value(tracking.value))
                for number, tracking in PART_INVENTORY_TRACKING_NUMBERS
            ),
            default=Value(TrackingType.UNTRACKED.value),
        ),
        "kitted": Q(quantity=0, kitted_quantity__gt=0),
        "installed": Q(quantity=0, kitted_quantity=0, installed_quantity__gt=0),
    }


def inventory_transaction_list() -> QuerySet[InventoryTransaction]:
    return InventoryTransaction.objects.all()
