"""inventory-control/kit-component over HTTP (contract section 4): create and read, rules 1-3
(required fields, what a kit is, what each kind of kit may contain) and the field rules. The
Intacct documentation's own example bodies are in test_smoke_kit_component.py."""

import pytest

from config.api import identity
from kitcomponents.models import KitComponent
from tests.support.errors import assert_rules, err, invalid, required
from tests.support.kit_components import (
    ALL_TYPES,
    ALLOWED,
    NOT_KITS,
    body,
    key,
    lines_of,
    patch,
    post,
    state,
    type_not_allowed,
)
from tests.support.refs import audit, created, ref

# --- create, read, defaults ---------------------------------------------------------------


def test_create_with_defaults_and_read_back(api, admin_user, items):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]

    response = post(api, body(kit, paper, 2.5))

    line = KitComponent.objects.get()
    assert response.status_code == 201
    assert response.json() == created(line)
    assert (
        response["Location"]
        == identity.href(line)
        == f"/objects/inventory-control/kit-component/{line.pk}"
    )
    assert response["ETag"] == '"1"'
    got = api.get(identity.href(line))
    assert got["ETag"] == '"1"'
    assert got.json() == {
        "ia::result": {
            "key": str(line.pk),
            "id": str(line.pk),
            "kit": ref(kit),
            "component": {
                "key": str(paper.pk),
                "id": "Prnt_Paper",
                "name": "Prnt_Paper name",
                "costMethod": "standard",
                "itemType": "inventory",
                "unitOfMeasure": "each",
                "standardCost": "0",
                "href": identity.href(paper),
            },
            "numberOfUnits": 2.5,
            "revenuePercentage": None,
            "defaultDeliveryStatus": "delivered",
            "defaultDeferralStatus": "deferUntilItemIsDelivered",
            "lineNumber": 1,
            "audit": audit(line, admin_user),
            "href": identity.href(line),
        },
        "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0},
    }


def test_create_with_every_field(api, items):
    data = body(
        items["SKit_1"],
        items["SKit_2"],
        3,
        revenuePercentage=12.5,
        defaultDeliveryStatus="undelivered",
        defaultDeferralStatus="deferBundleUntilItemIsDelivered",
        lineNumber=7,
    )
    assert post(api, data).status_code == 201
    line = KitComponent.objects.get()
    assert (line.kit, line.component, line.number_of_units, line.revenue_percentage) == (
        items["SKit_1"],
        items["SKit_2"],
        3,
        12.5,
    )
    assert (line.default_delivery_status, line.default_deferral_status, line.line_number) == (
        "undelivered",
        "deferBundleUntilItemIsDelivered",
        7,
    )
    result = api.get(identity.href(line)).json()["ia::result"]
    assert (result["numberOfUnits"], result["revenuePercentage"], result["lineNumber"]) == (
        3,
        12.5,
        7,
    )


# --- rule 1: kit, component and numberOfUnits are required on create ---------------------


def test_rule_1_empty_object_names_all_three(api, items):
    before = state()
    assert_rules(post(api, {}), required("kit"), required("component"), required("numberOfUnits"))
    assert state() == before


@pytest.mark.parametrize("field", ["kit", "component", "numberOfUnits"])
@pytest.mark.parametrize("how", ["missing", "null"])
def test_rule_1_each_required_field(api, items, field, how):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    if how == "missing":
        del data[field]
    else:
        data[field] = None
    before = state()
    assert_rules(post(api, data), required(field))
    assert state() == before


@pytest.mark.parametrize("field", ["kit", "component", "numberOfUnits"])
def test_rule_1_patch_cannot_null_them(api, items, add_line, field):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_rules(patch(api, line, {field: None}), required(field))
    assert state() == before


# --- rule 2: the kit must be a kit or a stockable kit -------------------------------------


def not_a_kit(item):
    return err(
        "KS-4226",
        f"Item {item.code} is of type {item.item_type}: a kit must be an item of type kit or "
        "stockableKit",
        "kit",
        ID=item.code,
        TYPE=item.item_type,
    )


@pytest.mark.parametrize("kit_type", NOT_KITS)
def test_rule_2_kit_must_be_a_kit(api, items, kit_type):
    kit = next(item for item in items.values() if item.item_type == kit_type)
    component = items["SKit_1"]
    before = state()
    assert_rules(post(api, body(kit, component)), not_a_kit(kit))
    assert state() == before


def test_rule_2_patch_moving_the_line_to_a_non_kit(api, items, add_line):
    line = add_line(items["Kit_1"], items["NonInv"])
    before = state()
    assert_rules(
        patch(api, line, {"kit": key(items["Prnt_Paper"])}), not_a_kit(items["Prnt_Paper"])
    )
    assert state() == before


# --- rule 3: what each kind of kit may contain --------------------------------------------

COMPONENT_OF_TYPE = {
    "inventory": "Prnt_Paper",
    "nonInventory": "NonInv",
    "purchaseOnlyNonInventory": "PurchOnly",
    "salesOnlyNonInventory": "SalesOnly",
    "kit": "Kit_2",
    "stockableKit": "SKit_2",
}


@pytest.mark.parametrize("component_type", ALL_TYPES)
@pytest.mark.parametrize(("kit_type", "kit_id"), [("kit", "Kit_1"), ("stockableKit", "SKit_1")])
def test_rule_3_allowed_component_types(api, items, kit_type, kit_id, component_type):
    kit, component = items[kit_id], items[COMPONENT_OF_TYPE[component_type]]
    before = state()

    response = post(api, body(kit, component))

    if component_type in ALLOWED[kit_type]:
        assert response.status_code == 201, response.json()
        assert lines_of(kit) == [(component.code, 1)]
    else:
        assert_rules(response, type_not_allowed(kit_type, component_type))
        assert state() == before


def test_rule_3_patch_component_to_a_type_the_kit_may_not_hold(api, items, add_line):
    line = add_line(items["SKit_1"], items["Prnt_Paper"])
    before = state()
    assert_rules(
        patch(api, line, {"component": key(items["Kit_2"])}),
        type_not_allowed("stockableKit", "kit"),
    )
    assert state() == before


def test_rule_3_patch_moving_a_kit_line_into_a_stockable_kit(api, items, add_line):
    line = add_line(items["Kit_1"], items["Kit_2"])
    before = state()
    assert_rules(
        patch(api, line, {"kit": key(items["SKit_1"])}), type_not_allowed("stockableKit", "kit")
    )
    assert state() == before


# --- field rules --------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -1, "-0.5"])
def test_number_of_units_must_be_positive(api, items, add_line, units):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    expected = invalid("numberOfUnits", "must be greater than 0")
    assert_rules(post(api, body(items["Kit_1"], items["NonInv"], units)), expected)
    assert_rules(patch(api, line, {"numberOfUnits": units}), expected)
    assert state() == before


def test_number_of_units_may_be_fractional(api, items):
    assert post(api, body(items["Kit_1"], items["NonInv"], 0.25)).status_code == 201
    line = KitComponent.objects.get()
    assert api.get(identity.href(line)).json()["ia::result"]["numberOfUnits"] == 0.25


@pytest.mark.parametrize(
    ("units", "reason"),
    [
        ("two", "A valid number is required."),
        (True, "A valid number is required."),
        (0.1234567, "Ensure that there are no more than 6 decimal places."),
    ],
)
def test_number_of_units_must_be_a_number(api, items, units, reason):
    before = state()
    assert_rules(
        post(api, body(items["Kit_1"], items["NonInv"], units)), invalid("numberOfUnits", reason)
    )
    assert state() == before


@pytest.mark.parametrize("percentage", [-1, -0.01, 100.5, 101, 1000])
def test_revenue_percentage_is_0_to_100(api, items, percentage):
    before = state()
    response = post(api, body(items["Kit_1"], items["NonInv"], revenuePercentage=percentage))
    assert_rules(response, invalid("revenuePercentage", "must be between 0 and 100"))
    assert state() == before


@pytest.mark.parametrize("percentage", [0, 100, 33.333333])
def test_revenue_percentage_bounds_are_inclusive(api, items, percentage):
    response = post(api, body(items["Kit_1"], items["NonInv"], revenuePercentage=percentage))
    assert response.status_code == 201
    line = KitComponent.objects.get()
    assert api.get(identity.href(line)).json()["ia::result"]["revenuePercentage"] == percentage


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("defaultDeliveryStatus", "shipped"),
        ("defaultDeliveryStatus", "Delivered"),
        ("defaultDeferralStatus", "never"),
    ],
)
def test_status_enums(api, items, add_line, field, value):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    expected = invalid(field, f'"{value}" is not a valid choice.')
    assert_rules(post(api, body(items["Kit_1"], items["NonInv"], **{field: value})), expected)
    assert_rules(patch(api, line, {field: value}), expected)
    assert state() == before
