from rest_framework.exceptions import MethodNotAllowed

from config.api.viewsets import ObjectViewSet
from inventory import selectors, services
from inventory.api import details
from inventory.api.filters import (
    InventoryTransactionFilter,
    ItemFilter,
    PartInventoryFilter,
    WarehouseFilter,
)
from inventory.api.serializers import (
    InventoryTransactionSerializer,
    ItemSerializer,
    PartInventorySerializer,
    WarehouseSerializer,
)


class ItemViewSet(ObjectViewSet):
    queryset = selectors.item_list()
    detail_selector = details.item_detail
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    delete_service = services.item_delete


class WarehouseViewSet(ObjectViewSet):
    queryset = selectors.warehouse_list()
    detail_selector = details.warehouse_detail
    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilter
    delete_service = services.warehouse_delete


class PartInventoryViewSet(ObjectViewSet):
    queryset = selectors.part_inventory_list()
    serializer_class = PartInventorySerializer
    filterset_class = PartInventoryFilter
    delete_service = services.part_inventory_delete
    if_match_required = True


class InventoryTransactionViewSet(ObjectViewSet):
    """The ledger: list, get (and query) only."""

    queryset = selectors.inventory_transaction_list()
    detail_selector = details.inventory_transaction_detail
    serializer_class = InventoryTransactionSerializer
    filterset_class = InventoryTransactionFilter
    http_method_names = ["get", "head", "options"]

    def check_permissions(self, request):
        # A write is 405 for everyone signed in, not 403 for those without add/change/delete.
        if request.method.lower() not in self.http_method_names and request.user.is_authenticated:
            raise MethodNotAllowed(request.method)
        super().check_permissions(request)
