from config.api import query
from config.api.routers import ObjectRouter
from kitcomponents import selectors
from kitcomponents.api import serializers, views

router = ObjectRouter()
router.register("inventory-control/kit-component", views.KitComponentViewSet)
urlpatterns = router.urls

query.register(serializers.KitComponentSerializer, queryset=selectors.kit_component_list())
