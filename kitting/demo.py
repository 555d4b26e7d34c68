"""Demo data for `make run` (the `seed_demo` command): a few items, a kit with components, a
stockable kit whose components are in stock (what the README's planning walkthrough builds) and
a warehouse, written through the services. Safe to run again: existing rows are kept."""

from django.db import transaction

from inventory import services as inventory_services
from inventory.models import Item, PartInventory, Warehouse
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
    # Built by runs and kept in stock, unlike Kit_1 (a `kit` is sold, never built).
    {"code": "Prnt_Bundle", "name": "Printer bundle", "item_type": "stockableKit"},
]
# (kit, component, units): the service is no requirement of a run (it is not stocked).
COMPONENTS = [
    ("Kit_1", "Prnt_1000", 1),
    ("Kit_1", "Prnt_Paper", 2),
    ("Kit_1", "Prnt_Ink", 4),
    ("Kit_1", "Setup_Svc", 1),
    ("Prnt_Bundle", "Prnt_1000", 1),
    ("Prnt_Bundle", "Prnt_Paper", 2),
    ("Prnt_Bundle", "Prnt_Ink", 4),
    ("Prnt_Bundle", "Setup_Svc", 1),
]
# On WH-MAIN: two printers (generated serials), 20 packs of paper, a generated lot of 30 ink
# cartridges. Three bundles need 3 printers, 6 packs and 12 cartridges: one printer short.
STOCK = [("Prnt_1000", 1), ("Prnt_1000", 1), ("Prnt_Paper", 20), ("Prnt_Ink", 30)]


@transaction.atomic
def demo_data_load(*, user) -> None:
    items = {}
    for spec in ITEMS:
        item = Item.objects.filter(code=spec["code"]).first()
        items[spec["code"]] = item or inventory_services.item_create(user=user, **spec)
    main = Warehouse.objects.filter(code="WH-MAIN").first()
    if main is None:
        main = inventory_services.warehouse_create(user=user, code="WH-MAIN", name="Main warehouse")
    for kit, code, units in COMPONENTS:
        if not KitComponent.objects.filter(kit=items[kit], component=items[code]).exists():
            kit_services.kit_component_create(
                user=user, kit=items[kit], component=items[code], number_of_units=units
            )
    stocked = set(PartInventory.objects.values_list("part__code", flat=True))
    for code, quantity in STOCK:
        if code in stocked:
            continue
        part = items[code]
        inventory_services.part_inventory_create(
            user=user,
            part=part,
            autogenerate_serial_number=part.enable_serial_no,
            autogenerate_lot_number=part.enable_lot_category,
            location=main,
            quantity=quantity,
        )
