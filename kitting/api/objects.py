"""The kitting objects of the API, part inventory and the ledger (they render runs and kits),
and the bodies of the workflows."""

from config.api import render
from config.api.spec import Example, declare, declare_payload
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from kitting import selectors, services
from kitting.api import inventory_transaction, part_inventory, requirement, serializers

_computed = inventory_selectors.part_inventory_expressions()
declare(
    "inventory-control/part-inventory",
    part_inventory.PartInventorySerializer,
    query=inventory_selectors.part_inventory_list(),
    expressions={
        "trackingType": _computed["tracking_type"],
        "kitted": _computed["kitted"],
        "installed": _computed["installed"],
        "status": _computed["status"],
        "etag": render.etag_expression("version"),
    },
    immutable=inventory_services.PART_INVENTORY_IMMUTABLE,
    example=Example(
        key="3",
        id="3",
        create={"part": {"id": "Prnt_Paper"}, "location": {"id": "WH-MAIN"}, "quantity": 10},
        created="5",
        update={"cost": "9.5"},
    ),
)
declare(
    "inventory-control/inventory-transaction",
    inventory_transaction.InventoryTransactionSerializer,
    query=inventory_selectors.inventory_transaction_list(),
    example=Example(key="1", id="1"),
)
declare(
    "inventory-control/run",
    serializers.RunSerializer,
    id_field="code",
    query=selectors.run_list(),
    example=Example(
        key="1",
        id="RUN-1",
        create={"id": "RUN-1", "title": "One bundle", "part": {"id": "Prnt_Bundle"}, "quantity": 1},
        created="1",
        update={"title": "One printer bundle"},
    ),
)
declare(
    "inventory-control/part-kit",
    serializers.PartKitSerializer,
    query=selectors.part_kit_list(),
    immutable=services.PART_KIT_IMMUTABLE,
    example=Example(
        key="1",
        id="1",
        create={"run": {"id": "RUN-1"}},
        created="1",
        update={"status": "requested"},
    ),
)
_requirement = selectors.requirement_expressions()
declare(
    "inventory-control/requirement",
    requirement.RequirementSerializer,
    query=selectors.requirement_list(),
    expressions={
        "shortQuantity": _requirement["short_quantity"],
        "availableQuantity": _requirement["available_quantity"],
        "uncoveredQuantity": _requirement["uncovered_quantity"],
    },
    order=requirement.ORDER,
)
declare_payload(serializers.PartKitIssueSerializer)
declare_payload(serializers.PartKitFulfillSerializer)
declare_payload(serializers.PartKitMoveToInventorySerializer)
declare_payload(serializers.RunCompleteSerializer)
declare_payload(serializers.PartInventoryAdjustSerializer)
declare_payload(serializers.PartInventorySplitSerializer)
