from rest_framework import serializers

from config.api.fields import KeyIdField, NumberField, RefField, decimal_string
from config.api.serializers import IntacctSerializer
from inventory.models import Item
from kitcomponents import services
from kitcomponents.models import DeferralStatus, DeliveryStatus, KitComponent

COMPONENT_EXTRA = {
    "name": "name",
    "costMethod": "cost_method",
    "itemType": "item_type",
    "unitOfMeasure": "unit_of_measure",
    "standardCost": lambda item: decimal_string(item.standard_cost),
}


class KitComponentSerializer(IntacctSerializer):
    id = KeyIdField()
    kit = RefField(Item.objects.all())
    component = RefField(Item.objects.all(), extra=COMPONENT_EXTRA, reads=("standard_cost",))
    numberOfUnits = NumberField(source="number_of_units")
    # Wider than the column, so 101 or 1000 get the service's "between 0 and 100".
    revenuePercentage = NumberField(source="revenue_percentage", required=False, allow_null=True)
    defaultDeliveryStatus = serializers.ChoiceField(
        DeliveryStatus.choices, source="default_delivery_status", required=False
    )
    defaultDeferralStatus = serializers.ChoiceField(
        DeferralStatus.choices, source="default_deferral_status", required=False
    )
    lineNumber = serializers.IntegerField(source="line_number", required=False, allow_null=True)

    class Meta:
        model = KitComponent
        fields = [
            "key",
            "id",
            "kit",
            "component",
            "numberOfUnits",
            "revenuePercentage",
            "defaultDeliveryStatus",
            "defaultDeferralStatus",
            "lineNumber",
            "audit",
            "href",
        ]

    def create(self, validated_data):
        return services.kit_component_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.kit_component_update(
            kit_component_key=instance.pk, user=self.user, **validated_data
        )
