from rest_framework import serializers

from inventory.models import Item, PartInventory
from kitcomponents.models import KitComponent
from kitting.models import PartKit


class DynamicFieldsModelSerializer(serializers.ModelSerializer):
    """The DRF documentation's "Dynamically modifying fields" serializer: `fields=` keeps only
    those fields (the list views pass `?fields=`)."""

    def __init__(self, *args, **kwargs):
        fields = kwargs.pop("fields", None)
        super().__init__(*args, **kwargs)
        if fields is not None:
            for name in set(self.fields) - set(fields):
                self.fields.pop(name)


class KitComponentSerializer(DynamicFieldsModelSerializer):
    kit_code = serializers.CharField(source="kit.code", read_only=True)
    component_name = serializers.CharField(source="component.name", read_only=True)

    class Meta:
        model = KitComponent
        fields = "__all__"


class ItemSerializer(DynamicFieldsModelSerializer):
    kit_components = KitComponentSerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = "__all__"


class PartInventorySerializer(DynamicFieldsModelSerializer):
    part_code = serializers.CharField(source="part.code", read_only=True)

    class Meta:
        model = PartInventory
        fields = "__all__"
        read_only_fields = ["created_by", "modified_by"]


class PartKitSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartKit
        fields = "__all__"


class KitMoveSerializer(serializers.Serializer):
    """Issue / move-to-inventory: which inventory, how much."""

    part_inventory = serializers.PrimaryKeyRelatedField(queryset=PartInventory.objects.all())
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)


class KitMoveResultSerializer(serializers.Serializer):
    part_kit = PartKitSerializer()
    part_inventory = PartInventorySerializer()
    issued_quantity = serializers.DecimalField(max_digits=20, decimal_places=6)


class ShortageSerializer(serializers.Serializer):
    part_code = serializers.CharField()
    short_quantity = serializers.DecimalField(max_digits=40, decimal_places=6)
