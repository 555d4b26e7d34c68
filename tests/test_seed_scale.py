"""seed_scale, the benchmark's loader: the shape it promises, and a ledger that explains it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q, Sum

from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitcomponents.models import KitComponent
from kitting.management.commands.seed_scale import ledger_mismatches
from kitting.models import PartKit, PartKitLine, Run
from kitting.selectors import requirement_list

pytestmark = pytest.mark.django_db


def seed(**options):
    out = StringIO()
    call_command("seed_scale", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_seeds_the_requested_shape_with_a_consistent_ledger():
    output = seed(items=40, inventories=600, kits=6, runs=8, warehouses=3)

    assert "600 inventories" in output
    assert Item.objects.count() == 46
    assert Item.objects.filter(item_type__in=["kit", "stockableKit"]).count() == 6
    assert Warehouse.objects.count() == 3
    assert PartInventory.objects.count() == 600
    assert Run.objects.count() == PartKit.objects.count() == 8
    assert KitComponent.objects.values("kit").distinct().count() == 6
    # Tracking follows the part: serial rows carry a serial and hold one unit, lot rows a lot.
    inventories = PartInventory.objects.select_related("part")
    assert inventories.filter(part__enable_serial_no=True, serial_number__isnull=True).count() == 0
    assert inventories.filter(part__enable_lot_category=True, lot_number__isnull=True).count() == 0
    serial = inventories.filter(serial_number__isnull=False)
    assert serial.exists()
    assert all(i.quantity + i.kitted_quantity == 1 for i in serial)
    # What is kitted is what the open kits' lines hold, and the ledger explains every quantity.
    lines = PartKitLine.objects.aggregate(total=Sum("issued_quantity"), n=Count("pk"))
    assert lines["n"] > 0
    assert PartInventory.objects.aggregate(k=Sum("kitted_quantity"))["k"] == lines["total"]
    assert InventoryTransaction.objects.filter(type="issue").count() == lines["n"]
    assert InventoryTransaction.objects.filter(type="create").count() == 600
    assert ledger_mismatches() == 0


def test_ledger_check_finds_a_quantity_the_ledger_does_not_explain():
    seed(items=10, inventories=20, kits=2)
    PartInventory.objects.filter(pk=PartInventory.objects.order_by("pk").first().pk).update(
        quantity=12345
    )
    assert ledger_mismatches() == 1


def test_refuses_to_seed_over_existing_items_unless_reset():
    seed(items=10, inventories=20, kits=2)
    with pytest.raises(CommandError, match="pass --reset"):
        seed(items=10, inventories=20, kits=2)

    seed(items=12, inventories=30, kits=3, reset=True)

    assert Item.objects.count() == 15
    assert PartInventory.objects.count() == 30
    assert not PartInventory.objects.filter(~Q(part__code__startswith="PART-")).exists()
    # Sequences moved past the seeded keys: the next row gets a fresh key.
    item = Item.objects.create(code="After", name="After", item_type="inventory")
    assert item.pk == 16


def test_open_runs_need_nested_kits_and_their_kits_hold_part_of_it():
    """What the shortage benchmark reads: open runs whose requirements are met, partly short or
    not issued at all, some through a nested `kit`."""
    seed(items=60, inventories=2000, kits=30, runs=40, warehouses=3)

    nested = KitComponent.objects.filter(kit__item_type="kit", component__item_type="kit")
    assert nested.exists()
    rows = list(requirement_list())
    assert {row.run.status for row in rows} <= {"todo", "inProgress"}
    short = [row for row in rows if row.short_quantity > 0]
    assert [row for row in short if row.issued_quantity > 0], "none partly short"
    assert [row for row in short if row.issued_quantity == 0], "none without any issue"
    assert [row for row in rows if row.short_quantity == 0], "none met"
    # Every issued line is stock some requirement of its run asks for.
    needed = {(row.run_id, row.part_id) for row in rows}
    lines = PartKitLine.objects.values_list("part_kit__run_id", "part_inventory__part_id")
    assert set(lines) <= needed
