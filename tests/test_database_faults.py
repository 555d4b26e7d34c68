"""Contract 12.3 on PostgreSQL (SQLite has no row locks and no server): a request waits at most
LOCK_TIMEOUT_MS (3000) for a row lock, then answers 409 with Retry-After and changes nothing,
while requests for other rows are served; a request whose database connection is lost mid-way
answers 503 with Retry-After, never a bare 500, and the next request is served on a new
connection; a statement the database cancels (STATEMENT_TIMEOUT_MS) answers 503 and changes
nothing. GraphQL answers each in errors[] with REST's codes. Locks are held, connections lost
and statements canceled for real."""

import threading
import time

import pytest
from django.db import connection, transaction

from config.api.models import IdempotencyKey
from inventory.models import InventoryTransaction, PartInventory, Warehouse
from tests.support.errors import assert_error, err
from tests.support.factories import kit
from tests.support.graphql import data, error_entry, errors_of, graphql
from tests.support.kitting import ISSUE, issue_body
from tests.support.users import bearer_client

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a server backend"),
    pytest.mark.django_db(transaction=True),
]


def waiting_backend() -> int:
    """The pid of the backend waiting for a row lock this test's connection holds (the
    request's), once it waits; never a backend of another database on the same server."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # pg_locks and pg_blocking_pids are live (pg_stat_activity is a snapshot kept for the
            # transaction).
            cursor.execute(
                "SELECT DISTINCT pid FROM pg_locks "
                "WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            found = [pid for (pid,) in cursor.fetchall()]
        if found:
            (pid,) = found
            return pid
        time.sleep(0.05)
    raise AssertionError("no request waited for the lock")


def test_a_request_waiting_longer_than_the_lock_timeout_gives_up_with_409(shop, admin_user):
    lot, loose, part_kit = shop["lot"], shop["loose"], shop["kit"]
    # The request for the lot holds its kit while it waits: the other request uses another kit.
    other_kit = kit(admin_user, shop["run"])
    api = bearer_client(admin_user)
    answers = {}

    def issue(name, part_kit, inventory):
        try:
            answers[name] = api.post(ISSUE, issue_body(part_kit, inventory, 3), format="json")
            answers[f"{name} at"] = time.monotonic()
        finally:
            connection.close()

    with transaction.atomic():  # a stuck transaction holding the lot
        PartInventory.objects.select_for_update().get(pk=lot.pk)
        started = time.monotonic()
        stuck = threading.Thread(target=issue, args=("stuck", part_kit, lot))
        stuck.start()
        waiting_backend()
        other = threading.Thread(target=issue, args=("other", other_kit, loose))
        other.start()
        stuck.join(timeout=60)
        other.join(timeout=60)

    # The other rows were served while the lot stayed locked; the lot's request gave up.
    assert answers["other"].status_code == 200
    assert answers["other at"] - started < answers["stuck at"] - started
    assert 3 <= answers["stuck at"] - started < 30
    response = answers["stuck"]
    assert (response.status_code, response["Retry-After"]) == (409, "1")
    error = response.json()["ia::result"]["ia::error"]
    assert (error["errorId"], error["message"]) == (
        "KS-4093",
        "The request conflicts with the stored data: "
        "a concurrent request was changing the same rows; retry",
    )
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (10, 0)
    assert list(
        InventoryTransaction.objects.filter(type="issue").values_list(
            "part_inventory_id", flat=True
        )
    ) == [loose.pk]


def sent_while_locked(lot, send, fault: str | None = None):
    """`send()`'s answer, sent while a stuck transaction holds `lot`. Once the request waits for
    it, `fault` (pg_terminate_backend, pg_cancel_backend) is done to the request's backend; None:
    the request waits out LOCK_TIMEOUT_MS."""
    answers = {}

    def run():
        try:
            answers["sent"] = send()
        finally:
            connection.close()

    with transaction.atomic():
        PartInventory.objects.select_for_update().get(pk=lot.pk)
        request = threading.Thread(target=run)
        request.start()
        pid = waiting_backend()
        if fault is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {fault}(%s)", [pid])
        request.join(timeout=60)
    return answers["sent"]


def test_a_request_whose_connection_is_lost_answers_503_and_the_next_one_is_served(
    shop, admin_user
):
    lot, part_kit = shop["lot"], shop["kit"]
    api = bearer_client(admin_user)

    def issue():
        return api.post(
            ISSUE, issue_body(part_kit, lot, 3), format="json", HTTP_IDEMPOTENCY_KEY="lost-1"
        )

    response = sent_while_locked(lot, issue, "pg_terminate_backend")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    error = response.json()["ia::result"]["ia::error"]
    assert (error["code"], error["errorId"], error["message"]) == (
        "serviceUnavailable",
        "KS-5031",
        "The database connection was lost: retry in 1 seconds",
    )
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (10, 0)
    assert not InventoryTransaction.objects.filter(type="issue").exists()
    assert not IdempotencyKey.objects.exists()  # a 5xx keeps the key free for the retry

    retried = api.post(
        ISSUE, issue_body(part_kit, lot, 3), format="json", HTTP_IDEMPOTENCY_KEY="lost-1"
    )
    assert retried.status_code == 200
    assert retried.json()["ia::result"]["issuedQuantity"] == 3


def test_every_connection_carries_the_statement_timeout():
    # STATEMENT_TIMEOUT_MS (default 30000) reaches PostgreSQL as statement_timeout.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("30s",)


@pytest.mark.urls("tests.crash_urls")
def test_a_statement_cut_by_the_statement_timeout_answers_503_and_changes_nothing(api):
    for _ in range(2):  # a 5xx keeps the Idempotency-Key free: the retry runs again
        response = api.post(
            "/crash/slow", {"code": "WH-9"}, format="json", HTTP_IDEMPOTENCY_KEY="slow-1"
        )
        assert response["Retry-After"] == "1"
        assert_error(
            response,
            503,
            err(
                "KS-5032",
                "A database statement was canceled: it ran too long or was stopped; "
                "nothing was changed: retry in 1 seconds",
                SECONDS="1",
            ),
        )
        assert not Warehouse.objects.exists()  # written before the slow statement: rolled back
        assert not IdempotencyKey.objects.exists()


# GraphQL (contract 14): the same faults are errors[] entries with REST's codes and ids.
ISSUE_ITEM_TO_KIT = """
mutation Issue($input: InventoryToKitInput!) {
    issueItemToKit(input: $input) { issuedQuantity }
}
"""


def graphql_issue_while_the_lot_is_locked(shop, admin_user, fault=None):
    """issueItemToKit of the lot while a stuck transaction holds it (sent_while_locked): the
    answer, once checked that nothing changed and that the next operation is served."""
    lot, part_kit = shop["lot"], shop["kit"]
    api = bearer_client(admin_user)
    issue = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 3}
    response = sent_while_locked(lot, lambda: graphql(api, ISSUE_ITEM_TO_KIT, input=issue), fault)

    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (10, 0)
    assert not InventoryTransaction.objects.filter(type="issue").exists()
    # The next operation is served (on a new connection where the old one was lost).
    retried = graphql(api, ISSUE_ITEM_TO_KIT, input=issue)
    assert data(retried) == {"issueItemToKit": {"issuedQuantity": 3.0}}
    return response


def test_graphql_a_lock_timeout_is_the_rest_409_and_changes_nothing(shop, admin_user):
    response = graphql_issue_while_the_lot_is_locked(shop, admin_user)
    assert response.json()["data"] == {"issueItemToKit": None}
    assert errors_of(response) == [
        error_entry(
            "KS-4093",
            "The request conflicts with the stored data: "
            "a concurrent request was changing the same rows; retry",
            ["issueItemToKit"],
        )
    ]


@pytest.mark.parametrize(
    ("fault", "error_id", "message"),
    [
        (
            "pg_terminate_backend",
            "KS-5031",
            "The database connection was lost: retry in 1 seconds",
        ),
        (
            "pg_cancel_backend",
            "KS-5032",
            "A database statement was canceled: it ran too long or was stopped; "
            "nothing was changed: retry in 1 seconds",
        ),
    ],
)
def test_graphql_a_lost_connection_or_canceled_statement_is_the_rest_503(
    shop, admin_user, fault, error_id, message
):
    response = graphql_issue_while_the_lot_is_locked(shop, admin_user, fault)
    assert response.json()["data"] == {"issueItemToKit": None}
    assert errors_of(response) == [
        error_entry(error_id, message, ["issueItemToKit"], supportId=response["X-Request-Id"])
    ]
