"""Contract 7 rules (runs, part kits and their workflows), called on the kitting services
directly: code, model field, nothing written."""

from decimal import Decimal
from functools import partial

import pytest

from core.errors import DomainError, DomainErrors
from inventory import services as inventory_services
from kitting import services
from kitting.models import PartKit, Run
from tests.support.factories import build_location
from tests.support.rules import database, refusal


@pytest.fixture
def part(db):
    def make(code, item_type="inventory", **fields):
        return inventory_services.item_create(
            user=None, code=code, name=code, item_type=item_type, **fields
        )

    return make


def stock(part, quantity=0, **fields):
    return inventory_services.part_inventory_create(
        user=None, part=part, quantity=quantity, **fields
    )


def run(code="RUN-1", **fields) -> Run:
    return services.run_create(user=None, code=code, **fields)


def kit(for_run, **fields) -> PartKit:
    return services.part_kit_create(user=None, run=for_run, **fields)


def completing():
    """run/complete at a build location (15.6 requires one), for rules about something else."""
    return partial(services.run_complete, location=build_location(None))


def refused(call, **arguments) -> list[tuple[str, str | None]]:
    """The refusal of `call(user=None, **arguments)`, which must leave the database as it was."""
    before = database()
    with pytest.raises((DomainError, DomainErrors)) as raised:
        call(user=None, **arguments)
    assert database() == before
    return refusal(raised.value)


# --- runs ----------------------------------------------------------------------------------------


def test_run_create_rules(db):
    assert refused(services.run_create, code=" ", quantity=Decimal(0), status="complete") == [
        ("required", "code"),
        ("invalid_value", "quantity"),
        ("run_completed_by_workflow", "status"),
    ]
    assert refused(services.run_create, code="RUN-1", quantity=None) == [("required", "quantity")]
    run()
    assert refused(services.run_create, code="RUN-1") == [("duplicate", "code")]


def test_a_run_reaches_complete_only_through_the_workflow(db):
    todo = run()
    assert refused(services.run_update, run_key=todo.pk, status="complete") == [
        ("run_completed_by_workflow", "status")
    ]


def test_a_closed_run_keeps_its_status_and_a_complete_one_what_it_built(part):
    screw, nut = part("Screw"), part("Nut")
    canceled = run("RUN-C", status="canceled")
    assert refused(services.run_update, run_key=canceled.pk, status="todo") == [
        ("run_closed", "status")
    ]
    built = completing()(user=None, run_key=run("RUN-B", part=screw, quantity=2).pk).run
    assert refused(services.run_update, run_key=built.pk, part=nut, quantity=Decimal(3)) == [
        ("run_closed", "part"),
        ("run_closed", "quantity"),
    ]


def test_run_update_and_delete_compare_the_version_under_the_lock(db):
    todo = run()
    for call, arguments in ((services.run_update, {"title": "T"}), (services.run_delete, {})):
        before = database()
        with pytest.raises(DomainError) as raised:
            call(run_key=todo.pk, user=None, expected_version=5, **arguments)
        assert (raised.value.code, raised.value.params) == ("stale", {"CURRENT": 1})
        assert database() == before


def test_a_run_with_a_part_kit_is_still_referenced(db):
    todo = run()
    kit(todo)
    assert refused(services.run_delete, run_key=todo.pk) == [("still_referenced", None)]


# --- part kits -----------------------------------------------------------------------------------


def test_no_part_kit_is_added_to_a_closed_run(db):
    canceled = run(status="canceled")
    assert refused(services.part_kit_create, run=canceled) == [("run_closed", "run")]


def test_a_part_kit_keeps_its_run_and_a_final_status(db):
    first, second = run("RUN-1"), run("RUN-2")
    draft = kit(first)
    assert refused(services.part_kit_update, part_kit_key=draft.pk, run=second) == [
        ("immutable", "run")
    ]
    closed = kit(first, status="canceled")
    assert refused(services.part_kit_update, part_kit_key=closed.pk, status="draft") == [
        ("kit_status_final", "status")
    ]


def test_a_part_kit_that_holds_or_held_stock_is_not_deleted(part):
    screws = stock(part("Screw"), 5)
    holding = kit(run())
    services.part_kit_issue(
        user=None, part_kit_key=holding.pk, part_inventory_key=screws.pk, quantity=2
    )
    assert refused(services.part_kit_delete, part_kit_key=holding.pk) == [("kit_still_holds", None)]
    services.part_kit_move_to_inventory(
        user=None, part_kit_key=holding.pk, part_inventory_key=screws.pk, quantity=2
    )
    # Empty again, but its ledger rows name it.
    assert refused(services.part_kit_delete, part_kit_key=holding.pk) == [
        ("still_referenced", None)
    ]


def test_a_missing_part_kit_is_not_found(db):
    with pytest.raises(DomainError) as raised:
        services.part_kit_delete(part_kit_key=404, user=None)
    assert (raised.value.code, raised.value.field) == ("not_found", None)


# --- issue and move to inventory -----------------------------------------------------------------


def test_issue_rules(part):
    screws = stock(part("Screw"), 3)
    widget = stock(part("Widget", enable_serial_no=True), 1, serial_number="S1")
    draft = kit(run())
    issue = services.part_kit_issue
    assert refused(issue, part_kit_key=draft.pk, part_inventory_key=screws.pk) == [
        ("required", "quantity")
    ]
    assert refused(
        issue, part_kit_key=draft.pk, part_inventory_key=screws.pk, quantity=Decimal(0)
    ) == [("invalid_value", "quantity")]
    assert refused(
        issue, part_kit_key=draft.pk, part_inventory_key=screws.pk, quantity=Decimal(4)
    ) == [("issue_exceeds_on_hand", "quantity")]
    assert refused(
        issue, part_kit_key=draft.pk, part_inventory_key=widget.pk, quantity=Decimal(2)
    ) == [("serial_moves_one", "quantity")]
    closed = kit(draft.run, status="completed")
    assert refused(
        issue, part_kit_key=closed.pk, part_inventory_key=screws.pk, quantity=Decimal(9)
    ) == [
        ("kit_closed", "key"),
        ("issue_exceeds_on_hand", "quantity"),
    ]


def test_issue_of_a_vanished_record_names_the_reference(part):
    draft = kit(run())
    gone = stock(part("Screw"), 1)
    inventory_services.part_inventory_delete(part_inventory_key=gone.pk, user=None)
    assert refused(
        services.part_kit_issue,
        part_kit_key=draft.pk,
        part_inventory_key=gone.pk,
        quantity=Decimal(1),
    ) == [("reference_not_found", "part_inventory")]


def test_move_to_inventory_rules(part):
    screws, nuts = stock(part("Screw"), 3), stock(part("Nut"), 3)
    draft = kit(run())
    services.part_kit_issue(
        user=None, part_kit_key=draft.pk, part_inventory_key=screws.pk, quantity=2
    )
    move = services.part_kit_move_to_inventory
    assert refused(
        move, part_kit_key=draft.pk, part_inventory_key=nuts.pk, quantity=Decimal(1)
    ) == [("not_in_kit", "part_inventory")]
    assert refused(
        move, part_kit_key=draft.pk, part_inventory_key=screws.pk, quantity=Decimal(3)
    ) == [("move_exceeds_issued", "quantity")]
    assert refused(
        move, part_kit_key=draft.pk, part_inventory_key=screws.pk, quantity=Decimal(-1)
    ) == [("invalid_value", "quantity")]


# --- run/complete --------------------------------------------------------------------------------


def test_complete_needs_an_open_run_with_a_stocked_part(part):
    complete = completing()
    assert refused(complete, run_key=run("RUN-1").pk) == [("run_has_no_part", "part")]
    service = part("Service", "nonInventory")
    assert refused(complete, run_key=run("RUN-2", part=service).pk) == [
        ("run_part_not_stocked", "part")
    ]
    canceled = run("RUN-3", status="canceled")
    assert refused(complete, run_key=canceled.pk) == [
        ("run_closed", "key"),
        ("run_has_no_part", "part"),
    ]


def test_serial_numbers_of_a_completion(part):
    widget, screw = part("Widget", enable_serial_no=True), part("Screw")
    complete = completing()
    two = run("RUN-1", part=widget, quantity=2)
    assert refused(complete, run_key=two.pk, serial_numbers=["S1"]) == [
        ("serial_numbers_count", "serial_numbers")
    ]
    assert refused(complete, run_key=two.pk, serial_numbers=["S1", " "]) == [
        ("invalid_value", "serial_numbers")
    ]
    assert refused(complete, run_key=two.pk, serial_numbers=["S1", "S1 "]) == [
        ("invalid_value", "serial_numbers")
    ]
    half = run("RUN-2", part=widget, quantity=Decimal("1.5"))
    assert refused(complete, run_key=half.pk) == [("invalid_value", "quantity")]
    plain = run("RUN-3", part=screw)
    assert refused(complete, run_key=plain.pk, serial_numbers=["S1"]) == [
        ("invalid_value", "serial_numbers")
    ]


def test_a_taken_serial_number_refuses_the_whole_completion(part):
    widget = part("Widget", enable_serial_no=True)
    stock(widget, 1, serial_number="S2")
    screws = stock(part("Screw"), 4)
    two = run("RUN-1", part=widget, quantity=2)
    services.part_kit_issue(
        user=None, part_kit_key=kit(two).pk, part_inventory_key=screws.pk, quantity=3
    )
    # The first output is built and the kit's stock installed before the clash: all rolls back.
    assert refused(completing(), run_key=two.pk, serial_numbers=["S1", "S2"]) == [
        ("duplicate", "serial_numbers")
    ]
