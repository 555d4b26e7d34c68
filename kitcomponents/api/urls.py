from config.api.routers import ObjectRouter
from kitcomponents.api import views

router = ObjectRouter()
router.register("inventory-control/kit-component", views.KitComponentViewSet)
urlpatterns = router.urls
