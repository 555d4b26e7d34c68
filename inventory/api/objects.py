"""The inventory objects of the API whose representation shows only inventory data (the item,
part inventory and the ledger are declared by the higher apps whose data they show)."""

from config.api.spec import Example, declare
from inventory import selectors
from inventory.api import serializers

declare(
    "inventory-control/warehouse",
    serializers.WarehouseSerializer,
    id_field="code",
    query=selectors.warehouse_list(),
    example=Example(
        key="1",
        id="WH-MAIN",
        create={"id": "WH-2", "name": "Back shelf"},
        created="2",
        update={"name": "Main warehouse, building A"},
    ),
)
