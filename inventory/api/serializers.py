"""The warehouse's REST adapter. The other inventory objects render data of higher apps, so
their adapters live there: the item in kitcomponents/api/item.py, part inventory and the ledger in
kitting/api/part_inventory.py and kitting/api/inventory_transaction.py."""

from rest_framework import serializers

from config.api.fields import StrictBooleanField, StrictCharField
from config.api.serializers import IntacctSerializer
from inventory import services
from inventory.models import Status, Warehouse


class WarehouseSerializer(IntacctSerializer):
    id = StrictCharField(source="code", max_length=30)
    name = StrictCharField(max_length=100)
    status = serializers.ChoiceField(Status.choices, required=False)
    inventoryAvailable = StrictBooleanField(source="inventory_available", required=False)

    class Meta:
        model = Warehouse
        fields = ["key", "id", "name", "status", "inventoryAvailable", "audit", "href"]

    def create(self, validated_data):
        return services.warehouse_create(user=self.user, **validated_data)

    def update(self, instance, validated_data):
        return services.warehouse_update(
            warehouse_key=instance.pk, user=self.user, **validated_data
        )
