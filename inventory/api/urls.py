from config.api.routers import ObjectRouter
from inventory.api import views

router = ObjectRouter()
router.register(views.ItemViewSet)
router.register(views.WarehouseViewSet)
router.register(views.PartInventoryViewSet)
router.register(views.InventoryTransactionViewSet)
urlpatterns = router.urls
