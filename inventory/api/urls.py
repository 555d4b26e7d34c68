from config.api import query
from config.api.routers import ObjectRouter
from inventory import selectors
from inventory.api import serializers, views

router = ObjectRouter()
router.register("inventory-control/item", views.ItemViewSet)
router.register("inventory-control/warehouse", views.WarehouseViewSet)
router.register("inventory-control/part-inventory", views.PartInventoryViewSet)
router.register("inventory-control/inventory-transaction", views.InventoryTransactionViewSet)
urlpatterns = router.urls

tracking_type = {"trackingType": selectors.item_tracking_type()}
query.register(
    serializers.ItemSerializer, queryset=selectors.item_list(), expressions=tracking_type
)
query.register(serializers.WarehouseSerializer, queryset=selectors.warehouse_list())
query.register(
    serializers.PartInventorySerializer,
    queryset=selectors.part_inventory_list(),
    expressions=selectors.part_inventory_query_expressions(),
)
query.register(
    serializers.InventoryTransactionSerializer, queryset=selectors.inventory_transaction_list()
)
