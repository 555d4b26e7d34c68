from django.urls import re_path

from config.api.routers import ObjectRouter
from kitting.api import inventory_transaction, part_inventory, requirement, views

router = ObjectRouter()
router.register(part_inventory.PartInventoryViewSet)
router.register(inventory_transaction.InventoryTransactionViewSet)
router.register(views.RunViewSet)
router.register(views.PartKitViewSet)
router.register(requirement.RequirementViewSet)

# The workflows, by their path under workflows/inventory-control/ (the URL name is the path with
# dashes, e.g. "part-kit-issue").
WORKFLOWS = {
    "part-kit/issue": views.PartKitIssueView,
    "part-kit/move-to-inventory": views.PartKitMoveToInventoryView,
    "part-kit/fulfill": views.PartKitFulfillView,
    "run/complete": views.RunCompleteView,
    "part-inventory/adjust": views.PartInventoryAdjustView,
    "part-inventory/split": views.PartInventorySplitView,
}
urlpatterns = [
    *router.urls,
    *(
        re_path(
            rf"^workflows/inventory-control/{path}/?$",
            view.as_view(),
            name=path.replace("/", "-"),
        )
        for path, view in WORKFLOWS.items()
    ),
]
