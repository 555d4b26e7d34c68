"""Runs, part kits, and the bodies of the kitting workflows (contract 7)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import (
    HrefField,
    IdField,
    KeyField,
    KeyIdField,
    KeyRefField,
    NumberField,
    RefField,
    StrictBooleanField,
    StrictCharField,
    schema_field,
)
from config.api.serializers import IntacctSerializer, reject_unknown_fields
from inventory.models import AdjustmentType, Item, PartInventory, Warehouse
from kitting import selectors, services
from kitting.models import Installation, PartKit, PartKitLine, PartKitStatus, Run, RunStatus

PART_INVENTORY_REF_SCHEMA = {
    "type": "object",
    "readOnly": True,
    "properties": {
        "key": {"type": "string", "example": "12"},
        "id": {"type": "string", "example": "12"},
        "href": {"type": "string", "example": "/objects/inventory-control/part-inventory/12"},
        "serialNumber": {"type": "string", "nullable": True, "example": "SN-00001"},
        "lotNumber": {"type": "string", "nullable": True, "example": None},
        "part": {
            "type": "object",
            "properties": {
                "key": {"type": "string", "example": "3"},
                "id": {"type": "string", "example": "Prnt_Paper"},
                "href": {"type": "string", "example": "/objects/inventory-control/item/3"},
            },
        },
    },
}


class KittingRefSerializer(serializers.Serializer):
    """`{key, id, href}` of each object in a read-only list (a run's kits and outputs)."""

    key = KeyField()
    id = IdField()
    href = HrefField()


@schema_field(PART_INVENTORY_REF_SCHEMA)
class PartInventoryRefField(RefField):
    """A part inventory with what tells it apart: its numbers and its part."""

    select_related = ("part",)

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(
            PartInventory.objects.all(),
            extra={
                "serialNumber": "serial_number",
                "lotNumber": "lot_number",
                "part": "part",  # a reference of its own
            },
            **kwargs,
        )


class InstallationSerializer(serializers.Serializer):
    partInventory = PartInventoryRefField(source="part_inventory")
    quantity = NumberField(read_only=True)

    class Meta:
        model = Installation  # lets a query look inside with $has


class PartKitLineSerializer(serializers.Serializer):
    partInventory = PartInventoryRefField(source="part_inventory")
    issuedQuantity = NumberField(source="issued_quantity", read_only=True)

    class Meta:
        model = PartKitLine  # lets a query look inside with $has

    def get_prefetch_queryset(self):
        return PartKitLine.objects.order_by("pk")


class RunSerializer(IntacctSerializer):
    id = StrictCharField(source="code", max_length=100)
    title = StrictCharField(max_length=200, required=False, allow_blank=True)
    part = RefField(Item.objects.all(), required=False, allow_null=True)
    quantity = NumberField(required=False)
    status = serializers.ChoiceField(RunStatus.choices, required=False)
    partKits = KittingRefSerializer(source="part_kits", many=True, read_only=True)
    outputs = KittingRefSerializer(many=True, read_only=True)
    installations = InstallationSerializer(many=True, read_only=True)

    class Meta:
        model = Run
        fields = [
            "key",
            "id",
            "title",
            "part",
            "quantity",
            "status",
            "partKits",
            "outputs",
            "installations",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.run_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.run_update(run_key=instance.pk, user=self.user, **validated_data)


class RunRefField(RefField):
    # The kit's requirements read the run's part.
    select_related = ("part",)


class KitRequirementSerializer(serializers.Serializer):
    part = RefField(read_only=True)
    requiredQuantity = NumberField(source="required_quantity", read_only=True)
    issuedQuantity = NumberField(source="issued_quantity", read_only=True)
    shortQuantity = NumberField(source="short_quantity", read_only=True)


class RequirementsField(serializers.SerializerMethodField):
    """`requirements`, computed from the run's kit components and the kit's lines."""

    prefetch_related = selectors.REQUIREMENTS_PREFETCH


class PartKitSerializer(IntacctSerializer):
    id = KeyIdField()
    run = RunRefField(Run.objects.all())
    status = serializers.ChoiceField(PartKitStatus.choices, required=False)
    partInventories = PartKitLineSerializer(source="lines", many=True, read_only=True)
    requirements = RequirementsField()

    class Meta:
        model = PartKit
        fields = ["key", "id", "run", "status", "partInventories", "requirements", "audit", "href"]

    @extend_schema_field(KitRequirementSerializer(many=True))
    def get_requirements(self, kit) -> list[dict]:
        return KitRequirementSerializer(selectors.part_kit_requirements(kit), many=True).data

    def create(self, validated_data):
        return services.part_kit_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.part_kit_update(part_kit_key=instance.pk, user=self.user, **validated_data)


# --- workflows -----------------------------------------------------------------------------------


class WorkflowSerializer(serializers.Serializer):
    """A workflow's request body: unknown members are a 400, as on objects."""

    def to_internal_value(self, data):
        if self.parent is None:
            reject_unknown_fields(self, data)
        return super().to_internal_value(data)


@schema_field({"type": "string", "example": "7"})
class KeyInputField(serializers.Field):
    """The key of the object the action is on: `"7"` (or the number 7)."""

    default_error_messages = {"invalid": "must be the object's key, a string"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return str(data)

    def to_representation(self, value):
        return str(value)


class PartKitIssueSerializer(WorkflowSerializer):
    # References resolve to keys: the service reads the rows under its locks.
    key = KeyInputField(help_text="The part kit")
    partInventory = KeyRefField(PartInventory.objects.all(), source="part_inventory")
    quantity = NumberField(
        required=False,
        allow_null=True,
        help_text="Required for lot and untracked inventory; 1 (or left out) for a serial",
    )


class PartKitMoveToInventorySerializer(PartKitIssueSerializer):
    location = KeyRefField(
        Warehouse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Where the returned inventory is now stored (unchanged when left out)",
    )


class PartKitFulfillSerializer(WorkflowSerializer):
    key = KeyInputField(help_text="The part kit")
    location = KeyRefField(
        Warehouse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Issue only inventory stored here (any available location when left out)",
    )


class RunCompleteSerializer(WorkflowSerializer):
    key = KeyInputField(help_text="The run")
    location = RefField(
        Warehouse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Always required: where the outputs are stored",
    )
    serialNumbers = serializers.ListField(
        child=StrictCharField(max_length=100, allow_blank=True),
        source="serial_numbers",
        required=False,
        allow_null=True,
        help_text="One per unit for a serial-tracked part; generated when left out",
    )
    allowShortage = StrictBooleanField(
        source="allow_shortage",
        required=False,
        help_text="Complete even while a requirement of the run is short",
    )


class PartInventoryAdjustSerializer(WorkflowSerializer):
    # References resolve to keys: the service reads the rows under its lock.
    key = KeyInputField(help_text="The part inventory")
    type = serializers.ChoiceField(
        AdjustmentType.choices,
        help_text="scrap removes `quantity`; recount sets the on-hand quantity to `quantity`;"
        " transfer moves the inventory to `location`",
    )
    quantity = NumberField(
        required=False, allow_null=True, help_text="Required for scrap and recount"
    )
    location = KeyRefField(
        Warehouse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Required for transfer: where the inventory is now stored",
    )
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        help_text="Always required: why, kept on the ledger row",
    )


class PartInventorySplitSerializer(WorkflowSerializer):
    key = KeyInputField(help_text="The lot or untracked part inventory to split")
    quantity = NumberField(help_text="How much goes to the new record: less than is on hand")
    location = KeyRefField(
        Warehouse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Where the new record is stored (the source's location when left out)",
    )


class PartInventoryMovedSerializer(serializers.Serializer):
    """The inventory's reference with its on-hand quantity and location as they now stand."""

    key = KeyField()
    id = IdField()
    href = HrefField()
    quantity = NumberField(read_only=True)
    location = RefField(Warehouse.objects.all(), read_only=True, allow_null=True)

    class Meta:
        model = PartInventory  # the model service shows it as a reference to part inventory


class PartInventorySplitResultSerializer(PartInventoryMovedSerializer):
    """The new inventory, and the inventory it was split off."""

    originPartInventory = RefField(
        PartInventory.objects.all(), source="origin_part_inventory", read_only=True, allow_null=True
    )


class InventoryQuantitySerializer(serializers.Serializer):
    key = KeyField()
    id = IdField()
    href = HrefField()
    quantity = NumberField(read_only=True)

    class Meta:
        model = PartInventory  # the model service shows it as a reference to part inventory


class KitMoveResultSerializer(serializers.Serializer):
    """The part kit, the inventory's on-hand quantity now, and what the kit now holds of it."""

    key = serializers.CharField(source="part_kit.pk", read_only=True)
    id = IdField(source="part_kit")
    href = HrefField(source="part_kit")
    partInventory = InventoryQuantitySerializer(source="part_inventory", read_only=True)
    issuedQuantity = NumberField(source="issued_quantity", read_only=True)


class FulfilledSerializer(serializers.Serializer):
    partInventory = InventoryQuantitySerializer(source="part_inventory", read_only=True)
    quantity = NumberField(read_only=True)


class FulfilResultSerializer(serializers.Serializer):
    """The part kit, what was issued to it (the inventory's on-hand quantity now), and the run's
    requirements afterwards."""

    key = serializers.CharField(source="part_kit.pk", read_only=True)
    id = IdField(source="part_kit")
    href = HrefField(source="part_kit")
    issued = FulfilledSerializer(many=True, read_only=True)
    requirements = KitRequirementSerializer(many=True, read_only=True)


class RunOutputSerializer(serializers.Serializer):
    key = KeyField()
    id = IdField()
    href = HrefField()
    serialNumber = serializers.CharField(source="serial_number", read_only=True, allow_null=True)
    lotNumber = serializers.CharField(source="lot_number", read_only=True, allow_null=True)
    quantity = NumberField(read_only=True)


class RunCompleteResultSerializer(serializers.Serializer):
    """The completed run and the part inventory it built."""

    key = serializers.CharField(source="run.pk", read_only=True)
    id = IdField(source="run")
    href = HrefField(source="run")
    status = serializers.CharField(source="run.status", read_only=True)
    outputs = RunOutputSerializer(many=True, read_only=True)
