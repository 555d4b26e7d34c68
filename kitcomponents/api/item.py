"""The item's REST adapter. It lives here, not in inventory/api/, because an item renders its kit
components: the lowest app whose data its representation shows."""

import django_filters
from rest_framework import serializers

from config.api.fields import DecimalStringField, NumberField, StrictBooleanField, StrictCharField
from config.api.serializers import GroupSerializer, IntacctSerializer
from config.api.viewsets import ObjectViewSet
from inventory import services
from inventory.models import (
    CostMethod,
    Item,
    ItemType,
    KitRevenuePosting,
    Status,
    TrackingType,
)
from kitcomponents import selectors
from kitcomponents.api import details
from kitcomponents.api.serializers import KitComponentSerializer


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
    # Stock figures (contract 15.1): annotations of kitcomponents.selectors.item_list().
    onHandQuantity = NumberField(source="on_hand_quantity", read_only=True)
    availableQuantity = NumberField(source="available_quantity", read_only=True)
    kittedQuantity = NumberField(source="kitted_quantity", read_only=True)
    buildableQuantity = NumberField(source="buildable_quantity", read_only=True, allow_null=True)

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
            "onHandQuantity",
            "availableQuantity",
            "kittedQuantity",
            "buildableQuantity",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.item_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.item_update(item_key=instance.pk, user=self.user, **validated_data)


class ItemFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    # Choice filters: a value outside the enum is a 400, not an empty page.
    itemType = django_filters.ChoiceFilter(field_name="item_type", choices=ItemType.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Item
        fields = ["id", "itemType", "status"]


class ItemViewSet(ObjectViewSet):
    queryset = selectors.item_list()
    detail_selector = details.item_detail
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    delete_service = services.item_delete
