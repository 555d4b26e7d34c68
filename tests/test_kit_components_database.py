"""inventory-control/kit-component below the services: the database constraints, and concurrent
writers."""

import pytest
from django.db import IntegrityError, connection, transaction

from inventory import services as inventory_services
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent
from tests.support.kit_components import KC, body, lines_of
from tests.support.kit_components import kit_3 as kit_3
from tests.support.kit_components import parts as parts
from tests.support.parallel import requests_together

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
