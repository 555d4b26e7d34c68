"""inventory-control/kit-component over HTTP (contract section 4): rules 4-7 (no cycles, one line
per component, line numbers, what PATCH may change)."""

import pytest

from config.api import identity
from kitcomponents import services as kit_services
from tests.support.errors import assert_rules, err, invalid
from tests.support.kit_components import (
    body,
    key,
    lines_of,
    patch,
    post,
    state,
    type_not_allowed,
    versions,
)
from tests.support.kit_components import kit_3 as kit_3
from tests.support.kit_components import parts as parts
from tests.support.refs import created
from tests.support.users import make_user

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


LINE_RANGE = err(
    "KS-4233",
    "lineNumber must be between 1 and 999999",
    "lineNumber",
    FIELD="lineNumber",
    MAX=999999,
)


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
