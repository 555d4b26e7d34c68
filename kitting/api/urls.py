from django.urls import re_path

from config.api import query
from config.api.routers import ObjectRouter
from kitting import selectors
from kitting.api import serializers, views

router = ObjectRouter()
router.register("inventory-control/run", views.RunViewSet)
router.register("inventory-control/part-kit", views.PartKitViewSet)
query.register(serializers.RunSerializer, queryset=selectors.run_list())
query.register(serializers.PartKitSerializer, queryset=selectors.part_kit_list())

WORKFLOWS = "workflows/inventory-control"
urlpatterns = [
    *router.urls,
    re_path(
        rf"^{WORKFLOWS}/part-kit/issue/?$",
        views.PartKitIssueView.as_view(),
        name="part-kit-issue",
    ),
    re_path(
        rf"^{WORKFLOWS}/part-kit/move-to-inventory/?$",
        views.PartKitMoveToInventoryView.as_view(),
        name="part-kit-move-to-inventory",
    ),
    re_path(
        rf"^{WORKFLOWS}/run/complete/?$",
        views.RunCompleteView.as_view(),
        name="run-complete",
    ),
]
