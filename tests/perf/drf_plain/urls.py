from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests.perf.drf_plain import views

router = DefaultRouter()
router.register("items", views.ItemViewSet)
router.register("kit-components", views.KitComponentViewSet)
router.register("part-inventories", views.PartInventoryViewSet)
router.register("part-kits", views.PartKitViewSet)

urlpatterns = [
    path("healthz", views.healthz),
    path("shortages/", views.ShortageList.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include(router.urls)),
]
