"""`POST /workflows/inventory-control/part-kit/fulfill` (contract 15.3, 15.7): what the kit's run is
short of, issued from available stock oldest first, with the ledger rows of issue; and a
`requested` kit starting when stock is issued to it."""

import itertools
from decimal import Decimal

import pytest
import requests
from django.db import connection

from inventory.models import InventoryTransaction
from kitcomponents.services import kit_component_create
from kitting.models import PartKitLine
from tests.support.errors import assert_error, assert_rules, not_found
from tests.support.factories import kit, part, run, stock, warehouse
from tests.support.kitting import (
    FULFILL,
    ISSUE,
    assert_ledger_invariant,
    fresh,
    issue_body,
    kit_closed,
    lines_of,
)
from tests.support.parallel import run_together
from tests.support.refs import ONE, ref
from tests.support.users import make_user


@pytest.fixture
def floor(admin_user):
    """ASM (stockableKit) = 1 Widget + 2.5 Resin + 4 Screw; a run of 2 needs 2, 5 and 8. Resin:
    3 (older) on WH-1 and 10 on WH-2; widgets: one on WH-1, one in quarantine (unavailable);
    screws: 5 on WH-1, 100 in quarantine. A requested kit."""
    user = admin_user
    resin = part(user, "Resin", enable_lot_category=True)
    widget = part(user, "Widget", enable_serial_no=True)
    screw = part(user, "Screw")
    asm = part(user, "ASM", "stockableKit")
    for component, units in ((widget, 1), (resin, Decimal("2.5")), (screw, 4)):
        kit_component_create(user=user, kit=asm, component=component, number_of_units=units)
    wh1, wh2 = warehouse(user, "WH-1"), warehouse(user, "WH-2")
    quarantine = warehouse(user, "QUARANTINE", inventory_available=False)
    made = {
        "resin": resin,
        "widget": widget,
        "screw": screw,
        "wh2": wh2,
        "old_lot": stock(user, resin, 3, lot_number="L-1", location=wh1),
        "new_lot": stock(user, resin, 10, lot_number="L-2", location=wh2),
        "w1": stock(user, widget, 1, serial_number="W-1", location=wh1),
        "w2": stock(user, widget, 1, serial_number="W-2", location=quarantine),
        "screws": stock(user, screw, 5, location=wh1),
        "held_screws": stock(user, screw, 100, location=quarantine),
        "run": run(user, "RUN-1", part=asm, quantity=2),
    }
    made["kit"] = kit(user, made["run"], status="requested")
    return made


def inventory_now(inventory) -> dict:
    return {**ref(inventory), "quantity": float(fresh(inventory).quantity)}


def requirement(item, required, issued) -> dict:
    short = max(0, required - issued)
    return {
        "part": ref(item),
        "requiredQuantity": required,
        "issuedQuantity": issued,
        "shortQuantity": short,
    }


def test_fulfil_issues_oldest_first_from_available_stock(api, floor):
    part_kit = floor["kit"]
    before = InventoryTransaction.objects.count()
    response = api.post(FULFILL, {"key": str(part_kit.pk)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "ia::result": {
            **ref(part_kit),
            "issued": [
                {"partInventory": inventory_now(floor["old_lot"]), "quantity": 3},
                {"partInventory": inventory_now(floor["new_lot"]), "quantity": 2},
                {"partInventory": inventory_now(floor["w1"]), "quantity": 1},
                {"partInventory": inventory_now(floor["screws"]), "quantity": 5},
            ],
            "requirements": [
                requirement(floor["resin"], 5, 5),
                requirement(floor["widget"], 2, 1),
                requirement(floor["screw"], 8, 5),
            ],
        },
        "ia::meta": ONE,
    }
    assert lines_of(part_kit) == [
        (floor["old_lot"].pk, 3),
        (floor["new_lot"].pk, 2),
        (floor["w1"].pk, 1),
        (floor["screws"].pk, 5),
    ]
    rows = InventoryTransaction.objects.order_by("pk")[before:]
    assert [
        (
            r.type,
            r.part_inventory_id,
            r.quantity,
            r.kitted_quantity,
            r.quantity_after,
            r.part_kit_id,
        )
        for r in rows
    ] == [
        ("issue", floor["old_lot"].pk, -3, 3, 0, part_kit.pk),
        ("issue", floor["new_lot"].pk, -2, 2, 8, part_kit.pk),
        ("issue", floor["w1"].pk, -1, 1, 0, part_kit.pk),
        ("issue", floor["screws"].pk, -5, 5, 0, part_kit.pk),
    ]
    assert all(r.run_id == floor["run"].pk for r in rows)
    assert fresh(part_kit).status == "inProgress"
    assert assert_ledger_invariant() == 6

    # Nothing more available: 200, nothing issued, nothing written.
    version = fresh(part_kit).version
    again = api.post(FULFILL, {"key": str(part_kit.pk)}, format="json")
    assert again.status_code == 200
    assert again.json()["ia::result"]["issued"] == []
    assert InventoryTransaction.objects.count() == before + 4
    assert fresh(part_kit).version == version


def test_fulfil_counts_the_runs_other_kits_and_only_takes_from_the_location(api, admin_user, floor):
    other = kit(admin_user, floor["run"])
    api.post(ISSUE, issue_body(other, floor["old_lot"], 1), format="json")
    body = {"key": str(floor["kit"].pk), "location": {"id": "WH-2"}}
    response = api.post(FULFILL, body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()["ia::result"]
    # 5 resin required, 1 in the other kit: 4 from WH-2, nothing else is stored there.
    assert result["issued"] == [{"partInventory": inventory_now(floor["new_lot"]), "quantity": 4}]
    assert result["requirements"][0] == requirement(floor["resin"], 5, 5)


def test_fulfil_refusals(api, admin_user, floor):
    assert_error(
        api.post(FULFILL, {"key": "424242"}, format="json"),
        404,
        not_found("inventory-control/part-kit", "424242"),
    )
    closed = kit(admin_user, floor["run"], status="canceled")
    assert_rules(api.post(FULFILL, {"key": str(closed.pk)}, format="json"), kit_closed(closed))
    assert PartKitLine.objects.count() == 0


def test_issue_starts_a_requested_kit(api, floor):
    part_kit = floor["kit"]
    response = api.post(ISSUE, issue_body(part_kit, floor["screws"], 1), format="json")
    assert response.status_code == 200, response.json()
    assert (fresh(part_kit).status, fresh(part_kit).version) == ("inProgress", 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_fulfils_of_many_kits_never_over_issue(gunicorn_server, admin_user):
    """Eight runs each short of 4 resin fulfil at once against one lot of 10. Whatever the
    interleaving: no 500, never more issued than the lot held, no kit beyond its requirement,
    each answer as stored, a ledger row for every issue, and every unit issued unless a request
    gave up with 409 (contract 15.7): then the split is 4, 4, 2 and five empty-handed."""
    resin = part(admin_user, "Resin", enable_lot_category=True)
    asm = part(admin_user, "ASM", "stockableKit")
    kit_component_create(user=admin_user, kit=asm, component=resin, number_of_units=4)
    lot = stock(admin_user, resin, 10, lot_number="L-10")
    # Half requested (they start when stock reaches them), half drafts (they stay drafts).
    kits = [
        kit(admin_user, run(admin_user, f"RUN-{n}", part=asm), status=("requested", "draft")[n % 2])
        for n in range(8)
    ]
    was = {k.pk: k.status for k in kits}
    base, headers = gunicorn_server.url, gunicorn_server.headers
    responses = run_together(
        [
            lambda k=k: requests.post(
                f"{base}{FULFILL}", json={"key": str(k.pk)}, headers=headers, timeout=120
            )
            for k in kits
        ]
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:  # gave up a lock race: to be retried, nothing written
            assert r.json()["ia::result"]["ia::error"]["errorId"] == "KS-4093", r.text
    lot.refresh_from_db()
    issued = {}
    for part_kit, r in zip(kits, responses, strict=True):
        lines = lines_of(part_kit)
        if r.status_code != 200:
            assert lines == []
            continue
        answered = r.json()["ia::result"]["issued"]
        assert all(line["partInventory"]["key"] == str(lot.pk) for line in answered)
        issued[part_kit.pk] = sum(Decimal(str(line["quantity"])) for line in answered)
        assert lines == ([(lot.pk, issued[part_kit.pk])] if issued[part_kit.pk] else [])
        assert 0 <= issued[part_kit.pk] <= 4
        started = "inProgress" if issued[part_kit.pk] else "requested"
        assert fresh(part_kit).status == (started if was[part_kit.pk] == "requested" else "draft")
    total = sum(issued.values())
    assert (lot.quantity, lot.kitted_quantity) == (10 - total, total)
    if 409 not in statuses:
        # Serialized by the lot's lock, each took what was left: 4, 4, then 2, then nothing.
        assert sorted(issued.values()) == [0] * 5 + [2, 4, 4], issued
    rows = InventoryTransaction.objects.filter(part_inventory=lot, type="issue").order_by("pk")
    assert sorted((r.part_kit_id, -r.quantity, r.kitted_quantity) for r in rows) == sorted(
        (key, n, n) for key, n in issued.items() if n
    )
    assert [r.quantity_after for r in rows] == list(
        itertools.accumulate((r.quantity for r in rows), initial=Decimal(10))
    )[1:]
    assert assert_ledger_invariant() == 1


def staff(username: str, *perms: str):
    user = make_user(username, *perms)
    user.is_staff = True
    user.save()
    return user


def test_admin_fulfils_through_the_service_with_the_permissions_of_issue(client, floor):
    client.force_login(staff("clerk", "kitting.view_partkit", "kitting.change_partkit"))
    chosen = {"action": "fulfil_part_kits", "_selected_action": [floor["kit"].pk]}
    page = client.get("/admin/kitting/partkit/")
    assert b"fulfil_part_kits" not in page.content  # it also needs change_partinventory
    client.post("/admin/kitting/partkit/", chosen)
    assert lines_of(floor["kit"]) == []

    keeper = staff(
        "keeper",
        "kitting.view_partkit",
        "kitting.change_partkit",
        "inventory.change_partinventory",
    )
    client.force_login(keeper)
    done = client.post("/admin/kitting/partkit/", chosen, follow=True)
    assert done.status_code == 200
    kit_key, old_lot = floor["kit"].pk, floor["old_lot"].pk
    assert f"Part kit {kit_key}: issued 3 of part inventory {old_lot}, ".encode() in done.content
    assert len(lines_of(floor["kit"])) == 4
    assert fresh(floor["kit"]).status == "inProgress"
