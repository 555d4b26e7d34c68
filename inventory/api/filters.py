import django_filters

from inventory.models import Item, Warehouse


class ItemFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    itemType = django_filters.CharFilter(field_name="item_type")
    status = django_filters.CharFilter()

    class Meta:
        model = Item
        fields = ["id", "itemType", "status"]


class WarehouseFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    status = django_filters.CharFilter()

    class Meta:
        model = Warehouse
        fields = ["id", "status"]
