"""Demo data for `make run` (the `seed_demo` command): a few items, a kit with components and a
warehouse, written through the services. Safe to run again: existing rows are kept."""

from django.db import transaction

from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent

ITEMS = [
    {"code": "Kit_1", "name": "Printer starter kit", "item_type": "kit"},
    {
        "code": "Prnt_Paper",
        "name": "Paper for Printer",
        "item_type": "inventory",
        "unit_of_measure": "10 Pack",
        "standard_cost": 100,
    },
    {
        "code": "Prnt_Ink",
        "name": "Ink cartridge",
        "item_type": "inventory",
        "standard_cost": "24.5",
        "enable_lot_category": True,
    },
    {
        "code": "Prnt_1000",
        "name": "Printer 1000",
        "item_type": "inventory",
        "standard_cost": "125.67",
        "enable_serial_no": True,
        "serial_mask": "PR-#####",
    },
    {"code": "Setup_Svc", "name": "Setup service", "item_type": "nonInventory"},
]
COMPONENTS = [("Prnt_1000", 1), ("Prnt_Paper", 2), ("Prnt_Ink", 4), ("Setup_Svc", 1)]


@transaction.atomic
def demo_data_load(*, user) -> None:
    items = {}
    for spec in ITEMS:
        item = Item.objects.filter(code=spec["code"]).first()
        items[spec["code"]] = item or inventory_services.item_create(user=user, **spec)
    if not Warehouse.objects.filter(code="WH-MAIN").exists():
        inventory_services.warehouse_create(user=user, code="WH-MAIN", name="Main warehouse")
    kit = items["Kit_1"]
    for code, units in COMPONENTS:
        if not KitComponent.objects.filter(kit=kit, component=items[code]).exists():
            kit_services.kit_component_create(
                user=user, kit=kit, component=items[code], number_of_units=units
            )
