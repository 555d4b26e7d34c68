"""Contract 3 and 5 rules, called on the services directly: code, model field, nothing written."""

import pytest

from core.errors import DomainError, DomainErrors
from inventory import services
from inventory.models import Item, Warehouse
from tests.support.rules import database, refusal


def test_tracking_on_a_non_stocked_item(db):
    with pytest.raises(DomainErrors) as raised:
        services.item_create(
            user=None, code="S", name="S", item_type="nonInventory", enable_serial_no=True
        )
    assert refusal(raised.value) == [("tracking_not_allowed", "enable_serial_no")]
    assert not Item.objects.exists()


def test_immutable_fields_and_stale_version(db):
    item = services.item_create(user=None, code="P", name="P", item_type="inventory")
    with pytest.raises(DomainErrors) as raised:
        services.item_update(item_key=item.pk, user=None, code="Q", item_type="kit")
    assert refusal(raised.value) == [("immutable", "code"), ("immutable", "item_type")]
    with pytest.raises(DomainError) as stale:
        services.item_update(item_key=item.pk, user=None, expected_version=7, name="N")
    assert (stale.value.code, stale.value.params) == ("stale", {"CURRENT": 1})
    item.refresh_from_db()
    assert (item.code, item.name, item.version) == ("P", "P", 1)


def test_duplicate_warehouse_code(db):
    services.warehouse_create(user=None, code="WH", name="Main")
    with pytest.raises(DomainError) as raised:
        services.warehouse_create(user=None, code="WH", name="Other")
    assert (raised.value.code, raised.value.field) == ("duplicate", "code")
    assert Warehouse.objects.count() == 1


def test_a_missing_row_is_not_found(db):
    with pytest.raises(DomainError) as raised:
        services.warehouse_delete(warehouse_key=999, user=None)
    assert raised.value.code == "not_found"


def test_every_item_rule_at_once(db):
    before = database()
    with pytest.raises(DomainErrors) as raised:
        services.item_create(
            user=None,
            code=" ",
            name="",
            item_type="nonInventory",
            enable_lot_category=True,
            serial_mask="SN-",
            kit_revenue_posting="componentLevel",
        )
    assert refusal(raised.value) == [
        ("tracking_not_allowed", "enable_lot_category"),
        ("invalid_value", "serial_mask"),
        ("kits_only", "kit_revenue_posting"),
        ("required", "code"),
        ("required", "name"),
    ]
    assert database() == before


def test_duplicate_item_code_and_referenced_item(db):
    paper = services.item_create(user=None, code="Paper", name="Paper", item_type="inventory")
    with pytest.raises(DomainError) as raised:
        services.item_create(user=None, code="Paper", name="Other", item_type="inventory")
    assert (raised.value.code, raised.value.field) == ("duplicate", "code")
    services.part_inventory_create(user=None, part=paper, quantity=1)
    before = database()
    with pytest.raises(DomainError) as raised:
        services.item_delete(item_key=paper.pk, user=None)
    assert (raised.value.code, raised.value.field) == ("still_referenced", None)
    assert database() == before


def test_warehouse_rules(db):
    main = services.warehouse_create(user=None, code="WH", name="Main")
    services.warehouse_create(user=None, code="WH-2", name="Other")
    before = database()
    with pytest.raises(DomainErrors) as raised:
        services.warehouse_update(warehouse_key=main.pk, user=None, code="", name=" ")
    assert refusal(raised.value) == [("required", "code"), ("required", "name")]
    with pytest.raises(DomainError) as raised:
        services.warehouse_update(warehouse_key=main.pk, user=None, code="WH-2")
    assert (raised.value.code, raised.value.field) == ("duplicate", "code")
    with pytest.raises(DomainError) as raised:
        services.warehouse_delete(warehouse_key=main.pk, user=None, expected_version=2)
    assert (raised.value.code, raised.value.params) == ("stale", {"CURRENT": 1})
    assert database() == before
