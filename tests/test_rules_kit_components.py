"""Contract 4 rules, called on the kit-component services directly: code, model field, nothing
written."""

from decimal import Decimal

import pytest

from core.errors import DomainError, DomainErrors
from inventory import services as inventory_services
from kitcomponents import services
from kitcomponents.models import MAX_LINE_NUMBER
from tests.support.rules import database, refusal


@pytest.fixture
def item(db):
    def make(code: str, item_type: str):
        return inventory_services.item_create(user=None, code=code, name=code, item_type=item_type)

    return make


def line(kit, component, **fields):
    return services.kit_component_create(
        user=None, kit=kit, component=component, number_of_units=Decimal(1), **fields
    )


def refused(call, **arguments) -> list[tuple[str, str | None]]:
    """The refusal of `call(**arguments)`, which must leave the database as it was."""
    before = database()
    with pytest.raises((DomainError, DomainErrors)) as raised:
        call(**arguments)
    assert database() == before
    return refusal(raised.value)


def test_a_kit_is_an_item_of_a_kit_type(item):
    paper, screw = item("Paper", "inventory"), item("Screw", "inventory")
    assert refused(line, kit=paper, component=screw) == [("not_a_kit", "kit")]


def test_a_stockable_kit_holds_no_plain_kit(item):
    stockable, kit = item("SKit", "stockableKit"), item("Kit", "kit")
    assert refused(line, kit=stockable, component=kit) == [
        ("component_type_not_allowed", "component")
    ]


def test_a_kit_never_contains_itself_at_any_depth(item):
    outer, middle, inner = item("Outer", "kit"), item("Middle", "kit"), item("Inner", "kit")
    line(outer, middle)
    line(middle, inner)
    assert refused(line, kit=outer, component=outer) == [("kit_cycle", "component")]
    assert refused(line, kit=inner, component=outer) == [("kit_cycle", "component")]


def test_a_component_appears_once_per_kit(item):
    kit, paper = item("Kit", "kit"), item("Paper", "inventory")
    line(kit, paper)
    assert refused(line, kit=kit, component=paper) == [("duplicate_component", "component")]


def test_units_percentage_and_line_number_are_checked_together(item):
    kit, paper = item("Kit", "kit"), item("Paper", "inventory")
    assert refused(
        services.kit_component_create,
        user=None,
        kit=kit,
        component=paper,
        number_of_units=Decimal(0),
        revenue_percentage=Decimal(101),
        line_number=MAX_LINE_NUMBER + 1,
    ) == [
        ("invalid_value", "number_of_units"),
        ("invalid_value", "revenue_percentage"),
        ("line_number_out_of_range", "line_number"),
    ]
    assert refused(
        services.kit_component_create,
        user=None,
        kit=kit,
        component=paper,
        number_of_units=None,
        line_number=0,
    ) == [("required", "number_of_units"), ("line_number_out_of_range", "line_number")]


def test_every_rule_at_once(item):
    paper = item("Paper", "inventory")
    assert refused(
        services.kit_component_create,
        user=None,
        kit=paper,
        component=paper,
        number_of_units=Decimal(-1),
    ) == [
        ("not_a_kit", "kit"),
        ("kit_cycle", "component"),
        ("invalid_value", "number_of_units"),
    ]


def test_moving_a_line_rechecks_the_rules_of_its_new_kit(item):
    outer, inner, paper = item("Outer", "kit"), item("Inner", "kit"), item("Paper", "inventory")
    line(outer, inner)
    moving = line(inner, paper)
    # Inner's line for paper becomes inner's line for outer: outer already holds inner.
    assert refused(
        services.kit_component_update,
        kit_component_key=moving.pk,
        user=None,
        component=outer,
    ) == [("kit_cycle", "component")]
    screw = item("Screw", "inventory")
    assert refused(
        services.kit_component_update, kit_component_key=moving.pk, user=None, kit=screw
    ) == [("not_a_kit", "kit")]
    assert refused(
        services.kit_component_update,
        kit_component_key=moving.pk,
        user=None,
        number_of_units=Decimal(0),
    ) == [("invalid_value", "number_of_units")]


def test_a_renumber_past_the_highest_line_is_out_of_range(item):
    kit = item("Kit", "kit")
    first = line(kit, item("Paper", "inventory"))
    assert refused(
        services.kit_component_update,
        kit_component_key=first.pk,
        user=None,
        line_number=MAX_LINE_NUMBER + 1,
    ) == [("line_number_out_of_range", "line_number")]


def test_update_and_delete_compare_the_version_under_the_lock(item):
    kit = item("Kit", "kit")
    first = line(kit, item("Paper", "inventory"))
    for call, arguments in (
        (services.kit_component_update, {"number_of_units": Decimal(2)}),
        (services.kit_component_delete, {}),
    ):
        before = database()
        with pytest.raises(DomainError) as raised:
            call(kit_component_key=first.pk, user=None, expected_version={2, 3}, **arguments)
        assert (raised.value.code, raised.value.params) == ("stale", {"CURRENT": 1})
        assert database() == before
    services.kit_component_delete(kit_component_key=first.pk, user=None, expected_version=1)
    assert not database()["kitcomponents.KitComponent"]


def test_a_missing_line_is_not_found(db):
    for call, arguments in (
        (services.kit_component_update, {"number_of_units": Decimal(2)}),
        (services.kit_component_delete, {}),
    ):
        with pytest.raises(DomainError) as raised:
            call(kit_component_key=404, user=None, **arguments)
        assert (raised.value.code, raised.value.field) == ("not_found", None)
        assert raised.value.params["KEY"] == 404
