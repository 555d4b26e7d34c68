"""What the inventory-control/item tests (tests/test_items_*.py) share: the route, type lists and
request helpers, and the full body an item renders as."""

from config.api import identity
from inventory.models import Item
from kitcomponents.models import KitComponent
from tests.support.refs import audit, snapshot

ITEMS = "/objects/inventory-control/item"
NON_STOCKED = ["nonInventory", "purchaseOnlyNonInventory", "salesOnlyNonInventory", "kit"]
NON_KITS = ["inventory", "nonInventory", "purchaseOnlyNonInventory", "salesOnlyNonInventory"]


def state():
    return snapshot(Item, KitComponent)


def post(api, body):
    return api.post(ITEMS, body, format="json")


def patch(api, item, body, **headers):
    return api.patch(identity.href(item), body, format="json", **headers)


def expected_item(item: Item, user, **overrides) -> dict:
    """The full GET shape of an item created with defaults, with `overrides` on top."""
    body = {
        "key": str(item.pk),
        "id": item.code,
        "name": item.name,
        "status": "active",
        "itemType": item.item_type,
        "costMethod": "standard",
        "unitOfMeasure": "each",
        "extendedDescription": "",
        "purchasing": {"standardCost": "0"},
        "tracking": {
            "enableSerialNo": False,
            "serialMask": "",
            "enableLotCategory": False,
            "lotCategory": "",
        },
        "kitRevenuePosting": "componentLevel"
        if item.item_type in ("kit", "stockableKit")
        else None,
        "kitComponents": [],
        "trackingType": "untracked",
        "onHandQuantity": 0,
        "availableQuantity": 0,
        "kittedQuantity": 0,
        "buildableQuantity": None,
        "audit": audit(item, user),
        "href": f"/objects/inventory-control/item/{item.pk}",
    }
    body.update(overrides)
    return body
