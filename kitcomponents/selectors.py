"""Reads for kit components."""

from django.db.models import QuerySet

from inventory import selectors as inventory_selectors
from kitcomponents.models import KitComponent


def kit_component_list() -> QuerySet[KitComponent]:
    return KitComponent.objects.all()


# Read beside the items that render kit components (inventory stands below this app).
kit_component_detail = inventory_selectors.kit_component_detail
