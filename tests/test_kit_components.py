"""inventory-control/kit-component over HTTP: every numbered rule of contract section 4, the field
rules, references, and the section 10 statuses it answers. The Intacct documentation's own example
bodies are in test_smoke_kit_component.py."""

import pytest
from django.db import IntegrityError, connection, transaction

from config.api import identity
from inventory import services as inventory_services
from inventory.models import Item
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.parallel import requests_together
from tests.support.refs import audit, created, ref, snapshot
from tests.support.users import make_user

KC = "/objects/inventory-control/kit-component"
ALL_TYPES = [
    "inventory",
    "nonInventory",
    "purchaseOnlyNonInventory",
    "salesOnlyNonInventory",
    "kit",
    "stockableKit",
]
NOT_KITS = ALL_TYPES[:4]
# Rule 3, spelled out: what each kind of kit may contain.
ALLOWED = {
    "kit": set(ALL_TYPES),
    "stockableKit": {*NOT_KITS, "stockableKit"},
}


def state():
    return snapshot(KitComponent, Item)


def key(item):
    return {"key": str(item.pk)}


def body(kit, component, units=1, **extra):
    return {"kit": key(kit), "component": key(component), "numberOfUnits": units, **extra}


def post(api, data):
    return api.post(KC, data, format="json")


def patch(api, line, data, **headers):
    return api.patch(identity.href(line), data, format="json", **headers)


def lines_of(kit):
    """(component id, line number) of every line of the kit, in line order."""
    return list(
        KitComponent.objects.filter(kit=kit)
        .order_by("line_number")
        .values_list("component__code", "line_number")
    )


def versions(*lines):
    return [KitComponent.objects.get(pk=line.pk).version for line in lines]


@pytest.fixture
def kit_3(admin_user):
    return inventory_services.item_create(
        user=admin_user, code="Kit_3", name="Kit 3", item_type="kit"
    )


@pytest.fixture
def parts(admin_user):
    """Five more inventory items, P1..P5, for kits with many lines."""
    return [
        inventory_services.item_create(
            user=admin_user, code=f"P{n}", name=f"Part {n}", item_type="inventory"
        )
        for n in range(1, 6)
    ]


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


def type_not_allowed(kit_type, component_type):
    return err(
        "KS-4227",
        f"A {kit_type} cannot contain an item of type {component_type}",
        "component",
        KIT_TYPE=kit_type,
        TYPE=component_type,
    )


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


# --- rule 4: no cycles --------------------------------------------------------------------


def cycle(kit, component):
    return err(
        "KS-4228",
        f"Kit {kit} cannot contain {component}: {component} already contains {kit}",
        "component",
        KIT=kit,
        COMPONENT=component,
    )


@pytest.mark.parametrize("kit_id", ["Kit_1", "SKit_1"])
def test_rule_4_a_kit_cannot_contain_itself(api, items, kit_id):
    kit = items[kit_id]
    before = state()
    assert_rules(post(api, body(kit, kit)), cycle(kit_id, kit_id))
    assert state() == before


@pytest.mark.parametrize(
    ("a", "b"), [("Kit_1", "Kit_2"), ("SKit_1", "SKit_2"), ("Kit_1", "SKit_1")]
)
def test_rule_4_direct_cycle(api, items, add_line, a, b):
    add_line(items[a], items[b])
    before = state()
    response = post(api, body(items[b], items[a]))
    if items[b].item_type == "stockableKit" and items[a].item_type == "kit":
        # rule 3 also speaks: a stockable kit never holds a kit
        assert_rules(response, type_not_allowed("stockableKit", "kit"), cycle(b, a))
    else:
        assert_rules(response, cycle(b, a))
    assert state() == before


def test_rule_4_deep_cycle(api, items, add_line, kit_3):
    kit_1, kit_2 = items["Kit_1"], items["Kit_2"]
    add_line(kit_1, kit_2)
    add_line(kit_2, kit_3)
    add_line(kit_3, items["Prnt_Paper"])
    before = state()
    assert_rules(post(api, body(kit_3, kit_1)), cycle("Kit_3", "Kit_1"))
    assert state() == before


def test_rule_4_shared_sub_kits_are_not_cycles(api, items, add_line, kit_3):
    """A diamond (1→2, 1→3, 2→3) is fine: only a path back to the kit is a cycle."""
    kit_1, kit_2 = items["Kit_1"], items["Kit_2"]
    add_line(kit_1, kit_2)
    add_line(kit_1, kit_3)
    assert post(api, body(kit_2, kit_3)).status_code == 201


def test_rule_4_patch_changing_component_closes_a_cycle(api, items, add_line, kit_3):
    add_line(items["Kit_1"], items["Kit_2"])
    add_line(items["Kit_2"], kit_3)
    line = add_line(kit_3, items["Prnt_Paper"])
    before = state()
    assert_rules(patch(api, line, {"component": key(items["Kit_1"])}), cycle("Kit_3", "Kit_1"))
    assert state() == before


def test_rule_4_patch_changing_kit_closes_a_cycle(api, items, add_line, kit_3):
    add_line(items["Kit_1"], items["Kit_2"])
    line = add_line(kit_3, items["Kit_1"])  # Kit_3 holds Kit_1; moving the line to Kit_2 ...
    before = state()
    assert_rules(patch(api, line, {"kit": key(items["Kit_2"])}), cycle("Kit_2", "Kit_1"))
    assert state() == before


def test_rule_4_patch_making_a_line_its_own_kit(api, items, add_line):
    line = add_line(items["Kit_1"], items["Kit_2"])
    before = state()
    assert_rules(patch(api, line, {"kit": key(items["Kit_2"])}), cycle("Kit_2", "Kit_2"))
    assert state() == before


def test_rule_4_patch_reversing_the_only_edge_is_not_a_cycle(api, items, add_line):
    """Kit_1 holds Kit_2 through this very line; turned around, nothing holds Kit_1 any more."""
    line = add_line(items["Kit_1"], items["Kit_2"])
    response = patch(api, line, {"kit": key(items["Kit_2"]), "component": key(items["Kit_1"])})
    assert response.status_code == 200, response.json()
    line.refresh_from_db()
    assert (line.kit, line.component) == (items["Kit_2"], items["Kit_1"])


# --- rule 5: one line per component -------------------------------------------------------


def duplicate_component(kit, component):
    return err(
        "KS-4229",
        f"Kit {kit} already has a line for component {component}",
        "component",
        KIT=kit,
        COMPONENT=component,
    )


def test_rule_5_one_line_per_component(api, items, add_line):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_rules(
        post(api, body(items["Kit_1"], items["Prnt_Paper"], 4)),
        duplicate_component("Kit_1", "Prnt_Paper"),
    )
    assert state() == before
    # the same component in another kit is fine
    assert post(api, body(items["Kit_2"], items["Prnt_Paper"])).status_code == 201


def test_rule_5_patch_component_to_one_already_in_the_kit(api, items, add_line):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    line = add_line(items["Kit_1"], items["NonInv"])
    before = state()
    assert_rules(
        patch(api, line, {"component": key(items["Prnt_Paper"])}),
        duplicate_component("Kit_1", "Prnt_Paper"),
    )
    assert state() == before


def test_rule_5_patch_kit_to_one_already_holding_the_component(api, items, add_line):
    add_line(items["Kit_2"], items["Prnt_Paper"])
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_rules(
        patch(api, line, {"kit": key(items["Kit_2"])}), duplicate_component("Kit_2", "Prnt_Paper")
    )
    assert state() == before


def test_rule_5_a_line_keeping_its_component_is_no_duplicate(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    response = patch(api, line, {"component": key(items["Prnt_Paper"]), "numberOfUnits": 5})
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.number_of_units == 5


# --- rule 6: line numbers -----------------------------------------------------------------


def test_rule_6_absent_is_one_past_the_highest(api, items, parts):
    kit = items["Kit_1"]
    assert post(api, body(kit, parts[0])).status_code == 201
    assert post(api, body(kit, parts[1], lineNumber=5)).status_code == 201
    assert post(api, body(kit, parts[2])).status_code == 201
    assert post(api, body(kit, parts[3], lineNumber=None)).status_code == 201
    assert lines_of(kit) == [("P1", 1), ("P2", 5), ("P3", 6), ("P4", 7)]
    # numbering is per kit
    assert post(api, body(items["Kit_2"], parts[0])).status_code == 201
    assert lines_of(items["Kit_2"]) == [("P1", 1)]


def test_rule_6_a_free_number_moves_nothing(api, items, add_line, parts):
    kit = items["Kit_1"]
    one = add_line(kit, parts[0], line_number=1)
    five = add_line(kit, parts[1], line_number=5)
    assert post(api, body(kit, parts[2], lineNumber=3)).status_code == 201
    assert lines_of(kit) == [("P1", 1), ("P3", 3), ("P2", 5)]
    assert versions(one, five) == [1, 1]


def test_rule_6_collision_on_create_pushes_that_line_and_every_later_one(
    api, admin_user, items, parts
):
    builder = make_user("builder")

    def add_line(kit, component, line_number):
        return kit_services.kit_component_create(
            user=builder, kit=kit, component=component, number_of_units=1, line_number=line_number
        )

    kit = items["Kit_1"]
    a = add_line(kit, parts[0], line_number=1)
    b = add_line(kit, parts[1], line_number=2)
    c = add_line(kit, parts[2], line_number=3)
    d = add_line(kit, parts[3], line_number=5)
    other = add_line(items["Kit_2"], parts[0], line_number=2)
    b_modified_at = b.modified_at

    assert post(api, body(kit, parts[4], lineNumber=2)).status_code == 201

    assert lines_of(kit) == [("P1", 1), ("P5", 2), ("P2", 3), ("P3", 4), ("P4", 6)]
    # pushed lines changed: a new version (ETag); the others did not
    assert versions(a, b, c, d, other) == [1, 2, 2, 2, 1]
    assert api.get(identity.href(b))["ETag"] == '"2"'
    assert api.get(identity.href(a))["ETag"] == '"1"'
    a.refresh_from_db()
    b.refresh_from_db()
    # the audit group of a pushed line names who pushed it, and when
    assert (a.modified_by, b.modified_by) == (builder, admin_user)
    assert b.modified_at > b_modified_at
    assert lines_of(items["Kit_2"]) == [("P1", 2)]


def test_rule_6_collision_with_the_first_line(api, items, add_line, parts):
    kit = items["Kit_1"]
    add_line(kit, parts[0], line_number=1)
    add_line(kit, parts[1], line_number=2)
    assert post(api, body(kit, parts[2], lineNumber=1)).status_code == 201
    assert lines_of(kit) == [("P3", 1), ("P1", 2), ("P2", 3)]


@pytest.fixture
def four_lines(items, add_line, parts):
    kit = items["Kit_1"]
    return [add_line(kit, part, line_number=n) for n, part in enumerate(parts[:4], start=1)]


def test_rule_6_patch_moving_a_line_down(api, items, four_lines):
    first = four_lines[0]
    response = patch(api, first, {"lineNumber": 3})
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert lines_of(items["Kit_1"]) == [("P2", 2), ("P1", 3), ("P3", 4), ("P4", 5)]
    assert versions(*four_lines) == [2, 1, 2, 2]


def test_rule_6_patch_moving_a_line_up(api, items, four_lines):
    last = four_lines[3]
    assert patch(api, last, {"lineNumber": 2}).status_code == 200
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P4", 2), ("P2", 3), ("P3", 4)]
    assert versions(*four_lines) == [1, 2, 2, 2]


def test_rule_6_patch_to_a_free_number(api, items, four_lines):
    assert patch(api, four_lines[1], {"lineNumber": 9}).status_code == 200
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P3", 3), ("P4", 4), ("P2", 9)]
    assert versions(*four_lines) == [1, 2, 1, 1]


@pytest.mark.parametrize("line_number", [2, None])
def test_rule_6_patch_keeping_the_number_moves_nothing(api, items, four_lines, line_number):
    response = patch(api, four_lines[1], {"lineNumber": line_number, "numberOfUnits": 4})
    assert response.status_code == 200
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P2", 2), ("P3", 3), ("P4", 4)]
    assert versions(*four_lines) == [1, 2, 1, 1]


def test_rule_6_deleting_leaves_gaps(api, items, four_lines, parts):
    assert api.delete(identity.href(four_lines[1])).status_code == 204
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P3", 3), ("P4", 4)]
    assert post(api, body(items["Kit_1"], parts[4])).status_code == 201
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P3", 3), ("P4", 4), ("P5", 5)]


def test_rule_6_patch_to_another_kit_without_a_number_goes_to_its_end(
    api, items, add_line, four_lines, parts
):
    kit_2 = items["Kit_2"]
    add_line(kit_2, parts[0], line_number=1)
    add_line(kit_2, parts[4], line_number=4)
    moving = four_lines[1]  # P2, line 2 of Kit_1

    response = patch(api, moving, {"kit": key(kit_2)})

    assert response.status_code == 200
    assert lines_of(kit_2) == [("P1", 1), ("P5", 4), ("P2", 5)]
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P3", 3), ("P4", 4)]


def test_rule_6_patch_to_another_kit_with_a_taken_number_pushes_there(
    api, items, add_line, four_lines, parts
):
    kit_2 = items["Kit_2"]
    x = add_line(kit_2, parts[0], line_number=1)
    y = add_line(kit_2, parts[4], line_number=2)

    assert patch(api, four_lines[2], {"kit": key(kit_2), "lineNumber": 1}).status_code == 200

    assert lines_of(kit_2) == [("P3", 1), ("P1", 2), ("P5", 3)]
    assert lines_of(items["Kit_1"]) == [("P1", 1), ("P2", 2), ("P4", 4)]
    assert versions(x, y) == [2, 2]


LINE_RANGE = err("KS-4233", "lineNumber must be between 1 and 999999", "lineNumber", MAX=999999)


@pytest.mark.parametrize("line_number", [0, -1, 1_000_000])
def test_rule_6_line_number_out_of_range(api, items, add_line, line_number):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_rules(
        post(api, body(items["Kit_1"], items["NonInv"], lineNumber=line_number)), LINE_RANGE
    )
    assert_rules(patch(api, line, {"lineNumber": line_number}), LINE_RANGE)
    assert state() == before


def test_rule_6_a_push_past_the_highest_number_is_refused(api, items, add_line):
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"], line_number=999_999)
    before = state()
    assert_rules(post(api, body(kit, items["NonInv"], lineNumber=999_999)), LINE_RANGE)
    assert state() == before
    assert_rules(post(api, body(kit, items["NonInv"])), LINE_RANGE)
    assert state() == before
    assert post(api, body(kit, items["NonInv"], lineNumber=999_998)).status_code == 201


@pytest.mark.parametrize("value", ["two", 1.5, True, {"n": 1}])
def test_rule_6_line_number_must_be_an_integer(api, items, value):
    before = state()
    response = post(api, body(items["Kit_1"], items["NonInv"], lineNumber=value))
    assert_rules(response, invalid("lineNumber", "A valid integer is required."))
    assert state() == before


# --- rule 7: what PATCH may change --------------------------------------------------------


def test_rule_7_patch_every_changeable_field(api, admin_user, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"], 1, revenue_percentage=10)
    add_line(items["Kit_2"], items["NonInv"])

    response = patch(
        api,
        line,
        {
            "kit": {"id": "Kit_2"},
            "component": {"id": "SalesOnly"},
            "numberOfUnits": 6,
            "revenuePercentage": 0,
            "defaultDeliveryStatus": "undelivered",
            "defaultDeferralStatus": "deferBundleUntilItemIsDelivered",
            "lineNumber": 1,
        },
    )

    assert response.status_code == 200
    assert response.json() == created(line)
    assert response["ETag"] == '"2"'
    line.refresh_from_db()
    assert (line.kit, line.component, line.number_of_units, line.revenue_percentage) == (
        items["Kit_2"],
        items["SalesOnly"],
        6,
        0,
    )
    assert (line.default_delivery_status, line.default_deferral_status, line.version) == (
        "undelivered",
        "deferBundleUntilItemIsDelivered",
        2,
    )
    assert lines_of(items["Kit_2"]) == [("SalesOnly", 1), ("NonInv", 2)]
    assert lines_of(items["Kit_1"]) == []


def test_rule_7_patch_what_get_returned(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"], 2)
    got = api.get(identity.href(line)).json()["ia::result"]
    got["numberOfUnits"] = 3
    response = patch(api, line, got)
    assert response.status_code == 200, response.json()
    line.refresh_from_db()
    assert (line.number_of_units, line.line_number, line.version) == (3, 1, 2)


def test_rule_7_patch_revenue_percentage_to_null(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"], revenue_percentage=50)
    assert patch(api, line, {"revenuePercentage": None}).status_code == 200
    line.refresh_from_db()
    assert line.revenue_percentage is None


def test_rule_7_every_broken_rule_is_reported_at_once(api, items, add_line):
    add_line(items["SKit_2"], items["Prnt_Paper"])
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    response = patch(
        api, line, {"kit": key(items["SKit_2"]), "numberOfUnits": 0, "revenuePercentage": 200}
    )
    assert_rules(
        response,
        duplicate_component("SKit_2", "Prnt_Paper"),
        invalid("numberOfUnits", "must be greater than 0"),
        invalid("revenuePercentage", "must be between 0 and 100"),
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


# --- references ---------------------------------------------------------------------------


def test_references_by_id(api, items):
    response = post(
        api, {"kit": {"id": "Kit_1"}, "component": {"id": "Prnt_Paper"}, "numberOfUnits": 1}
    )
    assert response.status_code == 201
    assert lines_of(items["Kit_1"]) == [("Prnt_Paper", 1)]


def test_references_by_key_and_id_agreeing(api, items):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    response = post(
        api,
        {
            "kit": {"key": str(kit.pk), "id": "Kit_1"},
            "component": {"key": str(paper.pk), "id": "Prnt_Paper"},
            "numberOfUnits": 1,
        },
    )
    assert response.status_code == 201
    assert lines_of(kit) == [("Prnt_Paper", 1)]


@pytest.mark.parametrize("field", ["kit", "component"])
def test_references_by_key_and_id_disagreeing(api, items, add_line, field):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    data = body(kit, paper)
    data[field] = {"key": str(data[field]["key"]), "id": "Kit_2"}
    line = add_line(items["Kit_2"], items["NonInv"])
    before = state()
    mismatch = err(
        "KS-4225",
        f"{field}: key {data[field]['key']} and id Kit_2 name different objects",
        field,
        FIELD=field,
        KEY=data[field]["key"],
        ID="Kit_2",
    )
    assert_rules(post(api, data), mismatch)
    assert_rules(patch(api, line, {field: data[field]}), mismatch)
    assert state() == before


@pytest.mark.parametrize(
    ("reference", "described"),
    [
        ({"key": "999999"}, "key 999999"),
        ({"key": "Kit_1"}, "key Kit_1"),
        ({"id": "No_Such_Item"}, "id No_Such_Item"),
        ({"key": "999999", "id": "Kit_1"}, "key 999999"),
    ],
)
@pytest.mark.parametrize("field", ["kit", "component"])
def test_unknown_references(api, items, add_line, field, reference, described):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data[field] = reference
    line = add_line(items["Kit_2"], items["NonInv"])
    before = state()
    not_found = err(
        "KS-4224",
        f"{field} refers to a inventory-control/item that does not exist: {described}",
        field,
        FIELD=field,
        OBJECT="inventory-control/item",
        REFERENCE=described,
    )
    assert_rules(post(api, data), not_found)
    assert_rules(patch(api, line, {field: reference}), not_found)
    assert state() == before


@pytest.mark.parametrize("reference", ["Kit_1", 5, [], {}, {"key": ""}, {"href": "/objects/x"}])
def test_references_that_are_not_references(api, items, reference):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data["kit"] = reference
    before = state()
    assert_rules(post(api, data), invalid("kit", "must be an object with a key or an id"))
    assert state() == before


def test_unknown_members_of_a_reference(api, items):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data["kit"]["name"] = "Kit"  # kit renders key, id and href only
    data["component"]["colour"] = "white"
    data["component"]["name"] = "Paper"  # rendered for components: allowed back, ignored
    assert_error(
        post(api, data),
        400,
        err("REST-1064", "Payload contains errors"),
        [
            err("REST-1043", "/kit/name is not a valid field", "/kit/name", FIELD="/kit/name"),
            err(
                "REST-1043",
                "/component/colour is not a valid field",
                "/component/colour",
                FIELD="/component/colour",
            ),
        ],
    )
    assert not KitComponent.objects.exists()


# --- protocol statuses (section 10) -------------------------------------------------------


@pytest.mark.parametrize("line_key", ["999999", "first"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_key_is_404(api, items, add_line, method, line_key):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    response = getattr(api, method)(f"{KC}/{line_key}", {"numberOfUnits": 2}, format="json")
    assert_error(
        response,
        404,
        err(
            "KS-4041",
            f"inventory-control/kit-component with key {line_key} was not found",
            OBJECT="inventory-control/kit-component",
            KEY=line_key,
        ),
    )
    assert state() == before


def test_stale_if_match_is_412(api, items, add_line, parts):
    line = add_line(items["Kit_1"], parts[0], line_number=1)
    post(api, body(items["Kit_1"], parts[1], lineNumber=1))  # pushes the line: version 2
    before = state()
    for response in (
        patch(api, line, {"numberOfUnits": 9}, HTTP_IF_MATCH='"1"'),
        api.delete(identity.href(line), HTTP_IF_MATCH='"1"'),
    ):
        assert_error(
            response,
            412,
            err(
                "KS-4121",
                'If-Match "1" does not match the current version "2"',
                GIVEN='"1"',
                CURRENT='"2"',
            ),
        )
    assert state() == before
    assert patch(api, line, {"numberOfUnits": 9}, HTTP_IF_MATCH='"2"').status_code == 200


def test_unknown_field_missing_payload_malformed_json_and_media_type(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_error(
        patch(api, line, {"quantity": 2}),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/quantity is not a valid field", "/quantity", FIELD="/quantity")],
    )
    assert_error(
        api.patch(identity.href(line), content_type="application/json"),
        400,
        err("REST-1028", "A PATCH request requires a payload", METHOD="PATCH"),
    )
    reason = "Expecting ',' delimiter: line 1 column 21 (char 20)"
    assert_error(
        api.post(KC, data='{"numberOfUnits": 1 "kit": {}}', content_type="application/json"),
        400,
        err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason),
    )
    assert_error(
        api.post(KC, data="numberOfUnits=1", content_type="text/plain"),
        415,
        err(
            "KS-4151",
            "Content type text/plain is not supported: send application/json",
            TYPE="text/plain",
        ),
    )
    assert state() == before


def test_put_is_405(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    assert_error(
        api.put(identity.href(line), {"numberOfUnits": 2}, format="json"),
        405,
        err(
            "KS-4051",
            f"Method PUT is not allowed on {identity.href(line)}",
            METHOD="PUT",
            PATH=identity.href(line),
        ),
    )


def test_permissions(client, client_for, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_error(
        client.get(KC), 401, err("KS-4011", "Authentication credentials were not provided")
    )
    reader = client_for(make_user("reader", "kitcomponents.view_kitcomponent"))
    assert reader.get(identity.href(line)).status_code == 200
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(
        reader.post(KC, body(items["Kit_2"], items["NonInv"]), format="json"), 403, forbidden
    )
    assert_error(
        reader.patch(identity.href(line), {"numberOfUnits": 2}, format="json"), 403, forbidden
    )
    assert_error(reader.delete(identity.href(line)), 403, forbidden)
    assert state() == before


# --- list ---------------------------------------------------------------------------------


def test_list_and_filters(api, items, add_line):
    a = add_line(items["Kit_1"], items["Prnt_Paper"])
    b = add_line(items["Kit_2"], items["Prnt_Paper"])
    c = add_line(items["Kit_1"], items["NonInv"])
    assert api.get(KC).json() == {
        "ia::result": [ref(a), ref(b), ref(c)],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert api.get(f"{KC}?kit={items['Kit_1'].pk}").json()["ia::result"] == [ref(a), ref(c)]
    assert api.get(f"{KC}?component={items['Prnt_Paper'].pk}").json()["ia::result"] == [
        ref(a),
        ref(b),
    ]
    assert_error(
        api.get(f"{KC}?kit=Kit_1"),
        400,
        err(
            "KS-4003",
            "Query parameter kit is invalid: not a valid value",
            "kit",
            PARAMETER="kit",
            REASON="not a valid value",
        ),
    )


# --- database constraints: rules 4-6 and the field rules hold below the services too -------

# Each check case: (constraint, fields). A valid line (Kit_1 holds Prnt_Paper once, line 1)
# exists; a new line in Kit_2 with `fields` is refused, and so is changing the valid line to them.
CHECK_CASES = [
    ("kit_component_units_positive", {"number_of_units": 0}),
    ("kit_component_units_positive", {"number_of_units": -1}),
    ("kit_component_revenue_percentage_range", {"revenue_percentage": 101}),
    ("kit_component_revenue_percentage_range", {"revenue_percentage": -1}),
    ("kit_component_line_number_range", {"line_number": 0}),
    ("kit_component_line_number_range", {"line_number": 2_000_000}),
    ("kit_component_not_itself", {"component": "Kit_2"}),
]
# A unique case: a second line in Kit_1 with `fields` is refused. SQLite names the columns,
# PostgreSQL the constraint.
UNIQUE_CASES = [
    (
        "kit_component_once_per_kit",
        {"line_number": 2},
        r"kit_component_once_per_kit|kit_id, kitcomponents_kitcomponent\.component_id",
    ),
    (
        "kit_component_line_unique",
        {"component": "NonInv"},
        r"kit_component_line_unique|kit_id, kitcomponents_kitcomponent\.line_number",
    ),
]


def test_every_kit_component_constraint_has_a_case():
    tested = {name for name, _ in CHECK_CASES} | {name for name, _, _ in UNIQUE_CASES}
    assert {c.name for c in KitComponent._meta.constraints} == tested


@pytest.fixture
def valid_line(items):
    return KitComponent.objects.create(
        kit=items["Kit_1"], component=items["Prnt_Paper"], number_of_units=1, line_number=1
    )


def with_items(items, fields):
    return {k: items[v] if k == "component" else v for k, v in fields.items()}


def assert_only_the_valid_line(items):
    assert list(
        KitComponent.objects.values_list("kit", "component", "number_of_units", "line_number")
    ) == [(items["Kit_1"].pk, items["Prnt_Paper"].pk, 1, 1)]


@pytest.mark.parametrize(("constraint", "fields"), CHECK_CASES)
def test_kit_component_check_constraints(items, valid_line, constraint, fields):
    fields = with_items(items, fields)
    new = {"component": items["Prnt_Paper"], "number_of_units": 1, "line_number": 1, **fields}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        KitComponent.objects.create(kit=items["Kit_2"], **new)
    change = (
        {**fields, "kit": items["Kit_2"]} if constraint == "kit_component_not_itself" else fields
    )
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        KitComponent.objects.filter(pk=valid_line.pk).update(**change)
    assert_only_the_valid_line(items)


@pytest.mark.parametrize(("constraint", "fields", "message"), UNIQUE_CASES)
def test_kit_component_unique_constraints(items, valid_line, constraint, fields, message):
    second = {
        "kit": items["Kit_1"],
        "component": items["Prnt_Paper"],
        "number_of_units": 2,
        "line_number": 1,
        **with_items(items, fields),
    }
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        KitComponent.objects.create(**second)
    assert_only_the_valid_line(items)


# --- concurrent writers (PostgreSQL: SQLite admits one writer at a time) -------------------

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers"
)


def outcomes(user, requests) -> list:
    """(status, ia::result) of each request, all sent together."""
    return [(r.status_code, r.json()["ia::result"]) for r in requests_together(user, requests)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_lines_without_numbers_get_distinct_numbers(admin_user, items, parts):
    kit = items["Kit_1"]
    components = [*parts, items["NonInv"], items["PurchOnly"], items["SalesOnly"]]
    results = outcomes(admin_user, [("post", KC, body(kit, c)) for c in components])
    assert [status for status, _ in results] == [201] * 8
    assert sorted(n for _, n in lines_of(kit)) == list(range(1, 9))


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_pushes_keep_numbers_unique_and_ordered(admin_user, items, parts):
    kit = items["Kit_1"]
    for n, part in enumerate(parts[:3], start=1):
        kit_services.kit_component_create(
            user=admin_user, kit=kit, component=part, number_of_units=1, line_number=n
        )
    extra = [parts[3], parts[4], items["NonInv"], items["SalesOnly"]]
    results = outcomes(admin_user, [("post", KC, body(kit, c, lineNumber=1)) for c in extra])
    assert [status for status, _ in results] == [201] * 4
    numbers = lines_of(kit)
    assert [n for _, n in numbers] == list(range(1, 8))
    # the three first lines were pushed, in their order, behind the four new ones
    assert [code for code, _ in numbers[4:]] == ["P1", "P2", "P3"]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_opposite_lines_cannot_close_a_cycle(admin_user, items):
    kit_1, kit_2 = items["Kit_1"], items["Kit_2"]
    results = outcomes(
        admin_user, [("post", KC, body(kit_1, kit_2)), ("post", KC, body(kit_2, kit_1))]
    )
    assert sorted(status for status, _ in results) == [201, 422]
    (error,) = [result["ia::error"] for status, result in results if status == 422]
    assert [d["errorId"] for d in error["details"]] == ["KS-4228"]
    assert KitComponent.objects.count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_lines_for_one_component_make_one_line(admin_user, items):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    results = outcomes(admin_user, [("post", KC, body(kit, paper, n)) for n in range(1, 6)])
    assert sorted(status for status, _ in results) == [201, 422, 422, 422, 422]
    assert {
        d["errorId"]
        for status, result in results
        if status == 422
        for d in result["ia::error"]["details"]
    } == {"KS-4229"}
    assert lines_of(kit) == [("Prnt_Paper", 1)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_lines_closing_a_long_cycle_through_disjoint_items(admin_user, items, kit_3):
    """Kit_1→Kit_2 and Kit_3→Kit_4 exist; at once Kit_2→Kit_3 and Kit_4→Kit_1 are added. The two
    writes lock disjoint items, yet together they would close a cycle: one must be refused."""
    kit_4 = inventory_services.item_create(
        user=admin_user, code="Kit_4", name="Kit 4", item_type="kit"
    )
    kit_1, kit_2 = items["Kit_1"], items["Kit_2"]
    kit_services.kit_component_create(
        user=admin_user, kit=kit_1, component=kit_2, number_of_units=1
    )
    kit_services.kit_component_create(
        user=admin_user, kit=kit_3, component=kit_4, number_of_units=1
    )
    for _ in range(5):  # a race: try a few times
        results = outcomes(
            admin_user, [("post", KC, body(kit_2, kit_3)), ("post", KC, body(kit_4, kit_1))]
        )
        assert sorted(status for status, _ in results) == [201, 422]
        KitComponent.objects.filter(kit__in=[kit_2, kit_4]).delete()
