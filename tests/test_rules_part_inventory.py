"""Contract 6 rules, called on the part-inventory services directly: code, model field, nothing
written (not even a ledger row or a generated number)."""

from decimal import Decimal

import pytest

from core.errors import DomainError, DomainErrors
from inventory import services
from kitting import services as kitting_services
from tests.support.factories import build_location
from tests.support.rules import database, refusal


@pytest.fixture
def parts(db):
    def item(code, item_type="inventory", **fields):
        return services.item_create(user=None, code=code, name=code, item_type=item_type, **fields)

    return {
        "serial": item("Widget", enable_serial_no=True),
        "lot": item("Resin", enable_lot_category=True),
        "untracked": item("Screw"),
        "noninv": item("Service", "nonInventory"),
    }


def refused(call, **arguments) -> list[tuple[str, str | None]]:
    """The refusal of `call(user=None, **arguments)`, which must leave the database as it was."""
    before = database()
    with pytest.raises((DomainError, DomainErrors)) as raised:
        call(user=None, **arguments)
    assert database() == before
    return refusal(raised.value)


def create(part, **fields):
    return services.part_inventory_create(user=None, part=part, **fields)


def test_only_stocked_items_hold_inventory(parts):
    assert refused(services.part_inventory_create, part=parts["noninv"]) == [
        ("part_not_stocked", "part")
    ]


def test_tracking_decides_which_number_is_required(parts):
    create_ = services.part_inventory_create
    assert refused(create_, part=parts["serial"]) == [("required", "serial_number")]
    assert refused(create_, part=parts["lot"]) == [("required", "lot_number")]
    assert refused(create_, part=parts["lot"], serial_number="S1", lot_number="L1") == [
        ("tracking_mismatch", "serial_number")
    ]
    assert refused(create_, part=parts["untracked"], autogenerate_serial_number=True) == [
        ("tracking_mismatch", "autogenerate_serial_number")
    ]
    assert refused(create_, part=parts["untracked"], lot_number="L1") == [
        ("tracking_mismatch", "lot_number")
    ]
    assert refused(create_, part=parts["untracked"], autogenerate_lot_number=True) == [
        ("tracking_mismatch", "autogenerate_lot_number")
    ]


def test_a_number_is_given_or_generated_not_both(parts):
    assert refused(
        services.part_inventory_create,
        part=parts["serial"],
        serial_number="S1",
        autogenerate_serial_number=True,
    ) == [("invalid_value", "autogenerate_serial_number")]


def test_quantities(parts):
    create_ = services.part_inventory_create
    assert refused(create_, part=parts["untracked"], quantity=-1) == [("invalid_value", "quantity")]
    assert refused(create_, part=parts["serial"], serial_number="S1", quantity=2) == [
        ("invalid_value", "quantity")
    ]


def test_a_serial_is_unique_per_part(parts):
    create(parts["serial"], serial_number="S1", quantity=1)
    assert refused(services.part_inventory_create, part=parts["serial"], serial_number=" S1 ") == [
        ("duplicate", "serial_number")
    ]
    other = create(parts["serial"], serial_number="S2")
    assert refused(
        services.part_inventory_update, part_inventory_key=other.pk, serial_number="S1"
    ) == [("duplicate", "serial_number")]


def test_update_keeps_the_part_and_the_rules_of_create(parts):
    screws = create(parts["untracked"], quantity=3)
    assert refused(
        services.part_inventory_update, part_inventory_key=screws.pk, part=parts["lot"]
    ) == [("immutable", "part")]
    assert refused(services.part_inventory_update, part_inventory_key=screws.pk, quantity=None) == [
        ("required", "quantity")
    ]
    assert refused(
        services.part_inventory_update, part_inventory_key=screws.pk, quantity=Decimal(-1)
    ) == [("invalid_value", "quantity")]
    assert refused(
        services.part_inventory_update, part_inventory_key=screws.pk, lot_number="L1"
    ) == [("tracking_mismatch", "lot_number")]


def test_update_and_delete_compare_the_version_under_the_lock(parts):
    screws = create(parts["untracked"], quantity=3)
    for call, arguments in (
        (services.part_inventory_update, {"quantity": Decimal(4)}),
        (services.part_inventory_delete, {}),
    ):
        before = database()
        with pytest.raises(DomainError) as raised:
            call(part_inventory_key=screws.pk, user=None, expected_version=2, **arguments)
        assert (raised.value.code, raised.value.params) == ("stale", {"CURRENT": 1})
        assert database() == before


def test_a_missing_record_is_not_found(db):
    for call in (services.part_inventory_update, services.part_inventory_delete):
        with pytest.raises(DomainError) as raised:
            call(part_inventory_key=404, user=None)
        assert (raised.value.code, raised.value.field) == ("not_found", None)


def test_inventory_an_open_kit_holds_is_not_deleted(parts):
    screws = create(parts["untracked"], quantity=3)
    run = kitting_services.run_create(user=None, code="RUN-1")
    kit = kitting_services.part_kit_create(user=None, run=run)
    kitting_services.part_kit_issue(
        user=None, part_kit_key=kit.pk, part_inventory_key=screws.pk, quantity=2
    )
    assert refused(services.part_inventory_delete, part_inventory_key=screws.pk) == [
        ("inventory_still_kitted", None)
    ]


def test_a_runs_output_is_not_deleted(parts):
    run = kitting_services.run_create(user=None, code="RUN-1", part=parts["untracked"])
    [output] = kitting_services.run_complete(
        user=None, run_key=run.pk, location=build_location(None)
    ).outputs
    assert refused(services.part_inventory_delete, part_inventory_key=output.pk) == [
        ("still_referenced", None)
    ]


def test_tracking_does_not_change_under_existing_inventory(parts):
    create(parts["untracked"], quantity=1)
    assert refused(
        services.item_update,
        item_key=parts["untracked"].pk,
        enable_serial_no=True,
        enable_lot_category=True,
    ) == [("tracking_in_use", "enable_serial_no"), ("tracking_in_use", "enable_lot_category")]


def test_a_part_deleted_after_the_request_named_it_is_a_broken_reference(parts):
    gone = parts["untracked"]
    services.item_delete(item_key=gone.pk, user=None)
    assert refused(services.part_inventory_create, part=gone, quantity=1) == [
        ("reference_not_found", "part")
    ]
