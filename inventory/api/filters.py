import django_filters

from inventory.models import Status, Warehouse


class WarehouseFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Warehouse
        fields = ["id", "status"]
