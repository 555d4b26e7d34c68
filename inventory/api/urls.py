from config.api.routers import ObjectRouter
from inventory.api import views

router = ObjectRouter()
router.register("inventory-control/item", views.ItemViewSet)
router.register("inventory-control/warehouse", views.WarehouseViewSet)
urlpatterns = router.urls
