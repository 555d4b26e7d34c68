"""Reads for items, warehouses, part inventory and the ledger."""

from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    Expression,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from inventory.models import (
    ITEM_TRACKING_FLAGS,
    PART_INVENTORY_TRACKING_NUMBERS,
    InventoryStatus,
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
    """PartInventory's computed properties (`tracking_type`, `kitted`, `installed`, `status`) in
    SQL, for reads that filter, sort or aggregate on them."""
    kitted = Q(quantity=0, kitted_quantity__gt=0)
    installed = Q(quantity=0, kitted_quantity=0, installed_quantity__gt=0)
    return {
        # Numbers are never blank (a constraint): set means not null.
        "tracking_type": Case(
            *(
                When(**{f"{number}__isnull": False}, then=Value(tracking.value))
                for number, tracking in PART_INVENTORY_TRACKING_NUMBERS
            ),
            default=Value(TrackingType.UNTRACKED.value),
        ),
        "kitted": kitted,
        "installed": installed,
        # `PartInventory.status`, in the same order; no location counts as available.
        "status": Case(
            When(installed, then=Value(InventoryStatus.INSTALLED.value)),
            When(kitted, then=Value(InventoryStatus.KITTED.value)),
            When(
                Q(quantity=0) | Q(location__inventory_available=False),
                then=Value(InventoryStatus.UNAVAILABLE.value),
            ),
            default=Value(InventoryStatus.AVAILABLE.value),
        ),
    }


# Stock in an available location: none, or one that is `inventoryAvailable` (contract 15.1, 15.7).
AVAILABLE_STOCK = Q(location__isnull=True) | Q(location__inventory_available=True)
_QUANTITY = DecimalField(max_digits=20, decimal_places=6)


def _part_inventory_sum(
    column: str, where: Q | None = None, part: str | Expression = "pk"
) -> Coalesce:
    """The sum of `column` over the part inventory of the item `part` names (0 without any): an
    outer query's field, or an expression (a column of hand-written SQL around it)."""
    total = (
        PartInventory.objects.filter(
            where or Q(), part=OuterRef(part) if isinstance(part, str) else part
        )
        .values("part")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(Decimal(0)), output_field=_QUANTITY)


def item_on_hand_quantity(part: str | Expression = "pk") -> Coalesce:
    """An item's quantity on hand: the sum over its part inventory, in SQL."""
    return _part_inventory_sum("quantity", part=part)


def item_available_quantity(part: str | Expression = "pk") -> Coalesce:
    """The part of an item's quantity on hand in available locations, in SQL."""
    return _part_inventory_sum("quantity", AVAILABLE_STOCK, part=part)


def item_kitted_quantity(part: str | Expression = "pk") -> Coalesce:
    """How much of an item its part inventory holds in open kits, in SQL."""
    return _part_inventory_sum("kitted_quantity", part=part)


def inventory_transaction_list() -> QuerySet[InventoryTransaction]:
    return InventoryTransaction.objects.all()
