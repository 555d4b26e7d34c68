"""inventory-control/item over HTTP (contract section 3): create and read; required fields,
lengths, enums and types."""

from decimal import Decimal

import pytest

from config.api import identity
from inventory.models import Item
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.items import NON_KITS, expected_item, post, state
from tests.support.refs import created

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
    # The stocked component has no stock: no kit can be built.
    assert result == expected_item(kit, admin_user, kitComponents=lines, buildableQuantity=0)


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
