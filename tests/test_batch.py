"""The batch forms (contract 13.3) beyond what tests/support/objects.py runs for every object: a
failure at one position never touches the others, the transaction header makes a batch all or
nothing, the 500-element limit, the shapes refused whole (400, nothing runs), permissions checked
once, If-Match on every element, and the batch's writes committed before it answers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitcomponents.models import KitComponent
from tests.support import multi
from tests.support.errors import (
    FORBIDDEN,
    assert_error,
    err,
    invalid,
    not_found,
    precondition_failed,
    precondition_required,
    required,
)
from tests.support.factories import kit_line, part, stock, warehouse
from tests.support.multi import (
    ATOMIC,
    answer,
    at,
    failed_item,
    payload_errors,
    unprocessed,
    with_status,
)
from tests.support.protocol import ITEMS, V1, WAREHOUSES, state, unknown_field
from tests.support.refs import ref, snapshot
from tests.support.users import bearer_client, make_user

INVENTORY = "/objects/inventory-control/part-inventory"
ARRAY = "the body must be a JSON array of 1 to 500 objects, not "


def shelf(code: str, **extra) -> dict:
    return {"id": code, "name": f"Shelf {code}", **extra}


def duplicate(code: str) -> dict:
    return err(
        "KS-4091",
        f"inventory-control/warehouse with id {code} already exists",
        "id",
        OBJECT="inventory-control/warehouse",
        FIELD="id",
        VALUE=code,
    )


def still_referenced(item: Item, line: KitComponent) -> dict:
    references = f"inventory-control/kit-component {line.pk}"
    return err(
        "KS-4092",
        f"inventory-control/item {item.pk} cannot be deleted: it is still referenced by "
        f"{references}",
        OBJECT="inventory-control/item",
        KEY=item.pk,
        REFERENCES=references,
    )


# --- POST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["", V1])
def test_a_failed_element_is_reported_at_its_position_and_the_others_are_written(
    api, admin_user, base
):
    warehouse(admin_user, "DUP")
    response = api.post(
        base + WAREHOUSES,
        [shelf("A"), shelf("DUP"), {"id": "B"}, shelf("C", floor=2), shelf("D")],
        format="json",
    )
    a, d = Warehouse.objects.get(code="A"), Warehouse.objects.get(code="D")
    results = [
        with_status(ref(a), 201),
        failed_item(response, 409, duplicate("DUP")),
        failed_item(response, 422, invalid_rules(required("name"))),
        failed_item(response, 400, payload_errors(unknown_field("/floor"))),
        with_status(ref(d), 201),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 2))
    assert sorted(Warehouse.objects.values_list("code", flat=True)) == ["A", "D", "DUP"]


def invalid_rules(*details: dict) -> dict:
    return err("KS-4220", "The operation could not be completed", details=list(details))


def test_with_the_transaction_header_a_failure_rolls_the_batch_back(api, admin_user):
    warehouse(admin_user, "DUP")
    before = state()
    response = api.post(WAREHOUSES, [shelf("A"), shelf("DUP"), shelf("B")], format="json", **ATOMIC)
    results = [
        unprocessed(response, 1, rolled_back=True),
        failed_item(response, 409, duplicate("DUP")),
        unprocessed(response, 1, rolled_back=True),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 0))
    assert state() == before


def test_with_the_transaction_header_a_batch_that_succeeds_commits(api):
    response = api.post(WAREHOUSES, [shelf("A"), shelf("B")], format="json", **ATOMIC)
    made = Warehouse.objects.order_by("pk")
    results = [with_status(ref(row), 201) for row in made]
    assert (response.status_code, response.json()) == (201, answer(results))


def test_at_most_500_records(api):
    response = api.post(WAREHOUSES, [shelf(f"W{n}") for n in range(500)], format="json")
    assert (response.status_code, response.json()["ia::meta"]) == (
        201,
        {"totalCount": 500, "totalSuccess": 500, "totalError": 0},
    )
    assert Warehouse.objects.count() == 500
    before = state()
    response = api.post(WAREHOUSES, [shelf(f"X{n}") for n in range(501)], format="json")
    assert_error(response, 400, multi.invalid("batch", ARRAY + "501"))
    assert state() == before


MALFORMED = {
    "an empty array": ("post", WAREHOUSES, [], multi.invalid("batch", ARRAY + "0")),
    "an element not an object": (
        "post",
        WAREHOUSES,
        [shelf("A"), [shelf("B")], "C"],
        payload_errors(at("/1", "must be a JSON object"), at("/2", "must be a JSON object")),
    ),
    "a PATCH of an object": (
        "patch",
        WAREHOUSES,
        {"key": "1"},
        multi.invalid("batch", ARRAY + "an object"),
    ),
    "a PATCH of nothing": ("patch", WAREHOUSES, [], multi.invalid("batch", ARRAY + "0")),
    "a PATCH element without its key": (
        "patch",
        WAREHOUSES,
        [{"key": "1", "name": "x"}, {"name": "y"}, {"key": True}, {"key": ""}],
        payload_errors(
            at("/1/key", "must be the key of the object to change"),
            at("/2/key", "must be the key of the object to change"),
            at("/3/key", "must be the key of the object to change"),
        ),
    ),
    "a GET with an empty key": (
        "get",
        f"{WAREHOUSES}/1,,2",
        None,
        multi.invalid("batch", "the list of keys has an empty key at position 2"),
    ),
    "a DELETE with a trailing comma": (
        "delete",
        f"{WAREHOUSES}/1,",
        None,
        multi.invalid("batch", "the list of keys has an empty key at position 2"),
    ),
    "501 keys": (
        "delete",
        f"{WAREHOUSES}/{','.join(str(n) for n in range(1, 502))}",
        None,
        multi.invalid("batch", "at most 500 keys, not 501"),
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_batch_is_400_and_runs_nothing(api, admin_user, name):
    method, url, body, error = MALFORMED[name]
    warehouse(admin_user, "W1")  # key 1, which the requests would change or delete
    before = state()
    response = getattr(api, method)(url, body, format="json")
    assert_error(response, 400, error)
    assert state() == before


def test_a_bad_transaction_header_is_400_and_runs_nothing(api):
    before = state()
    response = api.post(
        WAREHOUSES, [shelf("A")], format="json", HTTP_X_IA_API_PARAM_TRANSACTION="1"
    )
    error = err(
        "KS-4027",
        "Header X-IA-API-Param-Transaction is invalid: true or false",
        HEADER="X-IA-API-Param-Transaction",
        REASON="true or false",
    )
    assert_error(response, 400, error)
    assert state() == before


def test_a_keyed_batch_answers_once(api, admin_user):
    warehouse(admin_user, "DUP")
    bodies = [shelf("A"), shelf("DUP")]
    first = api.post(WAREHOUSES, bodies, format="json", HTTP_IDEMPOTENCY_KEY="two-shelves")
    again = api.post(WAREHOUSES, bodies, format="json", HTTP_IDEMPOTENCY_KEY="two-shelves")
    assert (first.status_code, again.status_code) == (207, 207)
    assert again.json() == first.json()
    assert again["x-ia-idempotency-cached-date"]
    assert sorted(Warehouse.objects.values_list("code", flat=True)) == ["A", "DUP"]


# --- PATCH ---------------------------------------------------------------------------------------


def test_patch_elements_fail_alone(api, admin_user):
    a, b, c = (warehouse(admin_user, code) for code in ("A", "B", "C"))
    api.patch(f"{WAREHOUSES}/{b.pk}", {"name": "Changed once"}, format="json")  # version 2
    response = api.patch(
        WAREHOUSES,
        [
            {"key": str(a.pk), "name": "New A"},
            {"key": "999999", "name": "x"},
            {"key": str(b.pk), "name": "New B"},
            {"key": c.pk, "status": "sideways"},
        ],
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    wrong_status = invalid("status", '"sideways" is not a valid choice.')
    results = [
        with_status(ref(a), 200),
        failed_item(response, 404, not_found("inventory-control/warehouse", 999999)),
        failed_item(response, 412, precondition_failed('"1"', '"2"')),
        failed_item(response, 422, invalid_rules(wrong_status)),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))
    rows = Warehouse.objects.order_by("code").values_list("code", "name", "status", "version")
    assert list(rows) == [
        ("A", "New A", "active", 2),
        ("B", "Changed once", "active", 2),
        ("C", "Main shelf", "active", 1),
    ]


def test_if_match_required_on_each_element_star_matches_any_version(api, admin_user):
    paper = part(admin_user, "Paper")
    first, second = stock(admin_user, paper, 3), stock(admin_user, paper, 4)
    changes = [{"key": str(first.pk), "cost": "1.50"}, {"key": str(second.pk), "cost": "2"}]
    before = snapshot(PartInventory, InventoryTransaction)
    response = api.patch(INVENTORY, changes, format="json")
    missing = precondition_required("inventory-control/part-inventory")
    results = [failed_item(response, 428, missing), failed_item(response, 428, missing)]
    assert (response.status_code, response.json()) == (207, answer(results, 0))
    assert snapshot(PartInventory, InventoryTransaction) == before

    response = api.patch(INVENTORY, changes, format="json", HTTP_IF_MATCH="*")
    results = [with_status(ref(first), 200), with_status(ref(second), 200)]
    assert (response.status_code, response.json()) == (200, answer(results))
    costs = PartInventory.objects.order_by("pk").values_list("cost", "version")
    assert [(str(cost), version) for cost, version in costs] == [
        ("1.5000000000", 2),
        ("2.0000000000", 2),
    ]


# --- DELETE and GET ------------------------------------------------------------------------------


def test_deleting_a_referenced_item_fails_at_its_position(api, admin_user):
    kit, paper, ink = (
        part(admin_user, "Kit", "kit"),
        part(admin_user, "Paper"),
        part(admin_user, "Ink"),
    )
    line = kit_line(admin_user, kit, paper)
    response = api.delete(f"{ITEMS}/{ink.pk},{paper.pk},{kit.pk}")
    results = [
        {"ia::status": 204},
        failed_item(response, 409, still_referenced(paper, line)),
        failed_item(response, 409, still_referenced(kit, line)),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))
    assert sorted(Item.objects.values_list("code", flat=True)) == ["Kit", "Paper"]

    before = state()
    response = api.delete(f"{ITEMS}/{paper.pk},{kit.pk}", **ATOMIC)
    results = [
        failed_item(response, 409, still_referenced(paper, line)),
        unprocessed(response, 0, rolled_back=True),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 0))
    assert state() == before


def test_a_batch_get_answers_in_the_order_asked_repeats_included(api, admin_user):
    a, b = warehouse(admin_user, "A"), warehouse(admin_user, "B")
    single = {obj.pk: api.get(f"{WAREHOUSES}/{obj.pk}").json()["ia::result"] for obj in (a, b)}
    response = api.get(f"{WAREHOUSES}/{b.pk},{a.pk},{b.pk}")
    assert (response.status_code, response.json()) == (
        200,
        answer([single[b.pk], single[a.pk], single[b.pk]]),
    )
    response = api.get(f"{WAREHOUSES}/{b.pk},abc")
    results = [
        with_status(single[b.pk], 200),
        failed_item(response, 404, not_found("inventory-control/warehouse", "abc")),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))


# --- permissions: once, for the whole request ----------------------------------------------------


def test_a_user_without_the_permission_is_refused_before_any_element_runs(admin_user):
    w = warehouse(admin_user, "A")
    before = state()
    reader = bearer_client(make_user("reader", "inventory.view_warehouse"))
    assert_error(reader.post(WAREHOUSES, [shelf("B"), shelf("C")], format="json"), 403, FORBIDDEN)
    assert_error(
        reader.patch(WAREHOUSES, [{"key": str(w.pk), "name": "x"}], format="json"), 403, FORBIDDEN
    )
    assert_error(reader.delete(f"{WAREHOUSES}/{w.pk},{w.pk}"), 403, FORBIDDEN)
    adder = bearer_client(make_user("adder", "inventory.add_warehouse"))
    assert_error(adder.get(f"{WAREHOUSES}/{w.pk},{w.pk}"), 403, FORBIDDEN)
    assert state() == before


# --- committed before the answer ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_element_is_committed_before_the_batch_answers(api, admin_user):
    """Outside a test transaction, as in production: the elements are committed (on PostgreSQL
    without waiting for the disk each, then flushed once) and the connection's setting is back."""
    warehouse(admin_user, "DUP")
    response = api.post(WAREHOUSES, [shelf("A"), shelf("DUP"), shelf("B")], format="json")
    assert response.status_code == 207
    assert sorted(Warehouse.objects.values_list("code", flat=True)) == ["A", "B", "DUP"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)


# --- cheaper than single requests -----------------------------------------------------------------


def test_a_batch_reads_each_referenced_object_once(api, admin_user):
    """The elements share one serializer: an object they refer to is read for the first only
    (each element gets its own copy); a reference to nothing fails every element naming it."""
    paper = part(admin_user, "Paper")
    bodies = [{"part": {"id": "Paper"}, "quantity": n} for n in (1, 2, 3)]
    bodies.insert(1, {"part": {"id": "Nothing"}, "quantity": 1})
    bodies.append({"part": {"id": "Nothing"}, "quantity": 1})
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(INVENTORY, bodies, format="json")
    lookups = [q["sql"] for q in ctx.captured_queries if '"inventory_item"."code" =' in q["sql"]]
    assert len(lookups) == 2  # Paper, Nothing
    made = list(PartInventory.objects.order_by("pk"))
    assert [(row.part, row.quantity) for row in made] == [(paper, 1), (paper, 2), (paper, 3)]
    nothing = err(
        "KS-4224",
        "part refers to a inventory-control/item that does not exist: id Nothing",
        "part",
        FIELD="part",
        OBJECT="inventory-control/item",
        REFERENCE="id Nothing",
    )
    missing = failed_item(response, 422, invalid_rules(nothing))
    results = [with_status(ref(row), 201) for row in made]
    results = [results[0], missing, results[1], results[2], missing]
    assert (response.status_code, response.json()) == (207, answer(results, 3))
