from config.api.viewsets import ObjectViewSet
from inventory import selectors, services
from inventory.api.filters import ItemFilter, WarehouseFilter
from inventory.api.serializers import ItemSerializer, WarehouseSerializer


class ItemViewSet(ObjectViewSet):
    queryset = selectors.item_list()
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    delete_service = services.item_delete


class WarehouseViewSet(ObjectViewSet):
    queryset = selectors.warehouse_list()
    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilter
    delete_service = services.warehouse_delete
