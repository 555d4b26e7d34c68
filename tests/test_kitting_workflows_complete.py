"""The kitting workflows of contract 7.3 and 7.4: run/complete, and the rules kept below HTTP."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from core.errors import DomainErrors
from inventory.models import PartInventory
from kitting import services
from kitting.models import Installation, PartKitLine, Run
from tests.support.errors import assert_error, assert_rules, err, invalid, not_found, required
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import (
    COMPLETE,
    ISSUE,
    MOVE,
    assert_ledger_invariant,
    fresh,
    issue_body,
    kit_closed,
    ledger,
    lines_of,
    run_closed,
)
from tests.support.kitting_workflows import KIT_OBJECT, RUN_OBJECT, STATE, D
from tests.support.refs import ONE, ref, snapshot

# --- run/complete --------------------------------------------------------------------------------
# Where these tests build, short or not: the shortage rules (15.6) have their own tests.
BUILT_AT_WH1 = {"location": {"id": "WH-1"}, "allowShortage": True}


@pytest.fixture
def assembly(admin_user, shop):
    """A serial-tracked stockable kit built from a widget, 2 resin and 4 screws per unit."""
    from kitcomponents.services import kit_component_create

    item = part(admin_user, "ASM", "stockableKit", enable_serial_no=True, serial_mask="ASM-###")
    for component, units in ((shop["widget"], 1), (shop["resin"], 2), (shop["screw"], 4)):
        kit_component_create(user=admin_user, kit=item, component=component, number_of_units=units)
    return item


def complete_result(the_run, outputs) -> dict:
    return {
        "ia::result": {
            **ref(the_run),
            "status": "complete",
            "outputs": [
                {
                    **ref(output),
                    "serialNumber": output.serial_number,
                    "lotNumber": output.lot_number,
                    "quantity": float(output.quantity),
                }
                for output in outputs
            ],
        },
        "ia::meta": ONE,
    }


def test_complete_installs_the_open_kits_and_builds_serial_outputs(api, admin_user, shop, assembly):
    lot, serial, loose, wh2 = shop["lot"], shop["serial"], shop["loose"], shop["wh2"]
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=2)
    first, second = kit(admin_user, the_run), kit(admin_user, the_run, status="delivered")
    canceled = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(first, lot, 3), format="json")
    api.post(ISSUE, issue_body(first, serial), format="json")
    api.post(ISSUE, issue_body(second, lot, 1), format="json")
    api.post(ISSUE, issue_body(second, loose, 8), format="json")
    api.post(ISSUE, issue_body(canceled, loose, 5), format="json")
    api.patch(f"/objects/{KIT_OBJECT}/{canceled.pk}", {"status": "canceled"}, format="json")

    body = {
        "key": str(the_run.pk),
        "location": {"key": str(wh2.pk)},
        "serialNumbers": ["A-1", "A-2"],
        "allowShortage": True,  # one widget of two
    }
    response = api.post(COMPLETE, body, format="json")

    assert response.status_code == 200, response.json()
    outputs = list(PartInventory.objects.filter(built_by=the_run).order_by("pk"))
    assert response.json() == complete_result(fresh(the_run), outputs)
    assert [(o.serial_number, o.quantity, o.location_id, o.part_id) for o in outputs] == [
        ("A-1", 1, wh2.pk, assembly.pk),
        ("A-2", 1, wh2.pk, assembly.pk),
    ]
    for output in outputs:
        assert ledger(output) == [("build", 1, 0, 0, 1, None, the_run.pk)]
    assert fresh(the_run).status == "complete"
    assert [fresh(k).status for k in (first, second, canceled)] == [
        "completed",
        "completed",
        "canceled",
    ]
    lot, serial, loose = fresh(lot), fresh(serial), fresh(loose)
    assert (lot.quantity, lot.kitted_quantity, lot.installed_quantity) == (6, 0, 4)
    assert (serial.quantity, serial.kitted_quantity, serial.installed_quantity) == (0, 0, 1)
    assert (loose.quantity, loose.kitted_quantity, loose.installed_quantity) == (92, 0, 8)
    assert ledger(lot)[-2:] == [
        ("install", 0, -3, 3, 6, first.pk, the_run.pk),
        ("install", 0, -1, 1, 6, second.pk, the_run.pk),
    ]
    assert list(
        Installation.objects.filter(run=the_run)
        .order_by("pk")
        .values_list("part_inventory_id", "quantity")
    ) == [(serial.pk, 1), (lot.pk, 4), (loose.pk, 8)]
    # The completed kits keep what they delivered; the canceled one gave its screws back.
    assert lines_of(first) == [(lot.pk, 3), (serial.pk, 1)]
    assert lines_of(canceled) == []
    assert assert_ledger_invariant() == 5


def test_complete_generates_serials_from_the_mask(api, admin_user, shop, assembly):
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=3)
    response = api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(the_run.pk)}, format="json")
    outputs = list(PartInventory.objects.filter(built_by=the_run).order_by("pk"))
    assert [o.serial_number for o in outputs] == ["ASM-001", "ASM-002", "ASM-003"]
    assert [o.location_id for o in outputs] == [shop["wh1"].pk] * 3
    assert response.json() == complete_result(fresh(the_run), outputs)
    assert Installation.objects.count() == 0  # nothing was issued: nothing installed


def test_complete_lot_and_untracked_parts_build_one_record(api, admin_user, shop):
    lot_run = run(admin_user, "RUN-L", part=shop["resin"], quantity=D("12.5"))
    response = api.post(
        COMPLETE,
        {**BUILT_AT_WH1, "key": str(lot_run.pk), "location": {"id": "WH-1"}, "serialNumbers": []},
        format="json",
    )
    [output] = PartInventory.objects.filter(built_by=lot_run)
    assert (output.lot_number, output.serial_number, output.quantity) == (
        "Resin-L000001",
        None,
        D("12.5"),
    )
    assert output.location == shop["wh1"]
    assert response.json() == complete_result(fresh(lot_run), [output])

    plain_run = run(admin_user, "RUN-U", part=shop["screw"], quantity=50)
    response = api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(plain_run.pk)}, format="json")
    [output] = PartInventory.objects.filter(built_by=plain_run)
    assert (output.lot_number, output.serial_number, output.quantity) == (None, None, 50)
    assert ledger(output) == [("build", 50, 0, 0, 50, None, plain_run.pk)]
    assert response.json() == complete_result(fresh(plain_run), [output])


def test_complete_rules(api, admin_user, shop, assembly):
    no_part = run(admin_user, "RUN-NP")
    assert_rules(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(no_part.pk)}, format="json"),
        err(
            "KS-4256",
            "Run RUN-NP has no part: set the part it builds before completing it",
            "part",
            ID="RUN-NP",
        ),
    )
    kit_item = part(admin_user, "Bundle", "kit")
    bundle = run(admin_user, "RUN-K", part=kit_item)
    assert_rules(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(bundle.pk)}, format="json"),
        err(
            "KS-4257",
            "Run RUN-K builds item Bundle of type kit: only inventory and stockableKit items are "
            "built into part inventory",
            "part",
            ID="RUN-K",
            PART="Bundle",
            TYPE="kit",
        ),
    )
    serial_run = run(admin_user, "RUN-S", part=assembly, quantity=2)
    assert_rules(
        api.post(
            COMPLETE,
            {**BUILT_AT_WH1, "key": str(serial_run.pk), "serialNumbers": ["A-1"]},
            format="json",
        ),
        err(
            "KS-4260",
            "1 serial numbers given for a run of 2: give one per unit, or none to generate them",
            "serialNumbers",
            COUNT=1,
            QUANTITY="2",
        ),
    )
    assert_rules(
        api.post(
            COMPLETE,
            {**BUILT_AT_WH1, "key": str(serial_run.pk), "serialNumbers": ["A-1", " A-1"]},
            format="json",
        ),
        invalid("serialNumbers", "A-1 is given twice"),
    )
    assert_rules(
        api.post(
            COMPLETE,
            {**BUILT_AT_WH1, "key": str(serial_run.pk), "serialNumbers": ["A-1", ""]},
            format="json",
        ),
        invalid("serialNumbers", "a serial number cannot be blank"),
    )
    assert_rules(
        api.post(
            COMPLETE,
            {**BUILT_AT_WH1, "key": str(shop["run"].pk), "serialNumbers": ["x"]},
            format="json",
        ),
        err(
            "KS-4256",
            "Run RUN-1 has no part: set the part it builds before completing it",
            "part",
            ID="RUN-1",
        ),
    )
    screws = run(admin_user, "RUN-U", part=shop["screw"])
    assert_rules(
        api.post(
            COMPLETE, {**BUILT_AT_WH1, "key": str(screws.pk), "serialNumbers": ["x"]}, format="json"
        ),
        invalid("serialNumbers", "part Screw is not serial-tracked"),
    )
    half = run(admin_user, "RUN-H", part=assembly, quantity=D("1.5"))
    assert_rules(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(half.pk)}, format="json"),
        invalid("quantity", "part ASM is serial-tracked, so a run builds whole units, not 1.5"),
    )
    assert_error(
        api.post(COMPLETE, {"key": "424242"}, format="json"), 404, not_found(RUN_OBJECT, "424242")
    )
    assert_rules(api.post(COMPLETE, {}, format="json"), required("key"))
    assert_error(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(screws.pk), "serials": []}, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/serials is not a valid field", "/serials", FIELD="/serials")],
    )
    assert not PartInventory.objects.filter(built_by__isnull=False).exists()


def test_complete_twice_or_canceled_is_422(api, admin_user, shop):
    the_run = run(admin_user, "RUN-U", part=shop["screw"])
    assert (
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(the_run.pk)}, format="json").status_code
        == 200
    )
    before = snapshot(*STATE)
    reason = "only a run that is todo or inProgress can be completed"
    assert_rules(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(the_run.pk)}, format="json"),
        run_closed(fresh(the_run), "key", reason),
    )
    canceled = run(admin_user, "RUN-C", part=shop["screw"], status="canceled")
    assert_rules(
        api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(canceled.pk)}, format="json"),
        run_closed(canceled, "key", reason),
    )
    assert snapshot(*STATE) == {**before, "kitting.Run": snapshot(Run)["kitting.Run"]}


def test_complete_with_a_serial_number_already_taken_is_409_and_changes_nothing(
    api, admin_user, shop, assembly
):
    stock(admin_user, assembly, 1, serial_number="A-1")
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=2)
    part_kit = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 2), format="json")
    before = snapshot(*STATE)

    response = api.post(
        COMPLETE,
        {**BUILT_AT_WH1, "key": str(the_run.pk), "serialNumbers": ["A-0", "A-1"]},
        format="json",
    )

    value = "A-1 for part ASM"
    assert_error(
        response,
        409,
        err(
            "KS-4091",
            f"inventory-control/part-inventory with serialNumber {value} already exists",
            "serialNumbers",
            OBJECT="inventory-control/part-inventory",
            FIELD="serialNumber",
            VALUE=value,
        ),
    )
    assert snapshot(*STATE) == before


def test_after_completion_the_run_and_its_kits_are_closed(api, admin_user, shop):
    the_run = run(admin_user, "RUN-U", part=shop["screw"])
    part_kit = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 1), format="json")
    api.post(COMPLETE, {**BUILT_AT_WH1, "key": str(the_run.pk)}, format="json")
    part_kit, the_run = fresh(part_kit), fresh(the_run)

    assert_rules(
        api.post(ISSUE, issue_body(part_kit, shop["lot"], 1), format="json"), kit_closed(part_kit)
    )
    assert_rules(
        api.post(MOVE, issue_body(part_kit, shop["lot"], 1), format="json"), kit_closed(part_kit)
    )
    assert_rules(
        api.post(KIT_PATH, {"run": {"id": "RUN-U"}}, format="json"),
        run_closed(the_run, "run", "no part kit can be added to it"),
    )
    # The output is ordinary inventory, ready for a higher-level kit.
    [output] = PartInventory.objects.filter(built_by=the_run)
    higher = kit(admin_user, run(admin_user, "RUN-TOP"))
    assert api.post(ISSUE, issue_body(higher, output, 1), format="json").status_code == 200
    assert assert_ledger_invariant() == 4


KIT_PATH = f"/objects/{KIT_OBJECT}"


def test_services_keep_the_rules_when_called_directly(admin_user, shop):
    """The admin and commands call the same services: the rules hold without the API."""
    lot, part_kit = shop["lot"], shop["kit"]
    move = services.part_kit_issue(
        user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=lot.pk, quantity=4
    )
    assert (move.issued_quantity, move.part_inventory.quantity) == (4, 6)
    with pytest.raises(DomainErrors) as raised:
        services.part_kit_issue(
            user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=lot.pk, quantity=7
        )
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("issue_exceeds_on_hand", "quantity")
    ]
    back = services.part_kit_move_to_inventory(
        user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=lot.pk, quantity=4
    )
    assert (back.issued_quantity, back.part_inventory.quantity) == (0, 10)
    assert assert_ledger_invariant() == 3


@pytest.mark.parametrize(
    ("model", "change"),
    [
        ("inventory", {"quantity": F("quantity") - 11}),
        ("inventory", {"kitted_quantity": F("kitted_quantity") - 1}),
        ("inventory", {"installed_quantity": -1}),
        ("serial", {"kitted_quantity": 1}),  # on hand and in a kit at once
        ("line", {"issued_quantity": 0}),
    ],
)
def test_the_database_refuses_what_a_buggy_service_might_write(admin_user, shop, model, change):
    """Saleor's rule: every invariant is also a constraint, so a bug cannot make stock negative."""
    line_kit = kit(admin_user, shop["run"])
    services.part_kit_issue(
        user=admin_user, part_kit_key=line_kit.pk, part_inventory_key=shop["loose"].pk, quantity=1
    )
    rows = {
        "inventory": PartInventory.objects.filter(pk=shop["lot"].pk),
        "serial": PartInventory.objects.filter(pk=shop["serial"].pk),
        "line": PartKitLine.objects.filter(part_kit=line_kit),
    }[model]
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(**change)


# --- 15.6: location required, no completion while short ------------------------------------------


def short_of(the_run, part_id, short, required_, issued) -> dict:
    message = (
        f"Run {the_run.code} is short of {short} of part {part_id}: {required_} required, "
        f"{issued} issued to its open kits (issue it, or complete with allowShortage)"
    )
    return err(
        "KS-4265",
        message,
        "requirements",
        ID=the_run.code,
        PART=part_id,
        SHORT=short,
        REQUIRED=required_,
        ISSUED=issued,
    )


def test_completion_requires_a_location(api, admin_user, assembly):
    the_run = run(admin_user, "RUN-2", part=assembly)
    before = snapshot(*STATE)
    assert_rules(
        api.post(COMPLETE, {"key": str(the_run.pk), "allowShortage": True}, format="json"),
        required("location"),
    )
    assert snapshot(*STATE) == before


def test_completion_refuses_while_a_requirement_is_short(api, admin_user, shop, assembly):
    the_run = run(admin_user, "RUN-2", part=assembly, quantity=2)
    part_kit = kit(admin_user, the_run)
    # 2 widgets, 4 resin and 8 screws required: the screws are all there, resin half, no widget.
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 2), format="json")
    api.post(ISSUE, issue_body(part_kit, shop["loose"], 8), format="json")
    body = {"key": str(the_run.pk), "location": {"id": "WH-1"}}
    before = snapshot(*STATE)
    assert_rules(
        api.post(COMPLETE, body, format="json"),
        short_of(the_run, "Widget", "2", "2", "0"),
        short_of(the_run, "Resin", "2", "4", "2"),
    )
    assert snapshot(*STATE) == before
    assert_rules(
        api.post(COMPLETE, {**body, "allowShortage": False}, format="json"),
        short_of(the_run, "Widget", "2", "2", "0"),
        short_of(the_run, "Resin", "2", "4", "2"),
    )
    # Covered: it completes without allowShortage.
    api.post(ISSUE, issue_body(part_kit, shop["lot"], 2), format="json")
    the_widget = stock(admin_user, shop["widget"], 1, serial_number="W-0002")
    api.post(ISSUE, issue_body(part_kit, shop["serial"]), format="json")
    api.post(ISSUE, issue_body(part_kit, the_widget), format="json")
    response = api.post(COMPLETE, body, format="json")
    assert response.status_code == 200, response.json()
    assert fresh(the_run).status == "complete"
    assert assert_ledger_invariant() == 6  # 4 in stock, 2 built


def test_allow_shortage_completes_a_short_run(api, admin_user, assembly):
    the_run = run(admin_user, "RUN-2", part=assembly)
    body = {"key": str(the_run.pk), "location": {"id": "WH-1"}, "allowShortage": True}
    response = api.post(COMPLETE, body, format="json")
    assert response.status_code == 200, response.json()
    assert fresh(the_run).status == "complete"
