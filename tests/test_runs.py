"""`inventory-control/run` (contract 7.1): fields, status rules, deletes, list and detail."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import identity
from inventory.models import InventoryTransaction, PartInventory
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.factories import complete, kit, part, run, stock, warehouse
from tests.support.kitting import (
    ISSUE,
    RUNS,
    assert_ledger_invariant,
    fresh,
    inventory_ref,
    issue_body,
    ledger,
    lines_of,
    run_closed,
)
from tests.support.refs import ONE, audit, ref, snapshot
from tests.support.users import make_user

D = Decimal
STATE = (PartInventory, PartKit, PartKitLine, Run, InventoryTransaction, Installation)
WORKFLOW_ONLY = err(
    "KS-4259",
    "A run becomes complete only through POST /workflows/inventory-control/run/complete, which "
    "builds its outputs",
    "status",
)


def test_create_with_defaults_and_get_the_full_object(api, admin_user):
    response = api.post(RUNS, {"id": "RUN-1"}, format="json")

    the_run = Run.objects.get()
    assert response.status_code == 201
    assert response.json() == {"ia::result": ref(the_run), "ia::meta": ONE}
    got = api.get(f"{RUNS}/{the_run.pk}")
    assert got["ETag"] == '"1"'
    assert got.json() == {
        "ia::result": {
            "key": str(the_run.pk),
            "id": "RUN-1",
            "title": "",
            "part": None,
            "quantity": 1,
            "status": "todo",
            "partKits": [],
            "outputs": [],
            "installations": [],
            "audit": audit(the_run, admin_user),
            "href": f"/objects/inventory-control/run/{the_run.pk}",
        },
        "ia::meta": ONE,
    }


def test_create_with_every_field(api, admin_user):
    item = part(admin_user, "ASM", "stockableKit")
    body = {
        "id": "RUN-7",
        "title": "First build",
        "part": {"id": "ASM"},
        "quantity": 2.5,
        "status": "inProgress",
    }
    response = api.post("/ia/api/v1" + RUNS, body, format="json")
    assert response.status_code == 201
    result = api.get(response.json()["ia::result"]["href"]).json()["ia::result"]
    assert {k: result[k] for k in body} == {**body, "part": ref(item)}


def test_duplicate_id_is_409_and_creates_nothing(api, admin_user):
    run(admin_user, "RUN-1")
    assert_error(
        api.post(RUNS, {"id": "RUN-1"}, format="json"),
        409,
        err(
            "KS-4091",
            "inventory-control/run with id RUN-1 already exists",
            "id",
            OBJECT="inventory-control/run",
            FIELD="id",
            VALUE="RUN-1",
        ),
    )
    assert Run.objects.count() == 1


def test_create_rules(api):
    assert_rules(api.post(RUNS, {}, format="json"), required("id"))
    assert_rules(api.post(RUNS, {"id": ""}, format="json"), required("id"))
    assert_rules(api.post(RUNS, {"id": "   "}, format="json"), required("id"))
    for quantity in (0, -2):
        assert_rules(
            api.post(RUNS, {"id": "R", "quantity": quantity}, format="json"),
            invalid("quantity", "must be greater than 0"),
        )
    assert_rules(api.post(RUNS, {"id": "R", "status": "complete"}, format="json"), WORKFLOW_ONLY)
    assert_rules(
        api.post(RUNS, {"id": "R", "status": "done"}, format="json"),
        invalid("status", '"done" is not a valid choice.'),
    )
    assert_rules(
        api.post(RUNS, {"id": "R", "part": {"id": "nope"}}, format="json"),
        err(
            "KS-4224",
            "part refers to a inventory-control/item that does not exist: id nope",
            "part",
            FIELD="part",
            OBJECT="inventory-control/item",
            REFERENCE="id nope",
        ),
    )
    # Read-only fields sent back are ignored (contract 1.3); unknown ones are a 400.
    assert (
        api.post(RUNS, {"id": "R", "partKits": [], "outputs": []}, format="json").status_code == 201
    )
    assert_error(
        api.post(RUNS, {"id": "R2", "bom": []}, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/bom is not a valid field", "/bom", FIELD="/bom")],
    )
    assert list(Run.objects.values_list("code", flat=True)) == ["R"]


def test_patch_fields_and_status(api, admin_user):
    the_run = run(admin_user, "RUN-1")
    item = part(admin_user, "Screw")
    href = f"{RUNS}/{the_run.pk}"
    body = {"id": "RUN-1b", "title": "Renamed", "part": {"key": str(item.pk)}, "quantity": 4}
    response = api.patch(href, body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response.json() == {"ia::result": ref(fresh(the_run)), "ia::meta": ONE}
    assert response["ETag"] == '"2"'
    the_run = fresh(the_run)
    assert (the_run.code, the_run.title, the_run.part, the_run.quantity) == (
        "RUN-1b",
        "Renamed",
        item,
        4,
    )
    for status in ("inProgress", "todo", "inProgress"):
        assert api.patch(href, {"status": status}, format="json").status_code == 200
    assert_rules(api.patch(href, {"status": "complete"}, format="json"), WORKFLOW_ONLY)
    assert_rules(
        api.patch(href, {"quantity": 0}, format="json"),
        invalid("quantity", "must be greater than 0"),
    )
    assert api.patch(href, {"part": None}, format="json").status_code == 200
    assert fresh(the_run).part is None
    assert_error(
        api.patch(href, {"title": "x"}, format="json", HTTP_IF_MATCH='"1"'),
        412,
        err(
            "KS-4121",
            f'If-Match "1" does not match the current version "{fresh(the_run).version}"',
            GIVEN='"1"',
            CURRENT=f'"{fresh(the_run).version}"',
        ),
    )
    run(admin_user, "RUN-2")
    assert_error(
        api.patch(href, {"id": "RUN-2"}, format="json"),
        409,
        err(
            "KS-4091",
            "inventory-control/run with id RUN-2 already exists",
            "id",
            OBJECT="inventory-control/run",
            FIELD="id",
            VALUE="RUN-2",
        ),
    )


def test_canceling_a_run_cancels_its_open_kits_and_returns_their_stock(api, admin_user):
    resin = part(admin_user, "Resin", enable_lot_category=True)
    lot = stock(admin_user, resin, 10, lot_number="L-1")
    the_run = run(admin_user, "RUN-1", part=resin)
    first, second = kit(admin_user, the_run), kit(admin_user, the_run, status="requested")
    api.post(ISSUE, issue_body(first, lot, 3), format="json")
    api.post(ISSUE, issue_body(second, lot, 2), format="json")
    assert fresh(lot).quantity == 5

    response = api.patch(f"{RUNS}/{the_run.pk}", {"status": "canceled"}, format="json")

    assert response.status_code == 200
    assert [fresh(k).status for k in (first, second)] == ["canceled", "canceled"]
    lot = fresh(lot)
    assert (lot.quantity, lot.kitted_quantity) == (10, 0)
    assert ledger(lot)[-2:] == [
        ("return", 3, -3, 0, 8, first.pk, the_run.pk),
        ("return", 2, -2, 0, 10, second.pk, the_run.pk),
    ]
    assert lines_of(first) == lines_of(second) == []
    assert_ledger_invariant()

    # Canceled is final; the title may still change.
    the_run = fresh(the_run)
    reason = "a complete or canceled run keeps its status"
    assert_rules(
        api.patch(f"{RUNS}/{the_run.pk}", {"status": "todo"}, format="json"),
        run_closed(the_run, "status", reason),
    )
    assert (
        api.patch(f"{RUNS}/{the_run.pk}", {"title": "Scrapped"}, format="json").status_code == 200
    )


def test_a_complete_run_keeps_its_status_part_and_quantity(api, admin_user):
    screw = part(admin_user, "Screw")
    other = part(admin_user, "Nut")
    the_run = run(admin_user, "RUN-1", part=screw, quantity=5)
    complete(admin_user, the_run)
    the_run = fresh(the_run)
    href = f"{RUNS}/{the_run.pk}"
    before = snapshot(*STATE)

    assert_rules(
        api.patch(
            href, {"status": "todo", "part": {"key": str(other.pk)}, "quantity": 6}, format="json"
        ),
        run_closed(the_run, "status", "a complete or canceled run keeps its status"),
        run_closed(the_run, "part", "its outputs are built, so its part stays as built"),
        run_closed(the_run, "quantity", "its outputs are built, so its quantity stays as built"),
    )
    assert snapshot(*STATE) == before
    # What a client GETs and PATCHes back unchanged is fine.
    same = {"status": "complete", "part": {"key": str(screw.pk)}, "quantity": 5, "title": "Done"}
    assert api.patch(href, same, format="json").status_code == 200


def test_delete(api, admin_user):
    lonely = run(admin_user, "RUN-0")
    assert api.delete(f"{RUNS}/{lonely.pk}").status_code == 204
    assert not Run.objects.filter(pk=lonely.pk).exists()

    the_run = run(admin_user, "RUN-1")
    part_kit = kit(admin_user, the_run)
    assert_error(
        api.delete(f"{RUNS}/{the_run.pk}"),
        409,
        err(
            "KS-4092",
            f"inventory-control/run {the_run.pk} cannot be deleted: it is still referenced by "
            f"inventory-control/part-kit {part_kit.pk}",
            OBJECT="inventory-control/run",
            KEY=the_run.pk,
            REFERENCES=f"inventory-control/part-kit {part_kit.pk}",
        ),
    )
    screw = part(admin_user, "Screw")
    built = run(admin_user, "RUN-2", part=screw)
    complete(admin_user, built)
    output = PartInventory.objects.get(built_by=built)
    assert_error(
        api.delete(f"{RUNS}/{built.pk}"),
        409,
        err(
            "KS-4092",
            f"inventory-control/run {built.pk} cannot be deleted: it is still referenced by "
            f"inventory-control/part-inventory {output.pk}",
            OBJECT="inventory-control/run",
            KEY=built.pk,
            REFERENCES=f"inventory-control/part-inventory {output.pk}",
        ),
    )
    assert Run.objects.count() == 2


def test_list_filters_and_paging(api, admin_user):
    runs = [
        run(admin_user, f"RUN-{n}", status=s) for n, s in enumerate(["todo", "inProgress", "todo"])
    ]
    listed = api.get(RUNS)
    assert listed.json() == {
        "ia::result": [ref(r) for r in runs],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert api.get(RUNS, {"status": "todo"}).json()["ia::result"] == [ref(runs[0]), ref(runs[2])]
    assert api.get(RUNS, {"id": "RUN-1"}).json()["ia::result"] == [ref(runs[1])]
    assert api.get(RUNS, {"start": 2, "size": 1}).json()["ia::meta"] == {
        "totalCount": 3,
        "start": 2,
        "pageSize": 1,
        "next": 3,
        "previous": 1,
    }
    assert_error(
        api.get(RUNS, {"status": "done"}),
        400,
        err(
            "KS-4003",
            "Query parameter status is invalid: not a valid value",
            "status",
            PARAMETER="status",
            REASON="not a valid value",
        ),
    )


def test_permissions(client_for, admin_user):
    the_run = run(admin_user, "RUN-1")
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    viewer = client_for(make_user("viewer", "kitting.view_run"))
    assert viewer.get(f"{RUNS}/{the_run.pk}").status_code == 200
    assert_error(viewer.post(RUNS, {"id": "RUN-2"}, format="json"), 403, forbidden)
    assert_error(
        viewer.patch(f"{RUNS}/{the_run.pk}", {"title": "x"}, format="json"), 403, forbidden
    )
    assert_error(viewer.delete(f"{RUNS}/{the_run.pk}"), 403, forbidden)
    assert_error(client_for(make_user("nobody")).get(RUNS), 403, forbidden)


# --- the read-only lists: kits, outputs, installations -----------------------------------------


@pytest.fixture
def built_run(admin_user):
    """A completed run of 2 serial assemblies with kits, outputs and installations."""

    def build(kits: int, inventories_per_kit: int):
        from kitcomponents.services import kit_component_create

        screw = part(admin_user, f"Screw{kits}")
        asm = part(admin_user, f"ASM{kits}", "stockableKit", enable_serial_no=True)
        kit_component_create(user=admin_user, kit=asm, component=screw, number_of_units=1)
        the_run = run(admin_user, f"RUN-{kits}", part=asm, quantity=2)
        made = []
        for _ in range(kits):
            part_kit = kit(admin_user, the_run)
            for _ in range(inventories_per_kit):
                inventory = stock(admin_user, screw, 3)
                from kitting import services

                services.part_kit_issue(
                    user=admin_user,
                    part_kit_key=part_kit.pk,
                    part_inventory_key=inventory.pk,
                    quantity=2,
                )
                made.append(inventory)
        from kitting import services

        complete(admin_user, the_run)
        return fresh(the_run), made

    return build


def test_detail_renders_kits_outputs_and_installations(api, built_run):
    the_run, inventories = built_run(2, 1)
    result = api.get(f"{RUNS}/{the_run.pk}").json()["ia::result"]
    kits = list(PartKit.objects.filter(run=the_run).order_by("pk"))
    outputs = list(PartInventory.objects.filter(built_by=the_run).order_by("pk"))
    assert result["status"] == "complete"
    assert result["partKits"] == [ref(k) for k in kits]
    assert result["outputs"] == [ref(o) for o in outputs]
    assert result["installations"] == [
        {"partInventory": inventory_ref(i), "quantity": 2} for i in inventories
    ]


def _count(api, path, method="get", body=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = (
            getattr(api, method)(path, body, format="json") if body else getattr(api, method)(path)
        )
    assert response.status_code == 200, response.json()
    return len(captured)


def test_query_counts_do_not_grow_with_kits_outputs_and_installations(api, built_run):
    small, _ = built_run(1, 1)
    large, _ = built_run(6, 4)
    for path in (RUNS, f"{RUNS}/{{}}"):
        counts = [_count(api, path.format(r.pk)) for r in (small, large)]
        assert counts[0] == counts[1], (path, counts)


# --- the admin goes through the same services ----------------------------------------------------


def test_admin_creates_and_completes_runs_through_the_services(client, admin_user):
    client.force_login(admin_user)
    screw = part(admin_user, "Screw")
    form = {"code": "RUN-9", "title": "", "part": screw.pk, "quantity": "0", "status": "todo"}
    refused = client.post("/admin/kitting/run/add/", form)
    assert refused.status_code == 200
    assert b"Quantity is invalid: must be greater than 0" in refused.content
    assert client.post("/admin/kitting/run/add/", {**form, "quantity": "3"}).status_code == 302
    the_run = Run.objects.get(code="RUN-9")
    assert (the_run.quantity, the_run.created_by) == (3, admin_user)

    chosen = {"action": "complete_runs", "_selected_action": [the_run.pk]}
    asked = client.post("/admin/kitting/run/", chosen)
    assert asked.status_code == 200  # where to build
    assert b'name="location"' in asked.content and b"RUN-9" in asked.content
    shelf = warehouse(admin_user, "SHELF")
    done = client.post("/admin/kitting/run/", {**chosen, "apply": "1", "location": shelf.pk})
    assert done.status_code == 302
    assert fresh(the_run).status == "complete"
    [output] = PartInventory.objects.filter(built_by=the_run)
    assert output.quantity == 3
    for url in ("/admin/kitting/run/", "/admin/kitting/run/add/"):
        assert client.get(url).status_code == 200
    page = client.get(f"/admin/kitting/run/{the_run.pk}/change/")
    assert page.status_code == 200
    assert f"Part inventory {output.pk}".encode() in page.content

    again = client.post(
        "/admin/kitting/run/",
        {**chosen, "apply": "1", "location": shelf.pk},
        follow=True,
    )
    assert b"Run RUN-9: Run RUN-9 is complete: only a run that is todo or inProgress" in (
        again.content
    )
    assert PartInventory.objects.filter(built_by=the_run).count() == 1


# --- the query service ---------------------------------------------------------------------------

QUERY = "/services/core/query"


def test_query_runs(api, admin_user, client_for):
    screw = part(admin_user, "Screw")
    first = run(admin_user, "RUN-1", part=screw, quantity=2, title="A")
    run(admin_user, "RUN-2", status="inProgress")
    third = run(admin_user, "RUN-3", part=screw, quantity=D("0.5"))
    body = {
        "object": "inventory-control/run",
        "fields": ["key", "id", "title", "part.id", "quantity", "status", "href"],
        "filters": [{"$eq": {"part.id": "Screw"}}],
        "orderBy": [{"quantity": "asc"}],
    }
    response = api.post(QUERY, body, format="json")
    assert response.json() == {
        "ia::result": [
            {
                "key": str(r.pk),
                "id": r.code,
                "title": r.title,
                "part.id": "Screw",
                "quantity": float(r.quantity) if r.quantity % 1 else int(r.quantity),
                "status": "todo",
                "href": identity.href(r),
            }
            for r in (third, first)
        ],
        "ia::meta": {"totalCount": 2, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    forbidden = make_user("nosy")
    assert_error(
        client_for(forbidden).post(QUERY, body, format="json"),
        403,
        err("KS-4031", "You do not have permission to perform this action"),
    )


def test_query_count_does_not_grow(api, built_run):
    body = {
        "object": "inventory-control/run",
        "fields": ["key", "id", "part.id", "part.name", "status", "audit.createdByUser.id"],
    }
    built_run(1, 1)
    small = _count(api, QUERY, "post", body)
    built_run(5, 3)
    built_run(4, 2)
    assert _count(api, QUERY, "post", body) == small
