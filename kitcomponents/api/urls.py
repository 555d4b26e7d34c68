from config.api.routers import ObjectRouter
from kitcomponents.api import item, views

router = ObjectRouter()
router.register(item.ItemViewSet)
router.register(views.KitComponentViewSet)
urlpatterns = router.urls
