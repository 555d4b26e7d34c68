import django_filters

from kitcomponents.models import KitComponent


class KitComponentFilter(django_filters.FilterSet):
    kit = django_filters.NumberFilter(field_name="kit_id")
    component = django_filters.NumberFilter(field_name="component_id")

    class Meta:
        model = KitComponent
        fields = ["kit", "component"]
