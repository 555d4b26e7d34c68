"""The kitting objects of the API, part inventory and the ledger (they render runs and kits),
and the bodies of the workflows."""

from config.api.spec import declare, declare_payload
from inventory import selectors as inventory_selectors
from kitting import selectors
from kitting.api import inventory_transaction, part_inventory, serializers

declare(
    "inventory-control/part-inventory",
    part_inventory.PartInventorySerializer,
    query=inventory_selectors.part_inventory_list(),
    expressions=inventory_selectors.part_inventory_query_expressions(),
)
declare(
    "inventory-control/inventory-transaction",
    inventory_transaction.InventoryTransactionSerializer,
    query=inventory_selectors.inventory_transaction_list(),
)
declare(
    "inventory-control/run",
    serializers.RunSerializer,
    id_field="code",
    query=selectors.run_list(),
)
declare(
    "inventory-control/part-kit",
    serializers.PartKitSerializer,
    query=selectors.part_kit_list(),
)
declare_payload(serializers.PartKitIssueSerializer)
declare_payload(serializers.PartKitMoveToInventorySerializer)
declare_payload(serializers.RunCompleteSerializer)
