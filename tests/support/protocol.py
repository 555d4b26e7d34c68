"""What the protocol tests (tests/test_protocol_*.py) share: the base paths and routes, the
payload error bodies, the state snapshot and the `warehouse` fixture (registered by
tests/conftest.py)."""

import re

import pytest

from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents.models import KitComponent
from tests.support.errors import (
    err,
)

V1 = "/ia/api/v1"
BASES = ["", V1]
ITEMS = "/objects/inventory-control/item"
WAREHOUSES = "/objects/inventory-control/warehouse"
LINES = "/objects/inventory-control/kit-component"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def unknown_field(pointer):
    return err(
        "REST-1043",
        f"{pointer} is not a valid field",
        pointer,
        FIELD=pointer,
    )


def payload_errors(*pointers):
    return err(
        "REST-1064",
        "Payload contains errors",
        details=[unknown_field(p) for p in pointers],
    )


def state():
    """Every row of every object table: compared before and after a refused request."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (Item, Warehouse, KitComponent)
    }


@pytest.fixture
def warehouse(admin_user):
    return inventory_services.warehouse_create(user=admin_user, code="WH1", name="Main")


def make_warehouses(admin_user, count, prefix="W"):
    return [
        inventory_services.warehouse_create(user=admin_user, code=f"{prefix}{n}", name=f"W {n}")
        for n in range(1, count + 1)
    ]
