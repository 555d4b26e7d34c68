"""Contract 12.1 over real HTTP: `Idempotency-Key` on POST and PATCH under /objects and
/workflows. The answers, the rows they leave and the stored answers, exactly; the parallel
requests against a multi-process server are in tests/test_idempotency_concurrency.py."""

import json
import re
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_application_model
from rest_framework.test import APIClient

from config.api.idempotency import lock_id
from config.api.models import IdempotencyKey
from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from tests.support.errors import FORBIDDEN, NOT_AUTHENTICATED, assert_error, err, failed
from tests.support.factories import part
from tests.support.kitting import ISSUE, exceeds_on_hand, issue_body
from tests.support.protocol import V1, WAREHOUSES
from tests.support.refs import created, snapshot
from tests.support.users import bearer_client, make_user

ITEMS = "/objects/inventory-control/item"
CACHED = "x-ia-idempotency-cached-date"
UTC_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ITEM = {"id": "Prnt_Toner", "name": "Toner", "itemType": "inventory"}


def keyed(client, method, path, body, key, **headers):
    """A request with a JSON body (a string is sent as it is) and an Idempotency-Key."""
    data = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(
        path, data, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **headers
    )


def stored():
    return list(IdempotencyKey.objects.order_by("pk"))


def cached_date(row: IdempotencyKey) -> str:
    return row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_replayed(first, again, row: IdempotencyKey):
    """`again` is `first` replayed from `row`: status, bytes, Location, ETag, the two headers."""
    assert (again.status_code, again.content) == (first.status_code, first.content)
    for name in ("Content-Type", "Location", "ETag"):
        assert again.get(name) == first.get(name), name
    assert again["Idempotency-Key"] == row.key
    assert again[CACHED] == cached_date(row)
    assert UTC_SECONDS.match(again[CACHED])


def reused(key):
    return err(
        "KS-4095", f"Idempotency-Key {key} was already used for a different request", KEY=key
    )


def in_flight(key):
    return err(
        "KS-4096",
        f"A request with Idempotency-Key {key} is still in progress; retry once it has answered",
        KEY=key,
    )


INVALID_KEY = err("KS-4019", "Idempotency-Key must be 1 to 256 printable ASCII characters")


# --- the first answer, and the same answer again ------------------------------------------------


def test_a_keyed_create_sent_twice_creates_one_item_and_replays_the_201(api, admin_user):
    first = keyed(api, "post", ITEMS, ITEM, "create-toner-1")

    item = Item.objects.get()
    assert first.status_code == 201
    assert first.json() == created(item)
    assert first["Location"] == f"/objects/inventory-control/item/{item.pk}"
    assert first["ETag"] == '"1"'
    assert first["Idempotency-Key"] == "create-toner-1"
    assert CACHED not in first
    (row,) = stored()
    assert (row.key, row.user, row.status) == ("create-toner-1", admin_user, 201)
    assert row.application_id == get_application_model().objects.get().pk
    assert row.body == first.content.decode()
    assert row.headers == {
        "Content-Type": first["Content-Type"],
        "Location": first["Location"],
        "ETag": '"1"',
    }

    again = keyed(api, "post", ITEMS, ITEM, "create-toner-1")

    assert_replayed(first, again, row)
    assert again["X-Request-Id"] != first["X-Request-Id"]
    assert list(Item.objects.values_list("pk", "version")) == [(item.pk, 1)]
    assert stored() == [row]


def test_the_same_json_in_another_order_and_spacing_is_the_same_request(api):
    first = keyed(
        api, "post", ITEMS, '{"id":"Prnt_Toner","name":"Toner","itemType":"inventory"}', "k"
    )
    again = keyed(
        api,
        "post",
        ITEMS,
        '{ "itemType": "inventory",\n  "name": "Toner", "id": "Prnt_Toner" }',
        "k",
    )

    assert first.status_code == 201
    assert_replayed(first, again, IdempotencyKey.objects.get())
    assert Item.objects.count() == 1


def test_the_versioned_path_and_the_root_path_are_the_same_request(api):
    first = keyed(api, "post", V1 + ITEMS, ITEM, "k")
    again = keyed(api, "post", ITEMS, {**ITEM}, "k")

    assert first.status_code == 201
    assert_replayed(first, again, IdempotencyKey.objects.get())
    assert Item.objects.count() == 1


def test_a_keyed_patch_sent_twice_changes_the_item_once(api, admin_user):
    item = part(admin_user, "Prnt_Ink")
    path = f"{ITEMS}/{item.pk}"

    first = keyed(api, "patch", path, {"name": "Black ink"}, "rename-ink", HTTP_IF_MATCH='"1"')
    again = keyed(api, "patch", path, {"name": "Black ink"}, "rename-ink", HTTP_IF_MATCH='"1"')

    assert first.status_code == 200
    assert first.json() == created(item)
    assert (first["ETag"], first["Idempotency-Key"]) == ('"2"', "rename-ink")
    # The replay answers 200 with ETag "2"; the If-Match "1" is not checked again.
    assert_replayed(first, again, IdempotencyKey.objects.get())
    item.refresh_from_db()
    assert (item.name, item.version) == ("Black ink", 2)


def test_a_keyed_issue_sent_twice_moves_three_units_once(api, shop):
    lot, part_kit = shop["lot"], shop["kit"]
    body = issue_body(part_kit, lot, 3)

    first = keyed(api, "post", ISSUE, body, "issue-3-resin")
    again = keyed(api, "post", ISSUE, body, "issue-3-resin")

    assert first.status_code == 200
    assert first.json()["ia::result"]["issuedQuantity"] == 3
    assert_replayed(first, again, IdempotencyKey.objects.get())
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (7, 3)
    issues = InventoryTransaction.objects.filter(part_inventory=lot, type="issue")
    assert list(issues.values_list("quantity", flat=True)) == [-3]


def test_a_422_is_stored_and_replayed_even_once_it_would_succeed(api, shop, admin_user):
    lot, part_kit = shop["lot"], shop["kit"]
    body = issue_body(part_kit, lot, 12)
    before = snapshot(PartInventory, InventoryTransaction)

    first = keyed(api, "post", ISSUE, body, "issue-12")
    assert_error(first, 422, failed(exceeds_on_hand(lot.pk, "12", "10")))
    assert first["Idempotency-Key"] == "issue-12"
    row = IdempotencyKey.objects.get()
    assert row.status == 422

    # More stock arrives; the key still answers what it answered first.
    restocked = api.patch(
        f"/objects/inventory-control/part-inventory/{lot.pk}",
        {"quantity": 20},
        format="json",
        HTTP_IF_MATCH=f'"{lot.version}"',
    )
    assert restocked.status_code == 200
    after_patch = snapshot(PartInventory, InventoryTransaction)
    assert after_patch != before
    again = keyed(api, "post", ISSUE, body, "issue-12")

    assert_replayed(first, again, row)
    # The replay is the first answer, byte for byte: its supportId is the first request's.
    assert again.json()["ia::result"]["ia::error"]["supportId"] == first["X-Request-Id"]
    assert snapshot(PartInventory, InventoryTransaction) == after_patch


# --- misuse: another request, a malformed key -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", ITEMS, {**ITEM, "name": "Toner, black"}),  # another body
        ("post", WAREHOUSES, {"id": "WH-1", "name": "Main"}),  # another path
        ("patch", f"{ITEMS}/1", {"name": "Toner"}),  # another method
    ],
)
def test_the_same_key_for_another_request_is_409_and_writes_nothing(api, method, path, body):
    keyed(api, "post", ITEMS, ITEM, "once")
    before = snapshot(Item, Warehouse, IdempotencyKey)

    response = keyed(api, method, path, body, "once")

    assert_error(response, 409, reused("once"))
    assert "Idempotency-Key" not in response
    assert snapshot(Item, Warehouse, IdempotencyKey) == before


@pytest.mark.parametrize(
    "key",
    ["", "x" * 257, "clé-1", "tab\there", "line\nbreak", "nul\x00", "del\x7f"],
    ids=["empty", "257-chars", "non-ascii", "tab", "newline", "nul", "del"],
)
def test_a_malformed_key_is_400_and_nothing_runs(api, key):
    response = keyed(api, "post", ITEMS, ITEM, key)

    assert_error(response, 400, INVALID_KEY)
    assert not Item.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["x" * 256, "a", " !~ spaced key ~! "])
def test_keys_of_1_to_256_printable_ascii_characters_are_taken(api, key):
    response = keyed(api, "post", ITEMS, ITEM, key)

    assert response.status_code == 201
    assert response["Idempotency-Key"] == key
    assert IdempotencyKey.objects.get().key == key


def test_another_client_or_user_uses_the_same_key_independently(api, admin_user):
    other_client = bearer_client(admin_user, name="other integration")
    session = APIClient()
    session.force_login(admin_user)
    other_user = bearer_client(make_user("clerk", "inventory.add_item"))

    answers = [
        keyed(client, "post", ITEMS, {**ITEM, "id": code}, "shared-key")
        for client, code in [
            (api, "T-1"),
            (other_client, "T-2"),
            (session, "T-3"),
            (other_user, "T-4"),
        ]
    ]

    assert [a.status_code for a in answers] == [201] * 4
    assert sorted(Item.objects.values_list("code", flat=True)) == ["T-1", "T-2", "T-3", "T-4"]
    rows = stored()
    assert [r.key for r in rows] == ["shared-key"] * 4
    assert [r.application_id is None for r in rows] == [False, False, True, False]
    assert len({(r.application_id, r.user_id) for r in rows}) == 4
    # Each still replays its own answer.
    again = keyed(other_client, "post", ITEMS, {**ITEM, "id": "T-2"}, "shared-key")
    assert_replayed(answers[1], again, rows[1])


# --- the 48-hour and 60-day rules, and the purge ----------------------------------------------


def test_after_48_hours_the_key_is_409_and_after_60_days_it_is_free(api, admin_user):
    first = keyed(api, "post", ITEMS, ITEM, "old-key")
    assert first.status_code == 201
    first_used = timezone.now() - timedelta(hours=48, seconds=1)
    IdempotencyKey.objects.update(created_at=first_used)
    date = first_used.strftime("%Y-%m-%dT%H:%M:%SZ")
    before = snapshot(Item, IdempotencyKey)

    expired = keyed(api, "post", ITEMS, ITEM, "old-key")

    assert_error(
        expired,
        409,
        err(
            "KS-4097",
            f"Idempotency-Key old-key was first used at {date}, more than 48 hours ago: send a "
            "new key",
            KEY="old-key",
            DATE=date,
        ),
    )
    assert snapshot(Item, IdempotencyKey) == before

    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=59, hours=23))
    assert keyed(api, "post", ITEMS, ITEM, "old-key").status_code == 409

    # Past 60 days the key is free, purged or not: the request runs again as a new one.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=60, seconds=1))
    assert api.delete(first["Location"]).status_code == 204
    again = keyed(api, "post", ITEMS, ITEM, "old-key")

    assert again.status_code == 201
    assert CACHED not in again
    item = Item.objects.get()
    assert again.json() == created(item)
    (row,) = stored()
    assert (row.status, row.body) == (201, again.content.decode())
    assert timezone.now() - row.created_at < timedelta(minutes=1)


def test_purge_deletes_only_the_keys_older_than_60_days_in_batches(admin_user):
    now = timezone.now()
    ages = {
        "new": timedelta(0),
        "two-days": timedelta(days=2),
        "almost-60": timedelta(days=59, hours=23),
        "past-60": timedelta(days=60, minutes=1),
        "a-year": timedelta(days=365),
        "two-years": timedelta(days=730),
    }
    for key, age in ages.items():
        IdempotencyKey.objects.create(
            user=admin_user, key=key, fingerprint="f" * 64, status=201, created_at=now - age
        )
    out = StringIO()

    call_command("purge_idempotency_keys", "--batch-size", "2", stdout=out)

    assert out.getvalue() == "purged 3 idempotency keys older than 60 days\n"
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == [
        "almost-60",
        "new",
        "two-days",
    ]
    call_command("purge_idempotency_keys", stdout=out)  # nothing left to purge: fine again
    assert IdempotencyKey.objects.count() == 3


# --- where the header is ignored --------------------------------------------------------------


def test_get_delete_and_the_query_service_ignore_the_header(api, admin_user):
    item = part(admin_user, "Prnt_Ink")
    other = part(admin_user, "Prnt_Paper")
    headers = {"HTTP_IDEMPOTENCY_KEY": ""}  # not even a valid key: nobody looks at it

    got = api.get(f"{ITEMS}/{item.pk}", **headers)
    listed = api.get(ITEMS, **headers)
    queried = api.post(
        "/services/core/query",
        {"object": "inventory-control/item", "fields": ["id"]},
        format="json",
        **headers,
    )
    deleted = api.delete(f"{ITEMS}/{other.pk}", **headers)

    assert [r.status_code for r in (got, listed, queried, deleted)] == [200, 200, 200, 204]
    for response in (got, listed, queried, deleted):
        assert "Idempotency-Key" not in response
        assert CACHED not in response
    assert list(Item.objects.values_list("code", flat=True)) == ["Prnt_Ink"]
    assert not IdempotencyKey.objects.exists()


# --- answers a retry must be free to redo -----------------------------------------------------


@pytest.mark.urls("tests.crash_urls")
def test_a_500_stores_nothing_and_keeps_nothing_it_wrote(api):
    for _ in range(2):  # the key stays free: the retry runs (and fails) again
        response = keyed(api, "post", "/crash/workflow", {"code": "WH-9"}, "crash-key")
        assert_error(
            response,
            500,
            err(
                "KS-5001",
                "An unexpected error occurred; quote the supportId when reporting it",
            ),
        )
        assert not Warehouse.objects.exists()
        assert not IdempotencyKey.objects.exists()


@pytest.mark.urls("tests.crash_urls")
def test_a_lost_lock_race_is_409_to_retry_and_stores_nothing(api):
    for _ in range(2):  # "retry" means it: the key stays free
        response = keyed(api, "post", "/crash/contended", {"code": "WH-9"}, "contended")
        reason = "a concurrent request was changing the same rows; retry"
        assert_error(
            response,
            409,
            err("KS-4093", f"The request conflicts with the stored data: {reason}", REASON=reason),
        )
        assert response["Retry-After"] == "1"
        assert not Warehouse.objects.exists()
        assert not IdempotencyKey.objects.exists()


@pytest.mark.urls("tests.crash_urls")
def test_a_key_stored_by_another_request_meanwhile_is_409_and_nothing_stays(api):
    response = keyed(api, "post", "/crash/key-stored-meanwhile", {"code": "WH-9"}, "raced")

    assert_error(response, 409, in_flight("raced"))
    assert response["Retry-After"] == "1"
    assert not Warehouse.objects.exists()
    # (Here the other answer was written in this request's own transaction, so it went too.)
    assert not IdempotencyKey.objects.exists()


def test_a_401_or_403_stores_nothing_and_leaves_the_key_free(client, admin_user, api):
    assert_error(keyed(client, "post", ITEMS, ITEM, "k"), 401, NOT_AUTHENTICATED)
    reader = bearer_client(make_user("reader", "inventory.view_item"))
    assert_error(keyed(reader, "post", ITEMS, ITEM, "k"), 403, FORBIDDEN)
    assert not IdempotencyKey.objects.exists()
    assert not Item.objects.exists()


def test_a_429_stores_nothing(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "1/min", "anon": "1/min"},
    }
    assert api.get(ITEMS).status_code == 200

    response = keyed(api, "post", ITEMS, ITEM, "k")

    assert response.status_code == 429
    assert not IdempotencyKey.objects.exists()
    assert not Item.objects.exists()


# --- in flight in another process (PostgreSQL) ------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_a_key_held_by_another_session_is_409_at_once_and_free_when_it_dies(api, admin_user):
    # Another worker's transaction holds the key: the lock this request would take.
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        password=db["PASSWORD"] or None,
    )
    client_app = get_application_model().objects.get()
    try:
        taken = other.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [lock_id(client_app.pk, admin_user.pk, "busy")]
        )
        assert taken.fetchone() == (True,)

        refused = keyed(api, "post", ITEMS, ITEM, "busy")

        assert_error(refused, 409, in_flight("busy"))
        assert refused["Retry-After"] == "1"
        assert not Item.objects.exists()
        assert not IdempotencyKey.objects.exists()

        # The worker is killed before its commit: its lock goes with its session.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [other.info.backend_pid])
            assert cursor.fetchone() == (True,)
    finally:
        other.close()

    assert keyed(api, "post", ITEMS, ITEM, "busy").status_code == 201
    assert Item.objects.count() == 1


# --- cost: nothing without the header ---------------------------------------------------------


def test_no_statement_without_the_header_and_three_with_it(api):
    def statements(**headers):
        body = {**ITEM, "id": f"T-{len(headers)}"}
        with CaptureQueriesContext(connection) as ctx:
            response = api.post(ITEMS, body, format="json", **headers)
        assert response.status_code == 201
        return [q["sql"] for q in ctx.captured_queries]

    plain = statements()
    with_key = statements(HTTP_IDEMPOTENCY_KEY="counted")

    def idempotency(sqls):
        return [s for s in sqls if "idempotencykey" in s or "advisory" in s]

    assert idempotency(plain) == []
    found = idempotency(with_key)
    expected = ["SELECT", "INSERT"]
    if connection.vendor == "postgresql":
        expected = ["SELECT pg_try_advisory_xact_lock", *expected]
    assert [re.match(r"\w+( pg_\w+)?", sql).group() for sql in found] == expected
    # Apart from those and the savepoints the outer transaction turns the inner ones into, the
    # keyed request runs the very statements of the plain one.
    others = [s for s in with_key if s not in found and "SAVEPOINT" not in s]
    assert len(others) == len([s for s in plain if "SAVEPOINT" not in s])


# --- the OpenAPI document --------------------------------------------------------------------


def test_the_openapi_document_offers_the_header_where_it_is_taken(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]

    def takes_key(path, method):
        parameters = paths[path][method].get("parameters", [])
        found = [p for p in parameters if p["name"] == "Idempotency-Key"]
        assert [(p["in"], p.get("required", False)) for p in found] in ([], [("header", False)])
        return bool(found)

    assert takes_key(ITEMS, "post")
    assert takes_key(ITEMS + "/{key}", "patch")
    assert takes_key(ISSUE, "post")
    assert not takes_key(ITEMS, "get")
    assert not takes_key(ITEMS + "/{key}", "get")
    assert not takes_key(ITEMS + "/{key}", "delete")
    assert not takes_key("/services/core/query", "post")


# --- the admin --------------------------------------------------------------------------------


def test_the_admin_lists_stored_answers_read_only(admin_client, api):
    keyed(api, "post", ITEMS, ITEM, "seen-in-admin")
    row = IdempotencyKey.objects.get()

    listing = admin_client.get("/admin/intacct_api/idempotencykey/")
    assert listing.status_code == 200
    assert b"seen-in-admin" in listing.content
    assert (
        admin_client.get(f"/admin/intacct_api/idempotencykey/{row.pk}/change/").status_code == 200
    )
    assert admin_client.get("/admin/intacct_api/idempotencykey/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/intacct_api/idempotencykey/{row.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert IdempotencyKey.objects.count() == 1
