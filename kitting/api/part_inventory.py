"""Part inventory's REST adapter. It lives here, not in inventory/api/, because part inventory
renders the runs that kitted, consumed or built it: the lowest app whose data it shows."""

import django_filters
from django.db.models import Prefetch
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
    schema_field,
)
from config.api.filters import KeyFilter
from config.api.serializers import IntacctSerializer
from config.api.viewsets import ObjectViewSet
from inventory import selectors, services
from inventory.models import InventoryStatus, Item, PartInventory, TrackingType, Warehouse
from kitting.models import Installation, PartKitLine, Run
from kitting.selectors import part_inventory_runs


@schema_field({"type": "array", "readOnly": True, "items": REF_SCHEMA})
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
        runs = part_inventory_runs(inventory.kit_lines.all(), inventory.installations.all())
        return [identity.ref(run) for run in runs]


class PartInventorySerializer(IntacctSerializer):
    id = KeyIdField()
    part = RefField(Item.objects.all())
    serialNumber = StrictCharField(
        source="serial_number",
        max_length=100,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Required for a serial-tracked part (or autogenerateSerialNumber); unique "
        "per part",
    )
    lotNumber = StrictCharField(
        source="lot_number",
        max_length=100,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Required for a lot-tracked part (or autogenerateLotNumber)",
    )
    autogenerateSerialNumber = StrictBooleanField(
        source="autogenerate_serial_number", write_only=True, required=False
    )
    autogenerateLotNumber = StrictBooleanField(
        source="autogenerate_lot_number", write_only=True, required=False
    )
    location = RefField(Warehouse.objects.all(), required=False, allow_null=True)
    quantity = NumberField(
        required=False, help_text="0 or 1 with a serial number, else any quantity ≥ 0"
    )
    cost = DecimalStringField(required=False, allow_null=True)
    unitOfMeasure = serializers.CharField(source="part.unit_of_measure", read_only=True)
    trackingType = serializers.ChoiceField(
        TrackingType.choices, source="tracking_type", read_only=True
    )
    kittedQuantity = NumberField(source="kitted_quantity", read_only=True)
    installedQuantity = NumberField(source="installed_quantity", read_only=True)
    kitted = serializers.BooleanField(read_only=True)
    installed = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(InventoryStatus.choices, read_only=True)
    runs = RunsField()
    builtBy = RefField(Run.objects.all(), source="built_by", read_only=True, allow_null=True)
    originPartInventory = RefField(
        PartInventory.objects.all(),
        source="origin_part_inventory",
        read_only=True,
        allow_null=True,
        help_text="The inventory this one was split off",
    )
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
            "status",
            "runs",
            "builtBy",
            "originPartInventory",
            "etag",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.part_inventory_create(user=self.user, **validated_data)

    def create_many(self, validated: list[dict]) -> list[PartInventory | Exception]:
        """A batch POST's valid elements, created at once (config.api.viewsets)."""
        return services.part_inventory_create_many(user=self.user, records=validated)

    def update(self, instance, validated_data):
        return services.part_inventory_update(
            part_inventory_key=instance.pk, user=self.user, **validated_data
        )


class PartInventoryFilter(django_filters.FilterSet):
    part = KeyFilter(field_name="part_id")
    location = KeyFilter(field_name="location_id")
    serialNumber = django_filters.CharFilter(field_name="serial_number")
    lotNumber = django_filters.CharFilter(field_name="lot_number")

    class Meta:
        model = PartInventory
        fields = ["part", "location", "serialNumber", "lotNumber"]


class PartInventoryViewSet(ObjectViewSet):
    queryset = selectors.part_inventory_list()
    serializer_class = PartInventorySerializer
    filterset_class = PartInventoryFilter
    delete_service = services.part_inventory_delete
    if_match_required = True
