"""What the inventory-control/kit-component tests (tests/test_kit_components_*.py) share: the
request helpers, the rule-3 type table and error, and the `kit_3` and `parts` fixtures. The
modules that use those fixtures import them (`import parts as parts`) instead of tests/conftest.py
registering them: tests/support/part_inventory.py registers another `parts`."""

import pytest

from config.api import identity
from inventory import services as inventory_services
from inventory.models import Item
from kitcomponents.models import KitComponent
from tests.support.errors import err
from tests.support.refs import snapshot

KC = "/objects/inventory-control/kit-component"
ALL_TYPES = [
    "inventory",
    "nonInventory",
    "purchaseOnlyNonInventory",
    "salesOnlyNonInventory",
    "kit",
    "stockableKit",
]
NOT_KITS = ALL_TYPES[:4]
# Rule 3, spelled out: what each kind of kit may contain.
ALLOWED = {
    "kit": set(ALL_TYPES),
    "stockableKit": {*NOT_KITS, "stockableKit"},
}


def state():
    return snapshot(KitComponent, Item)


def key(item):
    return {"key": str(item.pk)}


def body(kit, component, units=1, **extra):
    return {"kit": key(kit), "component": key(component), "numberOfUnits": units, **extra}


def post(api, data):
    return api.post(KC, data, format="json")


def patch(api, line, data, **headers):
    return api.patch(identity.href(line), data, format="json", **headers)


def lines_of(kit):
    """(component id, line number) of every line of the kit, in line order."""
    return list(
        KitComponent.objects.filter(kit=kit)
        .order_by("line_number")
        .values_list("component__code", "line_number")
    )


def versions(*lines):
    return [KitComponent.objects.get(pk=line.pk).version for line in lines]


@pytest.fixture
def kit_3(admin_user):
    return inventory_services.item_create(
        user=admin_user, code="Kit_3", name="Kit 3", item_type="kit"
    )


@pytest.fixture
def parts(admin_user):
    """Five more inventory items, P1..P5, for kits with many lines."""
    return [
        inventory_services.item_create(
            user=admin_user, code=f"P{n}", name=f"Part {n}", item_type="inventory"
        )
        for n in range(1, 6)
    ]


def type_not_allowed(kit_type, component_type):
    return err(
        "KS-4227",
        f"A {kit_type} cannot contain an item of type {component_type}",
        "component",
        KIT_TYPE=kit_type,
        TYPE=component_type,
    )
