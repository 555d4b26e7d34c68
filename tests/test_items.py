"""inventory-control/item over HTTP: contract section 3, and the section 10 statuses it answers."""

from decimal import Decimal
from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction

from config.api import identity
from config.api.throttling import ClientRateThrottle
from inventory.models import Item, PartInventory
from kitcomponents.models import KitComponent
from kitting.models import Run
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.parallel import run_together
from tests.support.refs import audit, created, ref, snapshot
from tests.support.users import forced_client, make_user

ITEMS = "/objects/inventory-control/item"
NON_STOCKED = ["nonInventory", "purchaseOnlyNonInventory", "salesOnlyNonInventory", "kit"]
NON_KITS = ["inventory", "nonInventory", "purchaseOnlyNonInventory", "salesOnlyNonInventory"]


def state():
    return snapshot(Item, KitComponent)


def post(api, body):
    return api.post(ITEMS, body, format="json")


def patch(api, item, body, **headers):
    return api.patch(identity.href(item), body, format="json", **headers)


def expected_item(item: Item, user, **overrides) -> dict:
    """The full GET shape of an item created with defaults, with `overrides` on top."""
    body = {
        "key": str(item.pk),
        "id": item.code,
        "name": item.name,
        "status": "active",
        "itemType": item.item_type,
        "costMethod": "standard",
        "unitOfMeasure": "each",
        "extendedDescription": "",
        "purchasing": {"standardCost": "0"},
        "tracking": {
            "enableSerialNo": False,
            "serialMask": "",
            "enableLotCategory": False,
            "lotCategory": "",
        },
        "kitRevenuePosting": "componentLevel"
        if item.item_type in ("kit", "stockableKit")
        else None,
        "kitComponents": [],
        "trackingType": "untracked",
        "audit": audit(item, user),
        "href": f"/objects/inventory-control/item/{item.pk}",
    }
    body.update(overrides)
    return body


# --- create and read ----------------------------------------------------------------------


def test_create_with_defaults_answers_201_with_a_reference(api, admin_user):
    response = post(api, {"id": "Prnt_Paper", "name": "Paper for Printer", "itemType": "inventory"})

    item = Item.objects.get()
    assert response.status_code == 201
    assert response.json() == created(item)
    assert response["Location"] == f"/objects/inventory-control/item/{item.pk}"
    assert response["ETag"] == '"1"'
    assert (item.code, item.name, item.item_type) == (
        "Prnt_Paper",
        "Paper for Printer",
        "inventory",
    )
    assert (item.status, item.cost_method, item.unit_of_measure) == ("active", "standard", "each")
    assert (item.standard_cost, item.kit_revenue_posting, item.version) == (0, "", 1)
    assert item.created_by == item.modified_by == admin_user

    got = api.get(identity.href(item))
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    assert got.json() == {
        "ia::result": expected_item(item, admin_user),
        "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0},
    }


@pytest.mark.parametrize("item_type", ["kit", "stockableKit"])
def test_kits_default_to_component_level_revenue_posting(api, admin_user, item_type):
    response = post(api, {"id": "K", "name": "Kit", "itemType": item_type})

    assert response.status_code == 201
    item = Item.objects.get()
    assert item.kit_revenue_posting == "componentLevel"
    result = api.get(identity.href(item)).json()["ia::result"]
    assert result["kitRevenuePosting"] == "componentLevel"


@pytest.mark.parametrize("item_type", NON_KITS)
def test_other_types_render_kit_revenue_posting_as_null(api, admin_user, item_type):
    assert post(api, {"id": "I", "name": "Item", "itemType": item_type}).status_code == 201
    item = Item.objects.get()
    assert api.get(identity.href(item)).json()["ia::result"] == expected_item(item, admin_user)


def test_create_with_every_field_round_trips(api, admin_user):
    body = {
        "id": "Srv_1",
        "name": "Server",
        "status": "inactive",
        "itemType": "stockableKit",
        "costMethod": "FIFO",
        "unitOfMeasure": "10 Pack",
        "extendedDescription": "A rack server",
        "purchasing": {"standardCost": "125.67"},
        "tracking": {
            "enableSerialNo": True,
            "serialMask": "SN-#####",
            "enableLotCategory": True,
            "lotCategory": "Batch",
        },
        "kitRevenuePosting": "kitLevel",
    }
    assert post(api, body).status_code == 201

    item = Item.objects.get()
    assert item.standard_cost == Decimal("125.67")
    expected = expected_item(item, admin_user, **body, trackingType="serial")
    assert api.get(identity.href(item)).json()["ia::result"] == expected


def test_standard_cost_keeps_ten_places_and_renders_without_trailing_zeros(api):
    post(api, {"id": "A", "name": "A", "itemType": "inventory", "purchasing": {"standardCost": 3}})
    post(
        api,
        {
            "id": "B",
            "name": "B",
            "itemType": "inventory",
            "purchasing": {"standardCost": "0.0000000001"},
        },
    )
    a, b = Item.objects.order_by("pk")
    assert api.get(identity.href(a)).json()["ia::result"]["purchasing"] == {"standardCost": "3"}
    assert api.get(identity.href(b)).json()["ia::result"]["purchasing"] == {
        "standardCost": "0.0000000001"
    }


@pytest.mark.parametrize(
    ("serial", "lot", "tracking_type"),
    [
        (True, True, "serial"),
        (True, False, "serial"),
        (False, True, "lot"),
        (False, False, "untracked"),
    ],
)
def test_tracking_type_serial_wins_over_lot(api, serial, lot, tracking_type):
    body = {
        "id": "T",
        "name": "Tracked",
        "itemType": "inventory",
        "tracking": {"enableSerialNo": serial, "enableLotCategory": lot},
    }
    assert post(api, body).status_code == 201
    result = api.get(identity.href(Item.objects.get())).json()["ia::result"]
    assert result["trackingType"] == tracking_type
    assert (result["tracking"]["enableSerialNo"], result["tracking"]["enableLotCategory"]) == (
        serial,
        lot,
    )


def test_kit_components_are_full_objects_in_line_number_order(api, admin_user, items, add_line):
    kit = items["Kit_1"]
    fifth = add_line(kit, items["Prnt_Paper"], 2, line_number=5)
    first = add_line(kit, items["NonInv"], 1, line_number=1)
    third = add_line(kit, items["SKit_1"], 3, line_number=3)
    add_line(items["Kit_2"], items["Prnt_Paper"])  # another kit's line stays out

    result = api.get(identity.href(kit)).json()["ia::result"]

    lines = [api.get(identity.href(line)).json()["ia::result"] for line in (first, third, fifth)]
    assert [line["lineNumber"] for line in lines] == [1, 3, 5]
    assert result["kitComponents"] == lines
    assert lines[0]["component"] == {
        "key": str(items["NonInv"].pk),
        "id": "NonInv",
        "name": "NonInv name",
        "costMethod": "standard",
        "itemType": "nonInventory",
        "unitOfMeasure": "each",
        "standardCost": "0",
        "href": identity.href(items["NonInv"]),
    }
    kit.refresh_from_db()
    assert result == expected_item(kit, admin_user, kitComponents=lines)


def test_routes_are_also_served_under_the_intacct_prefix(api, items):
    paper = items["Prnt_Paper"]
    response = api.get(f"/ia/api/v1{identity.href(paper)}")
    assert response.status_code == 200
    assert response.json()["ia::result"]["href"] == identity.href(paper)


# --- required fields, lengths, enums, types -----------------------------------------------


def test_empty_object_names_every_required_field(api):
    response = post(api, {})
    assert_rules(response, required("id"), required("name"), required("itemType"))
    assert not Item.objects.exists()


@pytest.mark.parametrize("field", ["id", "name", "itemType"])
@pytest.mark.parametrize("how", ["missing", "null", "blank"])
def test_each_required_field(api, field, how):
    body = {"id": "X", "name": "X", "itemType": "inventory"}
    if how == "missing":
        del body[field]
    else:
        body[field] = None if how == "null" else ""
    response = post(api, body)
    if field == "itemType" and how == "blank":
        assert_rules(response, invalid("itemType", '"" is not a valid choice.'))
    else:
        assert_rules(response, required(field))
    assert not Item.objects.exists()


def test_whitespace_only_id_and_name_are_missing(api):
    response = post(api, {"id": "   ", "name": " ", "itemType": "inventory"})
    assert_rules(response, required("id"), required("name"))
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("id", 30),
        ("name", 100),
        ("extendedDescription", 400),
        ("unitOfMeasure", 30),
        ("tracking.serialMask", 30),
        ("tracking.lotCategory", 30),
    ],
)
def test_length_limits(api, field, limit):
    def body(length):
        value = "#" * length
        data = {"id": "Len", "name": "Len", "itemType": "inventory"}
        if "." in field:
            group, name = field.split(".")
            data[group] = {name: value}
        else:
            data[field] = value
        return data

    response = post(api, body(limit + 1))
    assert_rules(
        response, invalid(field, f"Ensure this field has no more than {limit} characters.")
    )
    assert not Item.objects.exists()

    assert post(api, body(limit)).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "archived"),
        ("itemType", "widget"),
        ("costMethod", "fifo"),
        ("kitRevenuePosting", "itemLevel"),
    ],
)
def test_values_outside_an_enum(api, field, value):
    body = {"id": "E", "name": "E", "itemType": "kit", field: value}
    response = post(api, body)
    assert_rules(response, invalid(field, f'"{value}" is not a valid choice.'))
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"id": 123}, "id", "Not a valid string."),
        ({"name": ["Paper"]}, "name", "Not a valid string."),
        ({"unitOfMeasure": 10}, "unitOfMeasure", "Not a valid string."),
        (
            {"tracking": {"enableSerialNo": "yes"}},
            "tracking.enableSerialNo",
            "Must be a valid boolean.",
        ),
        (
            {"tracking": {"enableLotCategory": 1}},
            "tracking.enableLotCategory",
            "Must be a valid boolean.",
        ),
        (
            {"purchasing": {"standardCost": "cheap"}},
            "purchasing.standardCost",
            "A valid number is required.",
        ),
        (
            {"purchasing": {"standardCost": "0.12345678901"}},
            "purchasing.standardCost",
            "Ensure that there are no more than 10 decimal places.",
        ),
        (
            {"purchasing": {"standardCost": True}},
            "purchasing.standardCost",
            "A valid number is required.",
        ),
    ],
)
def test_wrong_json_types(api, body, field, reason):
    response = post(api, {"id": "W", "name": "W", "itemType": "inventory", **body})
    assert_rules(response, invalid(field, reason))
    assert not Item.objects.exists()


def test_a_group_that_is_not_an_object(api):
    response = post(api, {"id": "G", "name": "G", "itemType": "inventory", "tracking": "serial"})
    assert_rules(response, invalid("tracking", "Invalid data. Expected a dictionary, but got str."))
    assert not Item.objects.exists()


def test_several_violations_are_reported_together(api):
    response = post(api, {"id": "x" * 31, "itemType": "widget", "status": "gone"})
    assert_rules(
        response,
        invalid("id", "Ensure this field has no more than 30 characters."),
        required("name"),
        invalid("status", '"gone" is not a valid choice.'),
        invalid("itemType", '"widget" is not a valid choice.'),
    )


def test_duplicate_id_is_409(api, items):
    before = state()
    response = post(api, {"id": "Prnt_Paper", "name": "Other paper", "itemType": "inventory"})
    assert_error(
        response,
        409,
        err(
            "KS-4091",
            "inventory-control/item with id Prnt_Paper already exists",
            "id",
            OBJECT="inventory-control/item",
            FIELD="id",
            VALUE="Prnt_Paper",
        ),
    )
    assert state() == before


def test_rules_are_checked_before_uniqueness(api, items):
    response = post(
        api,
        {
            "id": "Prnt_Paper",
            "name": "P",
            "itemType": "nonInventory",
            "kitRevenuePosting": "kitLevel",
        },
    )
    assert_rules(
        response,
        err(
            "KS-4231",
            "kitRevenuePosting is only allowed on items of type kit or stockableKit, "
            "not nonInventory",
            "kitRevenuePosting",
            FIELD="kitRevenuePosting",
            TYPE="nonInventory",
        ),
    )


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


# --- update -------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(api, admin_user, items):
    paper = items["Prnt_Paper"]
    response = patch(
        api,
        paper,
        {
            "name": "Paper, A4",
            "status": "inactive",
            "unitOfMeasure": "ream",
            "extendedDescription": "80 g/m²",
            "purchasing": {"standardCost": "4.50"},
            "tracking": {"enableLotCategory": True, "lotCategory": "Batch"},
        },
    )
    assert response.status_code == 200
    assert response.json() == created(paper)
    assert response["ETag"] == '"2"'

    paper.refresh_from_db()
    assert paper.version == 2
    assert api.get(identity.href(paper)).json()["ia::result"] == expected_item(
        paper,
        admin_user,
        name="Paper, A4",
        status="inactive",
        unitOfMeasure="ream",
        extendedDescription="80 g/m²",
        purchasing={"standardCost": "4.5"},
        tracking={
            "enableSerialNo": False,
            "serialMask": "",
            "enableLotCategory": True,
            "lotCategory": "Batch",
        },
        trackingType="lot",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "Other_Id"), ("itemType", "stockableKit"), ("costMethod", "average")],
)
def test_immutable_fields_cannot_change(api, items, field, value):
    before = state()
    response = patch(api, items["Kit_1"], {field: value})
    assert_rules(
        response, err("KS-4223", f"{field} cannot be changed after create", field, FIELD=field)
    )
    assert state() == before


def test_every_immutable_change_is_reported(api, items):
    before = state()
    response = patch(
        api,
        items["Kit_1"],
        {"id": "Kit_9", "itemType": "inventory", "costMethod": "LIFO", "name": "ok"},
    )
    assert_rules(
        response,
        *(
            err("KS-4223", f"{f} cannot be changed after create", f, FIELD=f)
            for f in ("id", "itemType", "costMethod")
        ),
    )
    assert state() == before


def test_patch_what_get_returned_is_accepted(api, items, add_line):
    """A client that PATCHes back what it GETs: immutable fields unchanged, read-only ignored."""
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    got = api.get(identity.href(kit)).json()["ia::result"]
    got["name"] = "Renamed kit"

    response = patch(api, kit, got)

    assert response.status_code == 200
    kit.refresh_from_db()
    assert (kit.code, kit.name, kit.item_type, kit.cost_method) == (
        "Kit_1",
        "Renamed kit",
        "kit",
        "standard",
    )
    assert KitComponent.objects.count() == 1


def test_patch_with_matching_if_match(api, items):
    paper = items["Prnt_Paper"]
    response = patch(api, paper, {"name": "New"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_patch_with_stale_if_match_is_412(api, items):
    paper = items["Prnt_Paper"]
    before = state()
    response = patch(api, paper, {"name": "New"}, HTTP_IF_MATCH='"7"')
    assert_error(
        response,
        412,
        err(
            "KS-4121",
            'If-Match "7" does not match the current version "1"',
            GIVEN='"7"',
            CURRENT='"1"',
        ),
    )
    assert state() == before


def test_patch_required_fields_cannot_be_blanked(api, items):
    before = state()
    response = patch(api, items["Prnt_Paper"], {"name": "", "id": None})
    assert_rules(response, required("id"), required("name"))
    assert state() == before


# --- delete -------------------------------------------------------------------------------


def test_delete_unreferenced_item(api, items):
    paper = items["Prnt_Paper"]
    response = api.delete(identity.href(paper))
    assert response.status_code == 204
    assert response.content == b""
    assert not Item.objects.filter(pk=paper.pk).exists()
    assert Item.objects.count() == len(items) - 1


@pytest.mark.parametrize("role", ["kit", "component"])
def test_delete_item_referenced_by_a_kit_component_is_409(api, items, add_line, role):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    item = items["Kit_1"] if role == "kit" else items["Prnt_Paper"]
    before = state()

    response = api.delete(identity.href(item))

    assert_error(
        response,
        409,
        err(
            "KS-4092",
            f"inventory-control/item {item.pk} cannot be deleted: it is still referenced by "
            f"inventory-control/kit-component {line.pk}",
            OBJECT="inventory-control/item",
            KEY=item.pk,
            REFERENCES=f"inventory-control/kit-component {line.pk}",
        ),
    )
    assert state() == before


@pytest.mark.parametrize("referrer", ["part-inventory", "run"])
def test_delete_item_referenced_by_part_inventory_or_a_run_is_409(api, items, referrer):
    paper = items["Prnt_Paper"]
    if referrer == "run":
        blocker = Run.objects.create(code="RUN-1", part=paper)
    else:
        blocker = PartInventory.objects.create(part=paper, quantity=3)
    before = state()

    response = api.delete(identity.href(paper))

    references = f"inventory-control/{referrer} {blocker.pk}"
    assert_error(
        response,
        409,
        err(
            "KS-4092",
            f"inventory-control/item {paper.pk} cannot be deleted: it is still referenced by "
            f"{references}",
            OBJECT="inventory-control/item",
            KEY=paper.pk,
            REFERENCES=references,
        ),
    )
    assert state() == before
    assert type(blocker).objects.filter(pk=blocker.pk, part=paper).exists()


def test_delete_may_carry_an_empty_object(api, items):
    paper = items["Prnt_Paper"]
    assert api.delete(identity.href(paper), {}, format="json").status_code == 204
    assert not Item.objects.filter(pk=paper.pk).exists()


def test_delete_with_stale_if_match_is_412(api, items):
    paper = items["Prnt_Paper"]
    response = api.delete(identity.href(paper), HTTP_IF_MATCH='"2"')
    assert response.status_code == 412
    assert Item.objects.filter(pk=paper.pk).exists()
    assert api.delete(identity.href(paper), HTTP_IF_MATCH='"1"').status_code == 204


# --- list ---------------------------------------------------------------------------------


def listing(api, query=""):
    response = api.get(ITEMS + query)
    assert response.status_code == 200, response.content
    return response.json()


def refs(*objs):
    return [ref(o) for o in sorted(objs, key=lambda o: o.pk)]


def test_list_returns_references_in_key_order(api, items):
    assert listing(api) == {
        "ia::result": refs(*items.values()),
        "ia::meta": {
            "totalCount": 8,
            "start": 1,
            "pageSize": 100,
            "next": None,
            "previous": None,
        },
    }


def test_list_pages(api, items):
    ordered = sorted(items.values(), key=lambda o: o.pk)
    assert listing(api, "?start=3&size=2") == {
        "ia::result": refs(*ordered[2:4]),
        "ia::meta": {"totalCount": 8, "start": 3, "pageSize": 2, "next": 5, "previous": 1},
    }
    assert listing(api, "?start=8&size=2")["ia::meta"]["next"] is None


def test_list_filters(api, items):
    Item.objects.filter(pk=items["NonInv"].pk).update(status="inactive")

    assert listing(api, "?itemType=kit")["ia::result"] == refs(items["Kit_1"], items["Kit_2"])
    assert listing(api, "?itemType=stockableKit")["ia::result"] == refs(
        items["SKit_1"], items["SKit_2"]
    )
    assert listing(api, "?status=inactive")["ia::result"] == refs(items["NonInv"])
    assert listing(api, "?id=Kit_1")["ia::result"] == refs(items["Kit_1"])
    assert listing(api, "?id=Nope")["ia::result"] == []
    assert listing(api, "?itemType=kit&status=active")["ia::meta"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("query", "parameter", "reason"),
    [
        ("?itemType=widget", "itemType", "not a valid value"),
        ("?status=gone", "status", "not a valid value"),
        ("?start=0", "start", "must be an integer at least 1"),
        ("?size=4001", "size", "must be an integer between 1 and 4000"),
        ("?size=ten", "size", "must be an integer between 1 and 4000"),
    ],
)
def test_bad_query_is_400(api, items, query, parameter, reason):
    response = api.get(ITEMS + query)
    assert_error(
        response,
        400,
        err(
            "KS-4003",
            f"Query parameter {parameter} is invalid: {reason}",
            parameter,
            PARAMETER=parameter,
            REASON=reason,
        ),
    )


# --- protocol statuses (section 10) -------------------------------------------------------


@pytest.mark.parametrize("key", ["999999", "abc", "1.0"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_key_is_404(api, items, key, method):
    before = state()
    response = getattr(api, method)(f"{ITEMS}/{key}", {"name": "x"}, format="json")
    assert_error(
        response,
        404,
        err(
            "KS-4041",
            f"inventory-control/item with key {key} was not found",
            OBJECT="inventory-control/item",
            KEY=key,
        ),
    )
    assert state() == before


def test_unknown_field_is_400(api):
    response = post(
        api,
        {"id": "U", "name": "U", "itemType": "inventory", "newDate": 1, "tracking": {"colour": 1}},
    )
    assert_error(
        response,
        400,
        err("REST-1064", "Payload contains errors"),
        [
            err("REST-1043", "/newDate is not a valid field", "/newDate", FIELD="/newDate"),
            err(
                "REST-1043",
                "/tracking/colour is not a valid field",
                "/tracking/colour",
                FIELD="/tracking/colour",
            ),
        ],
    )
    assert not Item.objects.exists()


@pytest.mark.parametrize("method", ["post", "patch"])
def test_missing_payload_is_400(api, items, method):
    url = ITEMS if method == "post" else identity.href(items["Prnt_Paper"])
    before = state()
    response = getattr(api, method)(url, content_type="application/json")
    verb = method.upper()
    assert_error(
        response, 400, err("REST-1028", f"A {verb} request requires a payload", METHOD=verb)
    )
    assert state() == before


def test_malformed_json_is_400(api):
    response = api.post(ITEMS, data='{"id": ', content_type="application/json")
    reason = "Expecting value: line 1 column 8 (char 7)"
    assert_error(
        response,
        400,
        err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason),
    )
    assert not Item.objects.exists()


def test_payload_that_is_not_an_object_is_400(api):
    response = post(api, [{"id": "A", "name": "A", "itemType": "inventory"}])
    assert_error(response, 400, err("KS-4002", "The payload must be a JSON object"))
    assert not Item.objects.exists()


def test_not_json_is_415(api):
    response = api.post(ITEMS, data="id=A&name=A", content_type="application/x-www-form-urlencoded")
    assert_error(
        response,
        415,
        err(
            "KS-4151",
            "Content type application/x-www-form-urlencoded is not supported: "
            "send application/json",
            TYPE="application/x-www-form-urlencoded",
        ),
    )
    assert not Item.objects.exists()


def test_put_is_405(api, items):
    paper = items["Prnt_Paper"]
    before = state()
    response = api.put(identity.href(paper), {"name": "x"}, format="json")
    assert_error(
        response,
        405,
        err(
            "KS-4051",
            f"Method PUT is not allowed on {identity.href(paper)}",
            METHOD="PUT",
            PATH=identity.href(paper),
        ),
    )
    assert state() == before


def test_without_credentials_is_401(db, client):
    response = client.get(ITEMS)
    assert_error(response, 401, err("KS-4011", "Authentication credentials were not provided"))


def test_bad_token_is_401(db, client):
    response = client.get(ITEMS, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(response, 401, err("KS-4012", "The credentials are invalid or have expired"))


def test_read_only_user_is_403_on_writes(client_for, items):
    reader = client_for(make_user("reader", "inventory.view_item"))
    paper = items["Prnt_Paper"]
    before = state()

    assert reader.get(identity.href(paper)).status_code == 200
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(
        reader.post(ITEMS, {"id": "N", "name": "N", "itemType": "kit"}, format="json"),
        403,
        forbidden,
    )
    assert_error(reader.patch(identity.href(paper), {"name": "x"}, format="json"), 403, forbidden)
    assert_error(reader.delete(identity.href(paper)), 403, forbidden)
    assert state() == before


def test_user_without_view_permission_is_403_on_reads(client_for, items):
    nobody = client_for(make_user("nobody"))
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(nobody.get(ITEMS), 403, forbidden)
    assert_error(nobody.get(identity.href(items["Kit_1"])), 403, forbidden)


def test_throttled_is_429(api, monkeypatch):
    monkeypatch.setattr(
        ClientRateThrottle,
        "THROTTLE_RATES",
        {**ClientRateThrottle.THROTTLE_RATES, "client": "2/min"},
    )
    assert api.get(ITEMS).status_code == 200
    assert api.get(ITEMS).status_code == 200
    response = api.get(ITEMS)
    assert response["Retry-After"] == "60"
    assert_error(
        response, 429, err("KS-4291", "Too many requests: retry in 60 seconds", SECONDS=60)
    )


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
