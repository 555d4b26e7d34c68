"""The inventory-transaction ledger's REST adapter. It lives here, not in inventory/api/, because a
ledger row renders its part kit and run: the lowest app whose data it shows."""

import django_filters
from django.db import models
from rest_framework import serializers

from config.api import identity, render
from config.api.fields import REF_SCHEMA, KeyIdField, NumberField, RefField, schema_field
from config.api.filters import KeyFilter
from config.api.serializers import IntacctSerializer
from config.api.viewsets import ReadOnlyObjectViewSet
from inventory import selectors
from inventory.api.details import Detail
from inventory.models import InventoryTransaction, Item, PartInventory, TransactionType, Warehouse
from kitting.models import PartKit, Run


@schema_field({**REF_SCHEMA, "readOnly": True, "nullable": True})
class KeyRefField(serializers.Field):
    """A read-only reference to an object whose id is its key, built from the stored key alone:
    it still renders after the object is gone (the ledger outlives inventory)."""

    def __init__(self, model: type[models.Model], **kwargs):
        self.referenced_model = model
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, key):
        href = identity.href_of(identity.object_name(self.referenced_model), key)
        return {"key": str(key), "id": str(key), "href": href}


class InventoryTransactionSerializer(IntacctSerializer):
    """The ledger row: read-only; references to inventory and kits render from stored keys."""

    id = KeyIdField()
    partInventory = KeyRefField(PartInventory, source="part_inventory_id")
    part = RefField(Item.objects.all(), read_only=True)
    type = serializers.ChoiceField(TransactionType.choices, read_only=True)
    quantity = NumberField(read_only=True)
    kittedQuantity = NumberField(source="kitted_quantity", read_only=True)
    installedQuantity = NumberField(source="installed_quantity", read_only=True)
    quantityAfter = NumberField(source="quantity_after", read_only=True)
    partKit = KeyRefField(PartKit, source="part_kit_id")
    run = RefField(Run.objects.all(), read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True)
    fromLocation = RefField(
        Warehouse.objects.all(), source="from_location", read_only=True, allow_null=True
    )
    toLocation = RefField(
        Warehouse.objects.all(), source="to_location", read_only=True, allow_null=True
    )

    class Meta:
        model = InventoryTransaction
        fields = [
            "key",
            "id",
            "partInventory",
            "part",
            "type",
            "quantity",
            "kittedQuantity",
            "installedQuantity",
            "quantityAfter",
            "partKit",
            "run",
            "reason",
            "fromLocation",
            "toLocation",
            "audit",
            "href",
        ]


class InventoryTransactionFilter(django_filters.FilterSet):
    partInventory = KeyFilter(field_name="part_inventory_id")
    part = KeyFilter(field_name="part_id")
    type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    partKit = KeyFilter(field_name="part_kit_id")
    run = KeyFilter(field_name="run_id")

    class Meta:
        model = InventoryTransaction
        fields = ["partInventory", "part", "type", "partKit", "run"]


_LEDGER = (
    "pk",
    "version",
    "part_inventory_id",
    "part_id",
    "part__code",
    "type",
    "quantity",
    "kitted_quantity",
    "installed_quantity",
    "quantity_after",
    "part_kit_id",
    "run_id",
    "run__code",
    "reason",
    "from_location_id",
    "from_location__code",
    "to_location_id",
    "to_location__code",
)


def inventory_transaction_detail(*, key: int) -> Detail | None:
    """A ledger row: one statement. References to inventory and kits render from the stored
    keys alone (the ledger outlives them)."""
    row = (
        InventoryTransaction.objects.filter(pk=key)
        .values(*_LEDGER, *render.audit_columns())
        .first()
    )
    if row is None:
        return None
    inventory, kit = row["part_inventory_id"], row["part_kit_id"]
    warehouse = identity.object_name(Warehouse)
    data = {
        "key": str(row["pk"]),
        "id": str(row["pk"]),
        "partInventory": render.ref(identity.object_name(PartInventory), inventory, inventory),
        "part": render.ref(identity.object_name(Item), row["part_id"], row["part__code"]),
        "type": row["type"],
        "quantity": render.as_number(row["quantity"]),
        "kittedQuantity": render.as_number(row["kitted_quantity"]),
        "installedQuantity": render.as_number(row["installed_quantity"]),
        "quantityAfter": render.as_number(row["quantity_after"]),
        "partKit": render.ref(identity.object_name(PartKit), kit, kit),
        "run": render.ref(identity.object_name(Run), row["run_id"], row["run__code"]),
        "reason": row["reason"],
        **{
            name: render.ref(warehouse, row[f"{column}_id"], row[f"{column}__code"])
            for name, column in (("fromLocation", "from_location"), ("toLocation", "to_location"))
        },
        "audit": render.audit(row),
        "href": f"/objects/{identity.object_name(InventoryTransaction)}/{row['pk']}",
    }
    return data, row["version"]


class InventoryTransactionViewSet(ReadOnlyObjectViewSet):
    """The ledger: list, get (and query) only."""

    queryset = selectors.inventory_transaction_list()
    detail_selector = inventory_transaction_detail
    serializer_class = InventoryTransactionSerializer
    filterset_class = InventoryTransactionFilter
