"""inventory-control/item over HTTP (contract section 3): the business rules (tracking, serial
masks, kit revenue posting)."""

import pytest

from inventory.models import Item
from tests.support.errors import assert_rules, err, invalid
from tests.support.items import NON_KITS, NON_STOCKED, patch, post, state

# --- business rules -----------------------------------------------------------------------


def tracking_not_allowed(field: str, item_type: str) -> dict:
    return err(
        "KS-4230",
        f"{field} is only allowed on items of type inventory or stockableKit, not {item_type}",
        field,
        FIELD=field,
        TYPE=item_type,
    )


@pytest.mark.parametrize("item_type", NON_STOCKED)
@pytest.mark.parametrize("flag", ["enableSerialNo", "enableLotCategory"])
def test_tracking_only_on_inventory_and_stockable_kits(api, item_type, flag):
    response = post(api, {"id": "T", "name": "T", "itemType": item_type, "tracking": {flag: True}})
    assert_rules(response, tracking_not_allowed(f"tracking.{flag}", item_type))
    assert not Item.objects.exists()


def test_both_tracking_flags_on_a_non_stocked_type_are_two_details(api):
    response = post(
        api,
        {
            "id": "T",
            "name": "T",
            "itemType": "kit",
            "tracking": {"enableSerialNo": True, "enableLotCategory": True},
        },
    )
    assert_rules(
        response,
        tracking_not_allowed("tracking.enableSerialNo", "kit"),
        tracking_not_allowed("tracking.enableLotCategory", "kit"),
    )


@pytest.mark.parametrize("item_type", ["inventory", "stockableKit"])
def test_tracking_allowed_on_stocked_types(api, item_type):
    body = {
        "id": "T",
        "name": "T",
        "itemType": item_type,
        "tracking": {"enableSerialNo": True, "enableLotCategory": True},
    }
    assert post(api, body).status_code == 201
    item = Item.objects.get()
    assert (item.enable_serial_no, item.enable_lot_category) == (True, True)


@pytest.mark.parametrize("item_type", NON_STOCKED)
def test_tracking_flags_sent_false_on_other_types_are_fine(api, item_type):
    body = {
        "id": "T",
        "name": "T",
        "itemType": item_type,
        "tracking": {"enableSerialNo": False, "enableLotCategory": False},
    }
    assert post(api, body).status_code == 201
    stored = Item.objects.get(code="T")
    assert (stored.item_type, stored.enable_serial_no, stored.enable_lot_category) == (
        item_type,
        False,
        False,
    )


def test_patch_cannot_enable_tracking_on_a_non_stocked_item(api, items):
    item = items["NonInv"]
    before = state()
    response = patch(api, item, {"tracking": {"enableSerialNo": True}})
    assert_rules(response, tracking_not_allowed("tracking.enableSerialNo", "nonInventory"))
    assert state() == before


def test_tracking_cannot_change_while_the_part_has_inventory(api, items, admin_user):
    from inventory.services import part_inventory_create

    part = items["Prnt_Paper"]
    part_inventory_create(user=admin_user, part=part, quantity=3)
    before = state()
    response = patch(api, part, {"tracking": {"enableSerialNo": True, "enableLotCategory": True}})
    assert_rules(
        response,
        err(
            "KS-4234",
            "tracking.enableSerialNo cannot change while item Prnt_Paper has part inventory",
            "tracking.enableSerialNo",
            FIELD="tracking.enableSerialNo",
            ID="Prnt_Paper",
        ),
        err(
            "KS-4234",
            "tracking.enableLotCategory cannot change while item Prnt_Paper has part inventory",
            "tracking.enableLotCategory",
            FIELD="tracking.enableLotCategory",
            ID="Prnt_Paper",
        ),
    )
    assert state() == before
    # Sent back unchanged, or changed on a part without inventory, it is fine.
    assert patch(api, part, {"tracking": {"enableSerialNo": False}}).status_code == 200
    assert patch(api, items["SKit_1"], {"tracking": {"enableSerialNo": True}}).status_code == 200


def test_serial_mask_needs_a_hash(api):
    body = {
        "id": "M",
        "name": "M",
        "itemType": "inventory",
        "tracking": {"enableSerialNo": True, "serialMask": "SN-XXXX"},
    }
    response = post(api, body)
    assert_rules(
        response, invalid("tracking.serialMask", "a mask needs at least one # for the counter")
    )
    assert not Item.objects.exists()

    body["tracking"]["serialMask"] = "SN-#"
    assert post(api, body).status_code == 201
    assert Item.objects.get().serial_mask == "SN-#"


def test_patch_serial_mask_without_hash(api, items):
    paper = items["Prnt_Paper"]
    before = state()
    response = patch(api, paper, {"tracking": {"serialMask": "ABC"}})
    assert_rules(
        response, invalid("tracking.serialMask", "a mask needs at least one # for the counter")
    )
    assert state() == before


def kits_only(item_type: str) -> dict:
    return err(
        "KS-4231",
        f"kitRevenuePosting is only allowed on items of type kit or stockableKit, not {item_type}",
        "kitRevenuePosting",
        FIELD="kitRevenuePosting",
        TYPE=item_type,
    )


@pytest.mark.parametrize("item_type", NON_KITS)
def test_kit_revenue_posting_only_for_kits(api, item_type):
    response = post(
        api, {"id": "R", "name": "R", "itemType": item_type, "kitRevenuePosting": "componentLevel"}
    )
    assert_rules(response, kits_only(item_type))
    assert not Item.objects.exists()


@pytest.mark.parametrize("item_type", NON_KITS)
def test_kit_revenue_posting_null_is_fine_on_other_types(api, item_type):
    response = post(api, {"id": "R", "name": "R", "itemType": item_type, "kitRevenuePosting": None})
    assert response.status_code == 201
    assert Item.objects.get().kit_revenue_posting == ""


def test_patch_kit_revenue_posting(api, items):
    kit = items["Kit_1"]
    assert patch(api, kit, {"kitRevenuePosting": "kitLevel"}).status_code == 200
    kit.refresh_from_db()
    assert kit.kit_revenue_posting == "kitLevel"
    # null on a kit means "the default" again
    assert patch(api, kit, {"kitRevenuePosting": None}).status_code == 200
    kit.refresh_from_db()
    assert kit.kit_revenue_posting == "componentLevel"

    before = state()
    response = patch(api, items["Prnt_Paper"], {"kitRevenuePosting": "kitLevel"})
    assert_rules(response, kits_only("inventory"))
    assert state() == before
