from config.api.routers import ObjectRouter
from kitcomponents.api import views

router = ObjectRouter()
router.register(views.KitComponentViewSet)
urlpatterns = router.urls
