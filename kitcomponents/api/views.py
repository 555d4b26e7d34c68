from config.api.viewsets import ObjectViewSet
from kitcomponents import selectors, services
from kitcomponents.api import details
from kitcomponents.api.filters import KitComponentFilter
from kitcomponents.api.serializers import KitComponentSerializer


class KitComponentViewSet(ObjectViewSet):
    queryset = selectors.kit_component_list()
    serializer_class = KitComponentSerializer
    detail_selector = details.kit_component_detail
    filterset_class = KitComponentFilter
    delete_service = services.kit_component_delete
