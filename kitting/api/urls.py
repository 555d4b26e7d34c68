from django.urls import re_path

from config.api.routers import ObjectRouter
from kitting.api import inventory_transaction, part_inventory, requirement, views

router = ObjectRouter()
router.register(part_inventory.PartInventoryViewSet)
router.register(inventory_transaction.InventoryTransactionViewSet)
router.register(views.RunViewSet)
router.register(views.PartKitViewSet)
router.register(requirement.RequirementViewSet)

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
        rf"^{WORKFLOWS}/part-kit/fulfill/?$",
        views.PartKitFulfillView.as_view(),
        name="part-kit-fulfill",
    ),
    re_path(
        rf"^{WORKFLOWS}/run/complete/?$",
        views.RunCompleteView.as_view(),
        name="run-complete",
    ),
    re_path(
        rf"^{WORKFLOWS}/part-inventory/adjust/?$",
        views.PartInventoryAdjustView.as_view(),
        name="part-inventory-adjust",
    ),
    re_path(
        rf"^{WORKFLOWS}/part-inventory/split/?$",
        views.PartInventorySplitView.as_view(),
        name="part-inventory-split",
    ),
]
