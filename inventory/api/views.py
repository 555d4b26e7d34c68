from config.api.viewsets import ObjectViewSet
from inventory import selectors, services
from inventory.api import details
from inventory.api.filters import WarehouseFilter
from inventory.api.serializers import WarehouseSerializer


class WarehouseViewSet(ObjectViewSet):
    queryset = selectors.warehouse_list()
    detail_selector = details.warehouse_detail
    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilter
    delete_service = services.warehouse_delete
