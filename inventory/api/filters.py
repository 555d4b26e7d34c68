import django_filters

from config.api.filters import KeyFilter
from inventory.models import (
    InventoryTransaction,
    Item,
    ItemType,
    PartInventory,
    Status,
    TransactionType,
    Warehouse,
)


class ItemFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    # Choice filters: a value outside the enum is a 400, not an empty page.
    itemType = django_filters.ChoiceFilter(field_name="item_type", choices=ItemType.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Item
        fields = ["id", "itemType", "status"]


class WarehouseFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Warehouse
        fields = ["id", "status"]


class PartInventoryFilter(django_filters.FilterSet):
    part = KeyFilter(field_name="part_id")
    location = KeyFilter(field_name="location_id")
    serialNumber = django_filters.CharFilter(field_name="serial_number")
    lotNumber = django_filters.CharFilter(field_name="lot_number")

    class Meta:
        model = PartInventory
        fields = ["part", "location", "serialNumber", "lotNumber"]


class InventoryTransactionFilter(django_filters.FilterSet):
    partInventory = KeyFilter(field_name="part_inventory_id")
    part = KeyFilter(field_name="part_id")
    type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    partKit = KeyFilter(field_name="part_kit_id")
    run = KeyFilter(field_name="run_id")

    class Meta:
        model = InventoryTransaction
        fields = ["partInventory", "part", "type", "partKit", "run"]
