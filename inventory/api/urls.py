from config.api.routers import ObjectRouter
from inventory.api import views

router = ObjectRouter()
router.register(views.WarehouseViewSet)
urlpatterns = router.urls
