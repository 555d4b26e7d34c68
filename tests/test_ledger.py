"""inventory-control/inventory-transaction (contract 8) and the ledger invariant of 7.5."""

import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from config.api import identity
from core.errors import DomainError, DomainErrors
from inventory import services
from inventory.models import InventoryTransaction, LedgerIsImmutable, PartInventory
from kitting.models import PartKit, Run
from tests.support.errors import assert_error, not_allowed
from tests.support.part_inventory import install, issue
from tests.support.refs import ONE, ref
from tests.support.users import make_user

LEDGER = "/objects/inventory-control/inventory-transaction"
PI = "/objects/inventory-control/part-inventory"

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")


@pytest.fixture
def parts(admin_user):
    def item(code, **fields):
        return services.item_create(
            user=admin_user, code=code, name=code, item_type="inventory", **fields
        )

    return {
        "serial": item("Widget", enable_serial_no=True),
        "lot": item("Resin", enable_lot_category=True),
        "untracked": item("Screw"),
    }


def row_of(forced_api, row: InventoryTransaction) -> dict:
    response = forced_api.get(f"{LEDGER}/{row.pk}")
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"1"'
    result = response.json()
    assert result["ia::meta"] == ONE
    result = result["ia::result"]
    audit = result.pop("audit")
    assert audit["createdBy"] == audit["modifiedBy"]
    return result


def test_rows_for_create_adjust_and_delete(forced_api, admin_user, parts):
    part = parts["lot"]
    created = forced_api.post(
        PI, {"part": {"key": str(part.pk)}, "lotNumber": "L1", "quantity": 5}, format="json"
    )
    assert created.status_code == 201
    inventory = PartInventory.objects.get()
    inventory_ref = {
        "key": str(inventory.pk),
        "id": str(inventory.pk),
        "href": identity.href(inventory),
    }
    assert (
        forced_api.patch(
            identity.href(inventory), {"quantity": 2.25}, format="json", HTTP_IF_MATCH='"1"'
        ).status_code
        == 200
    )
    assert forced_api.delete(identity.href(inventory), HTTP_IF_MATCH='"2"').status_code == 204

    rows = list(InventoryTransaction.objects.order_by("pk"))
    assert [row_of(forced_api, row) for row in rows] == [
        {
            "key": str(row.pk),
            "id": str(row.pk),
            # Rendered from the stored key: the inventory is gone, its history is not.
            "partInventory": inventory_ref,
            "part": ref(part),
            "type": kind,
            "quantity": quantity,
            "kittedQuantity": 0,
            "installedQuantity": 0,
            "quantityAfter": after,
            "partKit": None,
            "run": None,
            "reason": "",
            "fromLocation": None,
            "toLocation": None,
            "href": f"{LEDGER}/{row.pk}",
        }
        for row, (kind, quantity, after) in zip(
            rows, [("create", 5, 5), ("adjust", -2.75, 2.25), ("delete", -2.25, 0)], strict=True
        )
    ]


def test_issue_and_install_rows_name_the_kit_and_run(forced_api, admin_user, parts):
    inventory = services.part_inventory_create(
        user=admin_user, part=parts["serial"], serial_number="S1", quantity=1
    )
    run = Run.objects.create(code="R-1")
    kit = PartKit.objects.create(run=run)
    issue(inventory, kit, 1, admin_user)
    install(inventory, kit, 1, admin_user)
    # Completion also builds an output with its own ledger row: read this inventory's rows.
    issued, installed = InventoryTransaction.objects.filter(part_inventory=inventory).order_by(
        "pk"
    )[1:]
    kit_ref = {"key": str(kit.pk), "id": str(kit.pk), "href": identity.href(kit)}
    got = row_of(forced_api, issued)
    assert {k: got[k] for k in got if k not in ("key", "id", "href", "partInventory", "part")} == {
        "type": "issue",
        "quantity": -1,
        "kittedQuantity": 1,
        "installedQuantity": 0,
        "quantityAfter": 0,
        "partKit": kit_ref,
        "run": ref(run),
        "reason": "",
        "fromLocation": None,
        "toLocation": None,
    }
    got = row_of(forced_api, installed)
    assert (got["type"], got["quantity"], got["kittedQuantity"], got["installedQuantity"]) == (
        "install",
        0,
        -1,
        1,
    )
    assert (got["partKit"], got["run"]) == (kit_ref, ref(run))


def test_list_and_filters(forced_api, admin_user, parts):
    a = services.part_inventory_create(user=admin_user, part=parts["untracked"], quantity=3)
    b = services.part_inventory_create(user=admin_user, part=parts["lot"], lot_number="L")
    services.part_inventory_update(part_inventory_key=a.pk, user=admin_user, quantity=1)
    kit = PartKit.objects.create(run=Run.objects.create(code="R-1"))
    issue(a, kit, 1, admin_user)
    rows = {
        row.type + str(row.part_inventory_id): row.pk for row in InventoryTransaction.objects.all()
    }

    def keys(query=""):
        response = forced_api.get(f"{LEDGER}{query}")
        assert response.status_code == 200, response.content
        return [int(row["key"]) for row in response.json()["ia::result"]]

    listed = forced_api.get(LEDGER).json()
    assert listed["ia::meta"] == {
        "totalCount": 4,
        "start": 1,
        "pageSize": 100,
        "next": None,
        "previous": None,
    }
    assert listed["ia::result"][0] == {
        "key": str(min(rows.values())),
        "id": str(min(rows.values())),
        "href": f"{LEDGER}/{min(rows.values())}",
    }
    assert keys(f"?partInventory={a.pk}") == [
        rows[f"create{a.pk}"],
        rows[f"adjust{a.pk}"],
        rows[f"issue{a.pk}"],
    ]
    assert keys("?type=create") == [rows[f"create{a.pk}"], rows[f"create{b.pk}"]]
    assert keys(f"?part={parts['lot'].pk}") == [rows[f"create{b.pk}"]]
    assert keys(f"?partKit={kit.pk}") == [rows[f"issue{a.pk}"]]
    assert keys(f"?run={kit.run_id}&type=issue") == [rows[f"issue{a.pk}"]]
    assert keys("?start=2&size=1") == [sorted(rows.values())[1]]
    for bad in ("?type=bogus", "?partInventory=x"):
        response = forced_api.get(f"{LEDGER}{bad}")
        assert response.status_code == 400
        assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4003"


@pytest.mark.parametrize("who", ["admin", "reader"])
def test_writes_are_405(forced_api, client_for, admin_user, parts, who):
    inventory = services.part_inventory_create(user=admin_user, part=parts["untracked"], quantity=1)
    row = InventoryTransaction.objects.get()
    if who == "reader":
        forced_api = client_for(make_user("reader", "inventory.view_inventorytransaction"))
    one = f"{LEDGER}/{row.pk}"
    body = {"partInventory": {"key": str(inventory.pk)}, "type": "adjust", "quantity": 5}
    for method, path in [("POST", LEDGER), ("PATCH", one), ("PUT", one), ("DELETE", one)]:
        call = getattr(forced_api, method.lower())
        response = call(path, body, format="json") if method != "DELETE" else call(path)
        assert_error(response, 405, not_allowed(method, path))
    # Also under the Intacct prefix.
    response = forced_api.post(f"/ia/api/v1{LEDGER}", body, format="json")
    assert_error(response, 405, not_allowed("POST", f"/ia/api/v1{LEDGER}"))
    assert list(InventoryTransaction.objects.values_list("pk", "type", "quantity")) == [
        (row.pk, "create", 1)
    ]
    assert forced_api.get(one).status_code == 200


def test_reads_need_authentication_and_view_permission(client_for, admin_user, parts):
    from rest_framework.test import APIClient

    services.part_inventory_create(user=admin_user, part=parts["untracked"], quantity=1)
    assert APIClient().get(LEDGER).status_code == 401
    assert APIClient().post(LEDGER, {}, format="json").status_code == 401
    nobody = client_for(make_user("nobody"))
    assert nobody.get(LEDGER).status_code == 403


def test_rows_refuse_update_and_delete_in_the_orm(admin_user, parts):
    services.part_inventory_create(user=admin_user, part=parts["untracked"], quantity=1)
    row = InventoryTransaction.objects.get()
    row.quantity = 100
    with pytest.raises(LedgerIsImmutable):
        row.save()
    with pytest.raises(LedgerIsImmutable):
        row.delete()
    with pytest.raises(LedgerIsImmutable):
        InventoryTransaction.objects.filter(pk=row.pk).update(quantity=100)
    with pytest.raises(LedgerIsImmutable):
        InventoryTransaction.objects.all().delete()
    row.refresh_from_db()
    assert row.quantity == 1


@on_postgresql
def test_postgresql_trigger_refuses_raw_update_and_delete(admin_user, parts):
    clerk = User.objects.create_user("clerk")
    services.part_inventory_create(user=clerk, part=parts["untracked"], quantity=1)
    row = InventoryTransaction.objects.get()
    table = InventoryTransaction._meta.db_table
    for sql in (
        f"UPDATE {table} SET quantity = 7 WHERE key = %s",
        f"UPDATE {table} SET created_by_id = {admin_user.pk} WHERE key = %s",
        f"DELETE FROM {table} WHERE key = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="ledger_immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    # Deleting the user who wrote it only clears the audit reference (SET_NULL).
    clerk.delete()
    assert InventoryTransaction.objects.values_list("created_by_id", "quantity").get() == (
        None,
        1,
    )


@on_postgresql
def test_postgresql_trigger_keeps_inventory_matching_its_part(admin_user, parts, items):
    cases = [
        (parts["serial"], {"lot_number": "L"}, "part_inventory_matches_part_tracking"),
        (
            parts["lot"],
            {"serial_number": "S", "lot_number": "L"},
            "part_inventory_matches_part_tracking",
        ),
        (parts["lot"], {}, "part_inventory_matches_part_tracking"),
        (parts["untracked"], {"lot_number": "L"}, "part_inventory_matches_part_tracking"),
        (items["NonInv"], {}, "part_inventory_part_is_stocked"),
        (items["Kit_1"], {}, "part_inventory_part_is_stocked"),
    ]
    for part, fields, constraint in cases:
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            PartInventory.objects.create(part=part, **fields)
    ok = PartInventory.objects.create(part=parts["serial"], serial_number="S", lot_number="L")
    with (
        pytest.raises(IntegrityError, match="part_inventory_matches_part_tracking"),
        transaction.atomic(),
    ):
        PartInventory.objects.filter(pk=ok.pk).update(serial_number=None)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"serial_number": "S", "quantity": 2}, "part_inventory_serial_is_one_unit"),
        (
            {"serial_number": "S", "quantity": 1, "kitted_quantity": 1},
            "part_inventory_serial_is_one_unit",
        ),
        ({"quantity": -1}, "part_inventory_quantity_not_negative"),
        ({"serial_number": ""}, "part_inventory_serial_not_blank"),
    ],
)
def test_inventory_check_constraints(parts, fields, constraint):
    # A part whose tracking fits the row, so only the constraint under test can refuse it.
    part = parts["serial"] if "serial_number" in fields else parts["untracked"]
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        PartInventory.objects.create(part=part, **fields)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"type": "bogus"}, "ledger_type_valid"),
        ({"type": "create", "kitted_quantity": 1}, "ledger_create_adjust_on_hand_only"),
        ({"type": "adjust", "installed_quantity": 1}, "ledger_create_adjust_on_hand_only"),
        ({"type": "delete", "quantity_after": 1}, "ledger_delete_leaves_zero"),
        ({"type": "issue", "quantity": -1, "kitted_quantity": 2}, "ledger_moves_sum_to_zero"),
        ({"type": "create", "quantity_after": -1}, "ledger_quantity_after_not_negative"),
    ],
)
def test_ledger_check_constraints(admin_user, parts, fields, constraint):
    inventory = services.part_inventory_create(user=admin_user, part=parts["untracked"])
    fields = {"quantity_after": 0, **fields}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        InventoryTransaction.objects.create(
            part_inventory=inventory, part=parts["untracked"], **fields
        )


def assert_ledger_explains_every_unit(ever: set[int]) -> None:
    """7.5: for every inventory (deleted ones too, as zero), each quantity equals the sum of its
    change over the ledger rows."""
    sums = {
        row["part_inventory_id"]: row
        for row in InventoryTransaction.objects.values("part_inventory_id").annotate(
            q=Sum("quantity"), k=Sum("kitted_quantity"), i=Sum("installed_quantity")
        )
    }
    current = {
        row["pk"]: row
        for row in PartInventory.objects.values(
            "pk", "quantity", "kitted_quantity", "installed_quantity"
        )
    }
    assert set(sums) == ever
    for key in ever:
        held = current.get(key, {"quantity": 0, "kitted_quantity": 0, "installed_quantity": 0})
        assert (sums[key]["q"], sums[key]["k"], sums[key]["i"]) == (
            held["quantity"],
            held["kitted_quantity"],
            held["installed_quantity"],
        ), key
    # quantity_after is the running on-hand total.
    running: dict[int, Decimal] = defaultdict(Decimal)
    for key, delta, after in InventoryTransaction.objects.order_by("pk").values_list(
        "part_inventory_id", "quantity", "quantity_after"
    ):
        running[key] += delta
        assert running[key] == after


def test_ledger_invariant_after_a_random_sequence(admin_user, parts):
    rng = random.Random(20261124)
    ever: set[int] = set()
    kits = [PartKit.objects.create(run=Run.objects.create(code=f"R-{n}")) for n in range(3)]
    counts: dict[str, int] = defaultdict(int)
    for step in range(200):
        live = list(PartInventory.objects.order_by("pk"))
        action = rng.choice(["create", "create", "adjust", "adjust", "delete", "issue"])
        if not live:
            action = "create"
        try:
            if action == "create":
                kind = rng.choice(["serial", "lot", "untracked"])
                fields = {
                    "serial": {"autogenerate_serial_number": True, "quantity": rng.choice([0, 1])},
                    "lot": {"lot_number": f"L{step}", "quantity": rng.randint(0, 20)},
                    "untracked": {"quantity": Decimal(rng.randint(-2, 40)) / 4},
                }[kind]
                inventory = services.part_inventory_create(
                    user=admin_user, part=parts[kind], **fields
                )
                ever.add(inventory.pk)
            elif action == "adjust":
                inventory = rng.choice(live)
                quantity = Decimal(rng.randint(-2, 30)) / 2
                services.part_inventory_update(
                    part_inventory_key=inventory.pk, user=admin_user, quantity=quantity
                )
            elif action == "delete":
                services.part_inventory_delete(
                    part_inventory_key=rng.choice(live).pk, user=admin_user
                )
            else:
                inventory = rng.choice([i for i in live if i.quantity >= 1] or live)
                kit = rng.choice(kits)
                if inventory.quantity < 1 or inventory.kit_lines.filter(part_kit=kit).exists():
                    raise DomainError("conflict", REASON="nothing to issue")
                issue(inventory, kit, 1, admin_user)
            counts[action] += 1
        except (DomainError, DomainErrors):
            counts[f"{action} refused"] += 1
        if step % 25 == 0:
            assert_ledger_explains_every_unit(ever)
    assert_ledger_explains_every_unit(ever)
    # The sequence really exercised every path, refusals included.
    for key in ("create", "adjust", "delete", "issue", "adjust refused", "delete refused"):
        assert counts[key] > 0, (key, dict(counts))


def test_list_and_detail_query_counts_do_not_grow(forced_api, admin_user, parts):
    def populate(n: int) -> InventoryTransaction:
        for i in range(n):
            inventory = services.part_inventory_create(
                user=admin_user, part=parts["untracked"], quantity=5
            )
            kit = PartKit.objects.create(run=Run.objects.create(code=f"R-{n}-{i}"))
            issue(inventory, kit, 1, admin_user)
            services.part_inventory_delete(
                part_inventory_key=services.part_inventory_create(
                    user=admin_user, part=parts["lot"], lot_number="L", quantity=1
                ).pk,
                user=admin_user,
            )
        return InventoryTransaction.objects.filter(type="issue").last()

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = forced_api.get(url)
        assert response.status_code == 200, response.content
        return len(queries)

    one = populate(1)
    list_one, detail_one = count(LEDGER), count(f"{LEDGER}/{one.pk}")
    many = populate(8)
    assert InventoryTransaction.objects.count() == 36
    assert count(LEDGER) == list_one
    assert count(f"{LEDGER}/{many.pk}") == detail_one


QUERY = "/services/core/query"


def test_query_service_reads_both_objects(forced_api, admin_user, parts):
    kept = services.part_inventory_create(
        user=admin_user, part=parts["serial"], serial_number="S1", quantity=1
    )
    gone = services.part_inventory_create(user=admin_user, part=parts["lot"], lot_number="L9")
    services.part_inventory_delete(part_inventory_key=gone.pk, user=admin_user)
    kit = PartKit.objects.create(run=Run.objects.create(code="R-1"))
    issue(kept, kit, 1, admin_user)

    response = forced_api.post(
        QUERY,
        {
            "object": "inventory-control/part-inventory",
            "fields": [
                "key",
                "part.id",
                "serialNumber",
                "trackingType",
                "quantity",
                "kittedQuantity",
                "kitted",
                "installed",
                "etag",
                "unitOfMeasure",
            ],
            "filters": [{"$eq": {"kitted": True}}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["ia::result"] == [
        {
            "key": str(kept.pk),
            "part.id": "Widget",
            "serialNumber": "S1",
            "trackingType": "serial",
            "quantity": 0,
            "kittedQuantity": 1,
            "kitted": True,
            "installed": False,
            "etag": '"2"',
            "unitOfMeasure": "each",
        }
    ]
    response = forced_api.post(
        QUERY,
        {
            "object": "inventory-control/inventory-transaction",
            "fields": ["partInventory.key", "type", "quantity", "quantityAfter", "partKit.key"],
            "filters": [{"$in": {"type": ["create", "delete", "issue"]}}],
            "orderBy": [{"key": "asc"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["ia::result"] == [
        {
            "partInventory.key": str(kept.pk),
            "type": "create",
            "quantity": 1,
            "quantityAfter": 1,
            "partKit.key": None,
        },
        {
            "partInventory.key": str(gone.pk),
            "type": "create",
            "quantity": 0,
            "quantityAfter": 0,
            "partKit.key": None,
        },
        {
            "partInventory.key": str(gone.pk),
            "type": "delete",
            "quantity": 0,
            "quantityAfter": 0,
            "partKit.key": None,
        },
        {
            "partInventory.key": str(kept.pk),
            "type": "issue",
            "quantity": -1,
            "quantityAfter": 0,
            "partKit.key": str(kit.pk),
        },
    ]


def test_query_counts_do_not_grow(forced_api, admin_user, parts):
    body = {
        "object": "inventory-control/part-inventory",
        "fields": ["key", "part.id", "trackingType", "kitted", "builtBy.id", "location.id"],
    }
    ledger_body = {
        "object": "inventory-control/inventory-transaction",
        "fields": ["key", "partInventory.key", "part.id", "run.id", "partKit.key", "type"],
    }

    def populate(n):
        for _ in range(n):
            inventory = services.part_inventory_create(
                user=admin_user, part=parts["untracked"], quantity=3
            )
            issue(
                inventory,
                PartKit.objects.create(run=Run.objects.create(code=f"R{_}-{n}")),
                1,
                admin_user,
            )

    def count(payload) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = forced_api.post(QUERY, payload, format="json")
        assert response.status_code == 200, response.content
        return len(queries)

    populate(1)
    counts = count(body), count(ledger_body)
    populate(10)
    assert (count(body), count(ledger_body)) == counts
