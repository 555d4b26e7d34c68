"""The kit component object of the API, and the item (it renders its kit components)."""

from config.api.spec import Example, declare
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from kitcomponents import selectors
from kitcomponents.api import item, serializers

_stock = selectors.item_availability()
declare(
    "inventory-control/item",
    item.ItemSerializer,
    id_field="code",
    query=inventory_selectors.item_list(),
    expressions={
        "trackingType": inventory_selectors.item_tracking_type(),
        "onHandQuantity": _stock["on_hand_quantity"],
        "availableQuantity": _stock["available_quantity"],
        "kittedQuantity": _stock["kitted_quantity"],
        "buildableQuantity": _stock["buildable_quantity"],
    },
    immutable=inventory_services.ITEM_IMMUTABLE,
    example=Example(
        key="2",
        id="Prnt_Paper",
        create={
            "id": "Prnt_Cable",
            "name": "Printer cable",
            "itemType": "inventory",
            "unitOfMeasure": "Each",
            "purchasing": {"standardCost": "4.5"},
        },
        created="7",
        update={"name": "Paper for printer, 10 pack"},
    ),
)
declare(
    "inventory-control/kit-component",
    serializers.KitComponentSerializer,
    query=selectors.kit_component_list(),
    example=Example(
        key="2",
        id="2",
        create={"kit": {"id": "Kit_1"}, "component": {"id": "Prnt_Cable"}, "numberOfUnits": 2},
        created="9",
        update={"numberOfUnits": 3},
    ),
)
