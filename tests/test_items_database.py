"""inventory-control/item below the services: the database constraints, and concurrent writers."""

from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction

from inventory.models import Item
from tests.support.items import ITEMS
from tests.support.parallel import run_together
from tests.support.refs import ref
from tests.support.users import forced_client

# --- database constraints: each rule above also holds for writes that bypass the services ---

ITEM_CONSTRAINT_CASES = {
    "item_tracking_only_on_stocked_types": [
        {"item_type": "kit", "enable_serial_no": True},
        {"item_type": "nonInventory", "enable_lot_category": True},
    ],
    "item_kit_revenue_posting_only_on_kits": [
        {"item_type": "inventory", "kit_revenue_posting": "kitLevel"}
    ],
    "item_code_not_blank": [{"code": ""}],
    "item_name_not_blank": [{"name": ""}],
    "item_type_valid": [{"item_type": "widget"}],
}


def test_every_item_constraint_has_a_case():
    assert {c.name for c in Item._meta.constraints} == set(ITEM_CONSTRAINT_CASES)


@pytest.mark.parametrize(
    ("constraint", "fields"),
    [(name, fields) for name, cases in ITEM_CONSTRAINT_CASES.items() for fields in cases],
)
def test_item_check_constraints(db, constraint, fields):
    valid = {"code": "C", "name": "N", "item_type": "inventory"}
    Item.objects.create(**{**valid, "code": "Valid"})  # the same row without the flaw is fine
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Item.objects.create(**{**valid, **fields})
    # ... and an existing row cannot be changed into it either
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Item.objects.filter(code="Valid").update(**fields)
    assert list(Item.objects.values_list("code", flat=True)) == ["Valid"]


def test_item_id_unique_in_the_database(db):
    Item.objects.create(code="Dup", name="One", item_type="inventory")
    # PostgreSQL names the index, SQLite the column.
    unique = r"inventory_item_code|inventory_item\.code"
    with pytest.raises(IntegrityError, match=unique), transaction.atomic():
        Item.objects.create(code="Dup", name="Two", item_type="kit")
    assert Item.objects.count() == 1


# --- concurrent writers (PostgreSQL: SQLite admits one writer at a time) -------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_of_one_id_make_one_item_and_409s(admin_user):
    def create(i):
        response = forced_client(admin_user).post(
            ITEMS, {"id": "Same", "name": f"Attempt {i}", "itemType": "inventory"}, format="json"
        )
        return response.status_code, response.json()["ia::result"]

    results = run_together([partial(create, i) for i in range(8)])

    item = Item.objects.get()
    assert sorted(status for status, _ in results) == [201] + [409] * 7
    conflicts = [result["ia::error"] for status, result in results if status == 409]
    assert {(e["errorId"], e["message"]) for e in conflicts} == {
        ("KS-4091", "inventory-control/item with id Same already exists")
    }
    assert [result for status, result in results if status == 201] == [ref(item)]
