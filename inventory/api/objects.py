"""The inventory objects of the API: their paths, id fields and what the query service reads."""

from config.api.spec import declare
from inventory import selectors
from inventory.api import serializers

declare(
    "inventory-control/item",
    serializers.ItemSerializer,
    id_field="code",
    query=selectors.item_list(),
    expressions={"trackingType": selectors.item_tracking_type()},
)
declare(
    "inventory-control/warehouse",
    serializers.WarehouseSerializer,
    id_field="code",
    query=selectors.warehouse_list(),
)
declare(
    "inventory-control/part-inventory",
    serializers.PartInventorySerializer,
    query=selectors.part_inventory_list(),
    expressions=selectors.part_inventory_query_expressions(),
)
declare(
    "inventory-control/inventory-transaction",
    serializers.InventoryTransactionSerializer,
    query=selectors.inventory_transaction_list(),
)
