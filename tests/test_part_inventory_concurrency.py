"""Concurrent part-inventory writes from many connections at once (contract 6.3, 7.5, 12.2).

Each thread is its own client with its own database connection, as separate server processes
would be. SQLite admits one writer at a time, so these run on PostgreSQL only.
"""

from decimal import Decimal
from functools import partial

import pytest
from django.db import connection

from inventory import services
from inventory.models import InventoryTransaction, Item, PartInventory
from tests.support.kitting import ADJUST, SPLIT, assert_ledger_invariant
from tests.support.parallel import run_together
from tests.support.users import forced_client

PI = "/objects/inventory-control/part-inventory"

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def part(admin_user):
    return services.item_create(
        user=admin_user,
        code="Widget",
        name="Widget",
        item_type="inventory",
        enable_serial_no=True,
        enable_lot_category=True,
    )


def test_fifty_parallel_creates_get_fifty_distinct_generated_numbers(admin_user, part):
    def create(i):
        response = forced_client(admin_user).post(
            PI,
            {
                "part": {"key": str(part.pk)},
                "autogenerateSerialNumber": True,
                "autogenerateLotNumber": True,
                "quantity": i % 2,
            },
            format="json",
        )
        return response.status_code, response.json()["ia::result"]["key"]

    results = run_together([partial(create, i) for i in range(50)])
    assert [status for status, _ in results] == [201] * 50
    keys = {int(key) for _, key in results}
    rows = PartInventory.objects.filter(pk__in=keys)
    serials = set(rows.values_list("serial_number", flat=True))
    lots = set(rows.values_list("lot_number", flat=True))
    assert serials == {f"Widget-{n:06d}" for n in range(1, 51)}
    assert lots == {f"Widget-L{n:06d}" for n in range(1, 51)}
    ledger = InventoryTransaction.objects.filter(part_inventory_id__in=keys, type="create")
    assert ledger.count() == 50
    assert sorted(ledger.values_list("part_inventory_id", flat=True)) == sorted(keys)
    part.refresh_from_db()
    assert (part.serial_counter, part.lot_counter) == (50, 50)


def test_fifty_parallel_service_creates_for_one_part(admin_user, part):
    def create(i):
        return services.part_inventory_create(
            user=admin_user, part=Item.objects.get(pk=part.pk), autogenerate_serial_number=True
        ).serial_number

    numbers = run_together([partial(create, i) for i in range(50)])
    assert sorted(numbers) == [f"Widget-{n:06d}" for n in range(1, 51)]
    assert InventoryTransaction.objects.filter(type="create").count() == 50


def test_one_serial_claimed_by_many_at_once_is_created_once(admin_user, part):
    def create(i):
        response = forced_client(admin_user).post(
            PI, {"part": {"key": str(part.pk)}, "serialNumber": "SN-RACE"}, format="json"
        )
        body = response.json()["ia::result"]
        return response.status_code, body.get("ia::error", {}).get("errorId")

    results = run_together([partial(create, i) for i in range(12)])
    assert sorted(results, key=str) == sorted([(201, None)] + [(409, "KS-4091")] * 11, key=str)
    assert PartInventory.objects.filter(serial_number="SN-RACE").count() == 1
    assert InventoryTransaction.objects.count() == 1


def test_parallel_patches_with_one_etag_only_one_wins(admin_user):
    bolt = services.item_create(user=admin_user, code="Bolt", name="Bolt", item_type="inventory")
    inventory = services.part_inventory_create(user=admin_user, part=bolt, quantity=100)

    def adjust(i):
        response = forced_client(admin_user).patch(
            f"{PI}/{inventory.pk}", {"quantity": i}, format="json", HTTP_IF_MATCH='"1"'
        )
        return response.status_code

    statuses = run_together([partial(adjust, i) for i in range(10)])
    assert sorted(statuses) == [200] + [412] * 9
    inventory.refresh_from_db()
    assert inventory.version == 2
    rows = list(
        InventoryTransaction.objects.filter(part_inventory_id=inventory.pk)
        .order_by("pk")
        .values_list("type", "quantity", "quantity_after")
    )
    assert rows == [
        ("create", 100, 100),
        ("adjust", inventory.quantity - 100, inventory.quantity),
    ]


def test_parallel_adjusts_in_sequence_keep_the_ledger_exact(admin_user):
    """Every request re-reads the ETag and retries on 412: all land, none is lost."""
    bolt = services.item_create(user=admin_user, code="Bolt", name="Bolt", item_type="inventory")
    inventory = services.part_inventory_create(user=admin_user, part=bolt, quantity=0)

    def add_one(i):
        api = forced_client(admin_user)
        for _ in range(200):
            current = api.get(f"{PI}/{inventory.pk}")
            body = current.json()["ia::result"]
            response = api.patch(
                f"{PI}/{inventory.pk}",
                {"quantity": body["quantity"] + 1},
                format="json",
                HTTP_IF_MATCH=current["ETag"],
            )
            if response.status_code == 200:
                return True
            assert response.status_code == 412
        return False

    assert run_together([partial(add_one, i) for i in range(8)]) == [True] * 8
    inventory.refresh_from_db()
    assert inventory.quantity == 8
    deltas = InventoryTransaction.objects.filter(part_inventory_id=inventory.pk, type="adjust")
    assert list(deltas.values_list("quantity", flat=True)) == [Decimal(1)] * 8
    assert list(deltas.order_by("pk").values_list("quantity_after", flat=True)) == list(range(1, 9))


def test_parallel_adjusts_and_splits_of_one_inventory_keep_quantities_and_ledger(admin_user):
    """Twenty-four requests at once on a lot of 10 (scraps, splits, recounts, transfers, If-Match
    "*"): every answer is 200 or a 422/409, never a negative quantity, and the ledger explains
    every unit of the source and of each split-off record (contract 7.5)."""
    resin = services.item_create(
        user=admin_user, code="Resin", name="Resin", item_type="inventory", enable_lot_category=True
    )
    shelves = [
        services.warehouse_create(user=admin_user, code=f"WH-{n}", name=f"Shelf {n}")
        for n in (1, 2)
    ]
    lot = services.part_inventory_create(
        user=admin_user, part=resin, lot_number="L-1", quantity=10, location=shelves[0]
    )
    key = str(lot.pk)
    bodies = [
        *[(ADJUST, {"key": key, "type": "scrap", "quantity": 1, "reason": "r"})] * 8,
        *[(SPLIT, {"key": key, "quantity": 1})] * 8,
        *[(ADJUST, {"key": key, "type": "recount", "quantity": 6, "reason": "r"})] * 2,
        *[
            (ADJUST, {"key": key, "type": "transfer", "location": {"id": f"WH-{n}"}, "reason": "r"})
            for n in (2, 1, 2, 1, 2, 1)
        ],
    ]

    def send(path, body):
        response = forced_client(admin_user).post(path, body, format="json", HTTP_IF_MATCH="*")
        return response.status_code

    statuses = run_together([partial(send, path, body) for path, body in bodies])
    assert set(statuses) <= {200, 409, 422}, statuses
    assert statuses.count(200) >= 1
    lot.refresh_from_db()
    splits = list(PartInventory.objects.filter(origin_part_inventory=lot))
    scrapped = -sum(
        InventoryTransaction.objects.filter(part_inventory_id=lot.pk, type="scrap").values_list(
            "quantity", flat=True
        )
    )
    recounted = sum(
        InventoryTransaction.objects.filter(part_inventory_id=lot.pk, type="recount").values_list(
            "quantity", flat=True
        )
    )
    assert lot.quantity >= 0 and all(split.quantity == 1 for split in splits)
    assert lot.quantity + len(splits) + scrapped - recounted == 10
    assert assert_ledger_invariant() == 1 + len(splits)


def test_parallel_adjusts_with_one_if_match_version_let_exactly_one_through(admin_user):
    resin = services.item_create(user=admin_user, code="Resin", name="Resin", item_type="inventory")
    lot = services.part_inventory_create(user=admin_user, part=resin, quantity=10)

    def scrap(_):
        response = forced_client(admin_user).post(
            ADJUST,
            {"key": str(lot.pk), "type": "scrap", "quantity": 1, "reason": "r"},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        return response.status_code

    statuses = run_together([partial(scrap, n) for n in range(10)])
    assert sorted(statuses) == [200] + [412] * 9
    lot.refresh_from_db()
    assert (lot.quantity, lot.version) == (9, 2)
