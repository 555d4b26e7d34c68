from django.db import models
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import identity
from config.api.fields import (
    REF_SCHEMA,
    DecimalStringField,
    KeyIdField,
    NumberField,
    RefField,
    StrictBooleanField,
    StrictCharField,
)
from config.api.serializers import GroupSerializer, IntacctSerializer
from inventory import services
from inventory.models import (
    CostMethod,
    InventoryTransaction,
    Item,
    ItemType,
    KitRevenuePosting,
    PartInventory,
    Status,
    TrackingType,
    TransactionType,
    Warehouse,
)
from kitcomponents.api.serializers import KitComponentSerializer
from kitting.models import Installation, PartKit, PartKitLine, Run


class PurchasingSerializer(GroupSerializer):
    standardCost = DecimalStringField(source="standard_cost", required=False)


class TrackingSerializer(GroupSerializer):
    enableSerialNo = StrictBooleanField(source="enable_serial_no", required=False)
    serialMask = StrictCharField(
        source="serial_mask", max_length=30, required=False, allow_blank=True
    )
    enableLotCategory = StrictBooleanField(source="enable_lot_category", required=False)
    lotCategory = StrictCharField(
        source="lot_category", max_length=30, required=False, allow_blank=True
    )


class KitRevenuePostingField(serializers.ChoiceField):
    """Stored as "" on items that are not kits; rendered as null there."""

    def __init__(self, **kwargs):
        super().__init__(KitRevenuePosting.choices, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None

    def validate_empty_values(self, data):
        # DRF would hand null on as None; the column stores "none" as "".
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class ItemSerializer(IntacctSerializer):
    id = StrictCharField(source="code", max_length=30)
    name = StrictCharField(max_length=100)
    status = serializers.ChoiceField(Status.choices, required=False)
    itemType = serializers.ChoiceField(ItemType.choices, source="item_type")
    costMethod = serializers.ChoiceField(CostMethod.choices, source="cost_method", required=False)
    unitOfMeasure = StrictCharField(source="unit_of_measure", max_length=30, required=False)
    extendedDescription = StrictCharField(
        source="extended_description", max_length=400, required=False, allow_blank=True
    )
    purchasing = PurchasingSerializer()
    tracking = TrackingSerializer()
    kitRevenuePosting = KitRevenuePostingField(source="kit_revenue_posting", required=False)
    kitComponents = KitComponentSerializer(source="kit_components", many=True, read_only=True)
    trackingType = serializers.ChoiceField(
        TrackingType.choices, source="tracking_type", read_only=True
    )

    class Meta:
        model = Item
        fields = [
            "key",
            "id",
            "name",
            "status",
            "itemType",
            "costMethod",
            "unitOfMeasure",
            "extendedDescription",
            "purchasing",
            "tracking",
            "kitRevenuePosting",
            "kitComponents",
            "trackingType",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.item_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.item_update(item_key=instance.pk, user=self.user, **validated_data)


class WarehouseSerializer(IntacctSerializer):
    id = StrictCharField(source="code", max_length=30)
    name = StrictCharField(max_length=100)
    status = serializers.ChoiceField(Status.choices, required=False)

    class Meta:
        model = Warehouse
        fields = ["key", "id", "name", "status", "audit", "href"]

    def create(self, validated_data):
        return services.warehouse_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.warehouse_update(
            warehouse_key=instance.pk, user=self.user, **validated_data
        )


@extend_schema_field({**REF_SCHEMA, "readOnly": True, "nullable": True})
class KeyRefField(serializers.Field):
    """A read-only reference to an object whose id is its key, built from the stored key alone:
    it still renders after the object is gone (the ledger outlives inventory)."""

    def __init__(self, model: type[models.Model], **kwargs):
        self.target = model
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, key):
        href = identity.href_of(identity.object_name(self.target), key)
        return {"key": str(key), "id": str(key), "href": href}


@extend_schema_field({"type": "array", "readOnly": True, "items": REF_SCHEMA})
class RunsField(serializers.Field):
    """Runs whose kits hold (kit lines) or consumed (installations) this inventory, by key."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    @property
    def prefetch_related(self):
        # Read by optimize_queryset: two queries for a page, whatever its size.
        return (
            Prefetch("kit_lines", queryset=PartKitLine.objects.select_related("part_kit__run")),
            Prefetch("installations", queryset=Installation.objects.select_related("run")),
        )

    def to_representation(self, inventory):
        runs = {line.part_kit.run_id: line.part_kit.run for line in inventory.kit_lines.all()}
        runs.update({row.run_id: row.run for row in inventory.installations.all()})
        return [identity.ref(runs[key]) for key in sorted(runs)]


class PartInventorySerializer(IntacctSerializer):
    id = KeyIdField()
    part = RefField(Item.objects.all())
    serialNumber = StrictCharField(
        source="serial_number", max_length=100, required=False, allow_null=True, allow_blank=True
    )
    lotNumber = StrictCharField(
        source="lot_number", max_length=100, required=False, allow_null=True, allow_blank=True
    )
    autogenerateSerialNumber = StrictBooleanField(
        source="autogenerate_serial_number", write_only=True, required=False
    )
    autogenerateLotNumber = StrictBooleanField(
        source="autogenerate_lot_number", write_only=True, required=False
    )
    location = RefField(Warehouse.objects.all(), required=False, allow_null=True)
    quantity = NumberField(required=False)
    cost = DecimalStringField(required=False, allow_null=True)
    unitOfMeasure = serializers.CharField(source="part.unit_of_measure", read_only=True)
    trackingType = serializers.ChoiceField(
        TrackingType.choices, source="tracking_type", read_only=True
    )
    kittedQuantity = NumberField(source="kitted_quantity", read_only=True)
    installedQuantity = NumberField(source="installed_quantity", read_only=True)
    kitted = serializers.BooleanField(read_only=True)
    installed = serializers.BooleanField(read_only=True)
    runs = RunsField()
    builtBy = RefField(Run.objects.all(), source="built_by", read_only=True)
    etag = serializers.CharField(read_only=True)

    class Meta:
        model = PartInventory
        fields = [
            "key",
            "id",
            "part",
            "serialNumber",
            "lotNumber",
            "autogenerateSerialNumber",
            "autogenerateLotNumber",
            "location",
            "quantity",
            "cost",
            "unitOfMeasure",
            "trackingType",
            "kittedQuantity",
            "installedQuantity",
            "kitted",
            "installed",
            "runs",
            "builtBy",
            "etag",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.part_inventory_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.part_inventory_update(
            part_inventory_key=instance.pk, user=self.user, **validated_data
        )


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
    run = RefField(Run.objects.all(), read_only=True)

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
            "audit",
            "href",
        ]
