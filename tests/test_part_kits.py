"""`inventory-control/part-kit` (contract 7.2): fields, requirements, status rules and the return
of issued stock, deletes, list and detail."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction, PartInventory
from kitcomponents.services import kit_component_create
from kitting import services
from kitting.models import Installation, PartKit, PartKitLine, Run
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import (
    ISSUE,
    KITS,
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


@pytest.fixture
def bench(admin_user):
    """Stock of a lot, a serial and an untracked part; a stockable kit made of them; a run of 3."""
    resin = part(admin_user, "Resin", enable_lot_category=True)
    widget = part(admin_user, "Widget", enable_serial_no=True)
    screw = part(admin_user, "Screw")
    spare = part(admin_user, "Spare")
    asm = part(admin_user, "ASM", "stockableKit")
    kit_component_create(user=admin_user, kit=asm, component=widget, number_of_units=1)
    kit_component_create(user=admin_user, kit=asm, component=resin, number_of_units=D("2.5"))
    kit_component_create(user=admin_user, kit=asm, component=screw, number_of_units=4)
    return {
        "resin": resin,
        "widget": widget,
        "screw": screw,
        "asm": asm,
        "lot1": stock(admin_user, resin, 10, lot_number="L-1"),
        "lot2": stock(admin_user, resin, 10, lot_number="L-2"),
        "serial": stock(admin_user, widget, 1, serial_number="W-1"),
        "loose": stock(admin_user, screw, 100),
        "spare": stock(admin_user, spare, 5),
        "run": run(admin_user, "RUN-1", part=asm, quantity=3),
    }


def test_create_and_get_the_full_object(api, admin_user, bench):
    the_run = bench["run"]
    response = api.post(KITS, {"run": {"id": "RUN-1"}}, format="json")

    part_kit = PartKit.objects.get()
    assert response.status_code == 201
    assert response.json() == {"ia::result": ref(part_kit), "ia::meta": ONE}
    assert ref(part_kit)["id"] == str(part_kit.pk)
    got = api.get(f"{KITS}/{part_kit.pk}")
    assert got["ETag"] == '"1"'

    def requirement(item, required_quantity, issued):
        return {
            "part": ref(item),
            "requiredQuantity": required_quantity,
            "issuedQuantity": issued,
            "shortQuantity": max(0, required_quantity - issued),
        }

    assert got.json() == {
        "ia::result": {
            "key": str(part_kit.pk),
            "id": str(part_kit.pk),
            "run": ref(the_run),
            "status": "draft",
            "partInventories": [],
            # The run's requirement rows, by part key (contract 15.7).
            "requirements": [
                requirement(bench["resin"], 7.5, 0),
                requirement(bench["widget"], 3, 0),
                requirement(bench["screw"], 12, 0),
            ],
            "audit": audit(part_kit, admin_user),
            "href": f"/objects/inventory-control/part-kit/{part_kit.pk}",
        },
        "ia::meta": ONE,
    }

    api.post(ISSUE, issue_body(part_kit, bench["lot1"], 4), format="json")
    api.post(ISSUE, issue_body(part_kit, bench["lot2"], 5), format="json")
    api.post(ISSUE, issue_body(part_kit, bench["serial"]), format="json")
    api.post(ISSUE, issue_body(part_kit, bench["spare"], 2), format="json")
    result = api.get(f"{KITS}/{part_kit.pk}").json()["ia::result"]
    assert result["partInventories"] == [
        {"partInventory": inventory_ref(bench["lot1"]), "issuedQuantity": 4},
        {"partInventory": inventory_ref(bench["lot2"]), "issuedQuantity": 5},
        {"partInventory": inventory_ref(bench["serial"]), "issuedQuantity": 1},
        {"partInventory": inventory_ref(bench["spare"]), "issuedQuantity": 2},
    ]
    # Issued counts per part across its inventories; more than required is not short.
    assert result["requirements"] == [
        {**requirement(bench["resin"], 7.5, 9), "shortQuantity": 0},
        requirement(bench["widget"], 3, 1),
        requirement(bench["screw"], 12, 0),
    ]


def test_requirements_follow_the_run_and_only_for_kits(api, admin_user, bench):
    plain = run(admin_user, "RUN-P", part=bench["screw"])
    no_part = run(admin_user, "RUN-N")
    bundle = part(admin_user, "Bundle", "kit")
    kit_component_create(user=admin_user, kit=bundle, component=bench["screw"], number_of_units=2)
    bundle_run = run(admin_user, "RUN-B", part=bundle, quantity=D("1.5"))
    for the_run, expected in (
        (plain, []),
        (no_part, []),
        (
            bundle_run,
            [
                {
                    "part": ref(bench["screw"]),
                    "requiredQuantity": 3,
                    "issuedQuantity": 0,
                    "shortQuantity": 3,
                }
            ],
        ),
    ):
        part_kit = kit(admin_user, the_run)
        assert api.get(f"{KITS}/{part_kit.pk}").json()["ia::result"]["requirements"] == expected


def test_create_rules(api, admin_user, bench):
    assert_rules(api.post(KITS, {}, format="json"), required("run"))
    assert_rules(api.post(KITS, {"run": None}, format="json"), required("run"))
    assert_rules(
        api.post(KITS, {"run": {"id": "RUN-X"}}, format="json"),
        err(
            "KS-4224",
            "run refers to a inventory-control/run that does not exist: id RUN-X",
            "run",
            FIELD="run",
            OBJECT="inventory-control/run",
            REFERENCE="id RUN-X",
        ),
    )
    assert_rules(
        api.post(KITS, {"run": {"id": "RUN-1"}, "status": "lost"}, format="json"),
        invalid("status", '"lost" is not a valid choice.'),
    )
    assert_error(
        api.post(KITS, {"run": {"id": "RUN-1"}, "lines": []}, format="json"),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/lines is not a valid field", "/lines", FIELD="/lines")],
    )
    canceled = run(admin_user, "RUN-C", status="canceled")
    assert_rules(
        api.post(KITS, {"run": {"key": str(canceled.pk)}}, format="json"),
        run_closed(canceled, "run", "no part kit can be added to it"),
    )
    assert not PartKit.objects.exists()
    created = api.post(KITS, {"run": {"id": "RUN-1"}, "status": "requested"}, format="json")
    assert PartKit.objects.get(pk=created.json()["ia::result"]["key"]).status == "requested"


def test_any_open_status_may_follow_any_other(api, admin_user, bench):
    part_kit = kit(admin_user, bench["run"])
    href = f"{KITS}/{part_kit.pk}"
    for status in ("requested", "inProgress", "delivered", "draft", "delivered"):
        response = api.patch(href, {"status": status}, format="json")
        assert response.json() == {"ia::result": ref(part_kit), "ia::meta": ONE}
        assert fresh(part_kit).status == status


@pytest.mark.parametrize("status", ["completed", "canceled"])
def test_closing_a_kit_by_patch_returns_its_stock(api, admin_user, bench, status):
    lot1, serial, the_run = bench["lot1"], bench["serial"], bench["run"]
    part_kit = kit(admin_user, the_run)
    api.post(ISSUE, issue_body(part_kit, lot1, 4), format="json")
    api.post(ISSUE, issue_body(part_kit, serial), format="json")
    href = f"{KITS}/{part_kit.pk}"

    response = api.patch(href, {"status": status}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    lot1, serial = fresh(lot1), fresh(serial)
    assert (lot1.quantity, lot1.kitted_quantity, lot1.installed_quantity) == (10, 0, 0)
    assert (serial.quantity, serial.kitted_quantity) == (1, 0)
    assert ledger(lot1)[-1] == ("return", 4, -4, 0, 10, part_kit.pk, the_run.pk)
    assert ledger(serial)[-1] == ("return", 1, -1, 0, 1, part_kit.pk, the_run.pk)
    assert lines_of(part_kit) == []
    assert api.get(href).json()["ia::result"]["partInventories"] == []
    assert_ledger_invariant()

    # Nothing moves out of completed or canceled; sending the same status back is fine.
    part_kit = fresh(part_kit)
    before = snapshot(*STATE)
    for other in ("draft", "inProgress", "completed", "canceled"):
        if other == status:
            continue
        assert_rules(
            api.patch(href, {"status": other}, format="json"),
            err(
                "KS-4254",
                f"Part kit {part_kit.pk} is {status}: a completed or canceled kit cannot change "
                "status",
                "status",
                KEY=part_kit.pk,
                STATUS=status,
            ),
        )
    assert snapshot(*STATE) == before
    assert api.patch(href, {"status": status}, format="json").status_code == 200


def test_run_is_immutable(api, admin_user, bench):
    part_kit = kit(admin_user, bench["run"])
    other = run(admin_user, "RUN-2")
    href = f"{KITS}/{part_kit.pk}"
    assert_rules(
        api.patch(href, {"run": {"key": str(other.pk)}}, format="json"),
        err("KS-4223", "run cannot be changed after create", "run", FIELD="run"),
    )
    assert api.patch(href, {"run": {"id": "RUN-1"}}, format="json").status_code == 200


def test_delete(api, admin_user, bench):
    empty = kit(admin_user, bench["run"])
    assert api.delete(f"{KITS}/{empty.pk}").status_code == 204

    holding = kit(admin_user, bench["run"])
    api.post(ISSUE, issue_body(holding, bench["lot1"], 1), format="json")
    api.post(ISSUE, issue_body(holding, bench["loose"], 1), format="json")
    before = snapshot(*STATE)
    inventories = f"{bench['lot1'].pk}, {bench['loose'].pk}"
    assert_error(
        api.delete(f"{KITS}/{holding.pk}"),
        409,
        err(
            "KS-4098",
            f"Part kit {holding.pk} cannot be deleted: it still holds part inventory "
            f"{inventories}; a kit that ever held stock stays in the ledger, so set its status to "
            "canceled instead",
            KEY=holding.pk,
            INVENTORIES=inventories,
        ),
    )
    assert snapshot(*STATE) == before

    # Canceled, it holds nothing, but the ledger's rows name it: it stays.
    api.patch(f"{KITS}/{holding.pk}", {"status": "canceled"}, format="json")
    rows = list(
        InventoryTransaction.objects.filter(part_kit_id=holding.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    references = ", ".join(f"inventory-control/inventory-transaction {key}" for key in rows)
    assert_error(
        api.delete(f"{KITS}/{holding.pk}"),
        409,
        err(
            "KS-4092",
            f"inventory-control/part-kit {holding.pk} cannot be deleted: it is still referenced by "
            f"{references}",
            OBJECT="inventory-control/part-kit",
            KEY=holding.pk,
            REFERENCES=references,
        ),
    )
    assert PartKit.objects.filter(pk=holding.pk).exists()


def test_list_and_filters(api, admin_user, bench):
    other = run(admin_user, "RUN-2")
    kits = [
        kit(admin_user, bench["run"]),
        kit(admin_user, other, status="requested"),
        kit(admin_user, bench["run"], status="requested"),
    ]
    assert api.get(KITS).json() == {
        "ia::result": [ref(k) for k in kits],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    by_run = api.get(KITS, {"run": bench["run"].pk}).json()["ia::result"]
    assert by_run == [ref(kits[0]), ref(kits[2])]
    by_status = api.get("/ia/api/v1" + KITS, {"status": "requested"}).json()["ia::result"]
    assert by_status == [ref(kits[1]), ref(kits[2])]


def test_permissions(client_for, admin_user, bench):
    part_kit = kit(admin_user, bench["run"])
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    viewer = client_for(make_user("viewer", "kitting.view_partkit"))
    assert viewer.get(f"{KITS}/{part_kit.pk}").status_code == 200
    assert_error(viewer.post(KITS, {"run": {"id": "RUN-1"}}, format="json"), 403, forbidden)
    assert_error(
        viewer.patch(f"{KITS}/{part_kit.pk}", {"status": "draft"}, format="json"), 403, forbidden
    )
    assert_error(viewer.delete(f"{KITS}/{part_kit.pk}"), 403, forbidden)


# --- query counts --------------------------------------------------------------------------------


def _filled_kit(admin_user, bench, lines: int, code: str) -> PartKit:
    """A kit of a run whose part has `lines` kit components, holding `lines` inventories."""
    asm = part(admin_user, f"ASM-{code}", "stockableKit")
    the_run = run(admin_user, code, part=asm)
    part_kit = kit(admin_user, the_run)
    for n in range(lines):
        component = part(admin_user, f"{code}-C{n}", enable_lot_category=True)
        kit_component_create(user=admin_user, kit=asm, component=component, number_of_units=1)
        inventory = stock(admin_user, component, 5, lot_number=f"L{n}")
        services.part_kit_issue(
            user=admin_user, part_kit_key=part_kit.pk, part_inventory_key=inventory.pk, quantity=2
        )
    return part_kit


def _queries(api, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_lines_and_components(api, admin_user, bench):
    small = _filled_kit(admin_user, bench, 1, "S")
    details_small = _queries(api, f"{KITS}/{small.pk}")
    list_small = _queries(api, KITS)
    large = _filled_kit(admin_user, bench, 8, "L")
    for _ in range(5):
        _filled_kit(admin_user, bench, 2, f"M{_}")
    assert len(api.get(f"{KITS}/{large.pk}").json()["ia::result"]["partInventories"]) == 8
    assert _queries(api, f"{KITS}/{large.pk}") == details_small
    assert _queries(api, KITS) == list_small


# --- the admin goes through the same services ----------------------------------------------------


def _inline_management(prefix: str, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(initial),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_admin_issues_moves_back_and_cancels_through_the_services(client, admin_user, bench):
    client.force_login(admin_user)
    lot1 = bench["lot1"]
    part_kit = kit(admin_user, bench["run"])
    change = f"/admin/kitting/partkit/{part_kit.pk}/change/"
    issue = f"/admin/kitting/partkit/{part_kit.pk}/issue/"
    move = f"/admin/kitting/partkit/{part_kit.pk}/move-to-inventory/"

    for url in ("/admin/kitting/partkit/", "/admin/kitting/partkit/add/", issue, move):
        assert client.get(url).status_code == 200, url
    page = client.get(change)
    assert page.status_code == 200
    assert issue.encode() in page.content and move.encode() in page.content
    assert b"<td>Resin</td><td>7.5</td><td>0</td><td>7.5</td>" in page.content

    refused = client.post(issue, {"part_inventory": lot1.pk, "quantity": "11"})
    assert refused.status_code == 200
    assert f"Cannot issue 11: part inventory {lot1.pk} has 10 on hand".encode() in refused.content
    assert lines_of(part_kit) == []

    assert client.post(issue, {"part_inventory": lot1.pk, "quantity": "4"}).status_code == 302
    assert lines_of(part_kit) == [(lot1.pk, 4)]
    assert ledger(lot1)[-1] == ("issue", -4, 4, 0, 6, part_kit.pk, bench["run"].pk)
    assert b"<td>Resin</td><td>7.5</td><td>4</td><td>3.5</td>" in client.get(change).content

    assert client.post(move, {"part_inventory": lot1.pk, "quantity": "1"}).status_code == 302
    assert lines_of(part_kit) == [(lot1.pk, 3)]
    assert ledger(lot1)[-1][0] == "return"

    saved = client.post(
        change, {"status": "canceled", **_inline_management("lines", 1), "_save": "Save"}
    )
    assert saved.status_code == 302, saved.content
    assert fresh(part_kit).status == "canceled"
    assert lines_of(part_kit) == []
    assert (fresh(lot1).quantity, fresh(lot1).kitted_quantity) == (10, 0)
    assert_ledger_invariant()

    reopened = client.post(
        change, {"status": "draft", **_inline_management("lines"), "_save": "Save"}
    )
    assert reopened.status_code == 200
    assert b"a completed or canceled kit cannot change status" in reopened.content
    assert fresh(part_kit).status == "canceled"


def test_admin_change_page_query_count_does_not_grow_with_lines(client, admin_user, bench):
    client.force_login(admin_user)
    small = _filled_kit(admin_user, bench, 1, "S")
    large = _filled_kit(admin_user, bench, 10, "L")

    def admin_queries(part_kit) -> tuple[int, bytes]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"/admin/kitting/partkit/{part_kit.pk}/change/")
        assert page.status_code == 200
        return len(captured), page.content

    count_small, _ = admin_queries(small)
    count_large, content = admin_queries(large)
    assert content.count(b"<td>L-C") == 10  # every requirement row is on the page
    assert count_large == count_small


def test_admin_stock_moves_need_both_permissions(client, bench, admin_user):
    part_kit = kit(admin_user, bench["run"])
    user = make_user("clerk", "kitting.change_partkit", "kitting.view_partkit")
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.post(
        f"/admin/kitting/partkit/{part_kit.pk}/issue/",
        {"part_inventory": bench["lot1"].pk, "quantity": "1"},
    )
    assert response.status_code == 403
    assert lines_of(part_kit) == []


# --- the query service ---------------------------------------------------------------------------

QUERY = "/services/core/query"


def test_query_kits_by_run_and_by_what_they_hold(api, admin_user, bench):
    other = run(admin_user, "RUN-2")
    holding = kit(admin_user, bench["run"], status="requested")
    kit(admin_user, other)
    empty = kit(admin_user, bench["run"])
    api.post(ISSUE, issue_body(holding, bench["lot1"], 2), format="json")
    base = {"object": "inventory-control/part-kit", "fields": ["key", "id", "run.id", "status"]}

    by_run = api.post(QUERY, {**base, "filters": [{"$eq": {"run.id": "RUN-1"}}]}, format="json")
    assert by_run.json()["ia::result"] == [
        {"key": str(k.pk), "id": str(k.pk), "run.id": "RUN-1", "status": fresh(k).status}
        for k in (holding, empty)
    ]
    holds = {"$has": {"partInventories.partInventory.key": str(bench["lot1"].pk)}}
    by_stock = api.post(QUERY, {**base, "filters": [holds]}, format="json")
    assert by_stock.json()["ia::result"] == [
        # Requested, and started by the issue (contract 15.3).
        {"key": str(holding.pk), "id": str(holding.pk), "run.id": "RUN-1", "status": "inProgress"}
    ]
    by_part = api.post(
        QUERY,
        {
            "object": "inventory-control/part-kit",
            "fields": ["key", "run.part.id"],
            "filters": [{"$has": {"partInventories.partInventory.part.id": "Resin"}}],
        },
        format="json",
    )
    assert by_part.json()["ia::result"] == [{"key": str(holding.pk), "run.part.id": "ASM"}]


def test_query_count_does_not_grow_with_kits_and_lines(api, admin_user, bench):
    body = {
        "object": "inventory-control/part-kit",
        "fields": ["key", "run.id", "run.part.id", "status"],
        "filters": [{"$has": {"partInventories.partInventory.part.id": "S-C0"}}],
    }

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = api.post(QUERY, body, format="json")
        assert response.status_code == 200, response.json()
        return len(captured), len(response.json()["ia::result"])

    _filled_kit(admin_user, bench, 1, "S")
    small, rows = count()
    assert rows == 1
    for n in range(4):
        _filled_kit(admin_user, bench, 5, f"L{n}")
    assert count() == (small, 1)


@pytest.mark.parametrize("key", ["abc", "99999999", "1e3", "99999999999999999999999"])
@pytest.mark.parametrize("action", ["issue", "move-to-inventory"])
def test_admin_stock_move_pages_of_no_kit_are_404(client, admin_user, key, action):
    client.force_login(admin_user)
    assert client.get(f"/admin/kitting/partkit/{key}/{action}/").status_code == 404
