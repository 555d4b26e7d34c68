import django_filters

from config.api.filters import KeyFilter
from kitcomponents.models import KitComponent


class KitComponentFilter(django_filters.FilterSet):
    kit = KeyFilter(field_name="kit_id")
    component = KeyFilter(field_name="component_id")

    class Meta:
        model = KitComponent
        fields = ["kit", "component"]
