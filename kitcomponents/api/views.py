from config.api.viewsets import ObjectViewSet
from inventory.api import details as inventory_details
from kitcomponents import selectors, services
from kitcomponents.api.filters import KitComponentFilter
from kitcomponents.api.serializers import KitComponentSerializer


class KitComponentViewSet(ObjectViewSet):
    queryset = selectors.kit_component_list()
    serializer_class = KitComponentSerializer
    detail_selector = inventory_details.kit_component_detail
    filterset_class = KitComponentFilter
    delete_service = services.kit_component_delete
