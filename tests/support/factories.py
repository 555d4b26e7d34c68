"""Rows for tests, made through the real services (so every row is stamped, validated and, for
stock, written with its ledger row exactly as in production). Plain functions rather than
factory-boy factories: a factory that bypassed the services would build rows production never
writes. When a service's signature changes, this is the one place to follow it."""

from typing import Any

from inventory import services as inventory_services
from inventory.models import Item, PartInventory, Warehouse
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent
from kitting import services as kitting_services
from kitting.models import PartKit, Run


def part(user, code: str, item_type: str = "inventory", **fields: Any) -> Item:
    """An item (any type; ION calls stocked items parts) named after its id."""
    return inventory_services.item_create(
        user=user, code=code, name=f"{code} name", item_type=item_type, **fields
    )


def warehouse(user, code: str, name: str = "Main shelf", **fields: Any) -> Warehouse:
    return inventory_services.warehouse_create(user=user, code=code, name=name, **fields)


def kit_line(user, kit: Item, component: Item, units=1, **fields: Any) -> KitComponent:
    return kit_services.kit_component_create(
        user=user, kit=kit, component=component, number_of_units=units, **fields
    )


def insert_serials(user, item: Item, serials: list[str]) -> dict[int, Exception]:
    """One unit of `item` per serial, written as a batch create's INSERT writes them, without
    its checks first: the database's own refusals show, by position."""
    drafts = []
    for position, serial in enumerate(serials):
        inventory = PartInventory(part=item, serial_number=serial, quantity=1)
        inventory.stamp(user, created=True)
        drafts.append(inventory_services._Draft(position, inventory, False, False))
    return inventory_services._insert_created(drafts, user=user, type="create", run=None)


def stock(user, item: Item, quantity=0, **fields: Any) -> PartInventory:
    """Part inventory of `item` (its `create` ledger row written with it)."""
    return inventory_services.part_inventory_create(
        user=user, part=item, quantity=quantity, **fields
    )


def run(user, code: str = "RUN-1", **fields: Any) -> Run:
    return kitting_services.run_create(user=user, code=code, **fields)


def kit(user, for_run: Run, **fields: Any) -> PartKit:
    return kitting_services.part_kit_create(user=user, run=for_run, **fields)


def issue(user, part_kit: PartKit, inventory: PartInventory, quantity=None):
    """The issue workflow: `quantity` of the inventory into the kit (an `issue` ledger row)."""
    return kitting_services.part_kit_issue(
        user=user, part_kit_key=part_kit.pk, part_inventory_key=inventory.pk, quantity=quantity
    )


def build_location(user) -> Warehouse:
    """Where completions build in tests about something else (run/complete requires a location)."""
    found = Warehouse.objects.filter(code="WH-BUILD").first()
    return found or warehouse(user, "WH-BUILD", "Build area")


def complete(user, the_run: Run, *, allow_shortage: bool = True, **fields: Any):
    """The run/complete workflow at the build location; short or not, unless a test says so."""
    return kitting_services.run_complete(
        user=user,
        run_key=the_run.pk,
        location=fields.pop("location", None) or build_location(user),
        allow_shortage=allow_shortage,
        **fields,
    )
