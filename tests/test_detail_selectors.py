"""Each object's detail selector renders exactly what its serializer renders (the GET of one
object reads the selector; lists, writes and the query service still know the serializer), for
an object with every optional field set, nested lists of several rows and both audit users."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from inventory.api.details import warehouse_detail
from inventory.api.serializers import WarehouseSerializer
from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitcomponents.api.details import item_detail, kit_component_detail
from kitcomponents.api.item import ItemSerializer
from kitcomponents.api.serializers import KitComponentSerializer
from kitcomponents.models import KitComponent
from kitcomponents.selectors import item_list
from kitting.api.inventory_transaction import (
    InventoryTransactionSerializer,
    inventory_transaction_detail,
)
from kitting.models import PartKit, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return User.objects.create_user("creator"), User.objects.create_user("modifier")


def audited(model, users, **fields):
    return model.objects.create(created_by=users[0], modified_by=users[1], **fields)


def serialized(serializer_class, instance) -> dict:
    """The serializer's output as JSON sees it (DRF renders lazily typed values)."""
    # An item's serializer renders the stock figures its list selector annotates.
    rows = item_list() if isinstance(instance, Item) else type(instance).objects
    fresh = rows.get(pk=instance.pk)
    return json.loads(json.dumps(serializer_class(fresh).data))


def assert_same(selected, serializer_class, instance) -> None:
    assert selected is not None
    data, version = selected
    # Compared as JSON text, key order included: `==` on dicts would take 0 for false, 1 for 1.0.
    assert json.dumps(data) == json.dumps(serialized(serializer_class, instance))
    assert version == type(instance).objects.get(pk=instance.pk).version
    assert json.loads(json.dumps(data)) == data  # plain JSON values only


def kit_with_components(users) -> Item:
    kit = audited(
        Item,
        users,
        code="KIT_1",
        name="Kit",
        item_type="kit",
        status="inactive",
        cost_method="average",
        unit_of_measure="box",
        extended_description="A kit of parts",
        standard_cost=Decimal("12.5000000000"),
        kit_revenue_posting="kitLevel",
        version=3,
    )
    for line, cost in enumerate(("1.25", "0", "100.1")):
        part = audited(
            Item,
            users,
            code=f"PART_{line}",
            name=f"Part {line}",
            item_type="inventory",
            cost_method="FIFO",
            unit_of_measure="each",
            standard_cost=Decimal(cost),
        )
        audited(
            KitComponent,
            users,
            kit=kit,
            component=part,
            number_of_units=Decimal("2.5") + line,
            revenue_percentage=Decimal("33.333333"),
            default_delivery_status="undelivered",
            default_deferral_status="deferBundleUntilItemIsDelivered",
            line_number=3 - line,  # the list follows line numbers, not keys
        )
    return kit


def test_item_detail(users):
    kit = kit_with_components(users)
    assert_same(item_detail(key=kit.pk), ItemSerializer, kit)
    # With stock, in an available and an unavailable location, some of it kitted.
    closed = audited(Warehouse, users, code="W0", name="Closed", inventory_available=False)
    for line in KitComponent.objects.filter(kit=kit):
        for location in (None, closed):
            audited(
                PartInventory,
                users,
                part=line.component,
                location=location,
                quantity=Decimal("7.5"),
                kitted_quantity=Decimal("1.25"),
            )
    selected = item_detail(key=kit.pk)
    assert_same(selected, ItemSerializer, kit)
    assert selected[0]["buildableQuantity"] is not None
    tracked = audited(
        Item,
        users,
        code="TRK",
        name="Tracked",
        item_type="inventory",
        enable_serial_no=True,
        serial_mask="SN-####",
        enable_lot_category=True,
        lot_category="LOTS",
    )
    assert_same(item_detail(key=tracked.pk), ItemSerializer, tracked)
    assert item_detail(key=tracked.pk + 1000) is None


def test_warehouse_detail(users):
    warehouse = audited(Warehouse, users, code="W1", name="Main", status="inactive", version=7)
    assert_same(warehouse_detail(key=warehouse.pk), WarehouseSerializer, warehouse)
    assert warehouse_detail(key=warehouse.pk + 1) is None


def test_kit_component_detail(users):
    kit_with_components(users)
    for line in KitComponent.objects.all():
        selected = kit_component_detail(key=line.pk)
        assert_same(selected, KitComponentSerializer, line)
    assert kit_component_detail(key=10**9) is None


def test_inventory_transaction_detail(users):
    part = audited(
        Item, users, code="P", name="Part", item_type="inventory", enable_lot_category=True
    )
    run = audited(Run, users, code="RUN_1", part=part)
    kit = audited(PartKit, users, run=run)
    stock = audited(PartInventory, users, part=part, quantity=Decimal("3.5"), lot_number="L1")
    row = audited(
        InventoryTransaction,
        users,
        part_inventory=stock,
        part=part,
        type="issue",
        quantity=Decimal("-1.25"),
        kitted_quantity=Decimal("1.25"),
        quantity_after=Decimal("2.25"),
        part_kit=kit,
        run=run,
    )
    selected = inventory_transaction_detail(key=row.pk)
    assert_same(selected, InventoryTransactionSerializer, row)
    plain = audited(
        InventoryTransaction,
        users,
        part_inventory=stock,
        part=part,
        type="create",
        quantity=Decimal(4),
        quantity_after=Decimal(4),
    )
    assert_same(inventory_transaction_detail(key=plain.pk), InventoryTransactionSerializer, plain)
    assert inventory_transaction_detail(key=plain.pk + 1) is None
