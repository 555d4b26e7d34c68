"""Contract 12.3: a request whose database connection is lost mid-way answers 503 with
Retry-After in the ia::error shape, never a bare 500, and the next request is served on a new
connection. The connection is lost for real: the request waits for a row lock another connection
holds, and the database terminates its backend (PostgreSQL only: SQLite has no server)."""

import threading
import time

import pytest
from django.db import connection, transaction

from config.api.models import IdempotencyKey
from inventory.models import InventoryTransaction, PartInventory
from tests.support.kitting import ISSUE, issue_body
from tests.support.users import bearer_client

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a server backend"),
    pytest.mark.django_db(transaction=True),
]


def waiting_backend() -> int:
    """The pid of the backend waiting for a row lock (the request's), once it waits."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # pg_locks, not pg_stat_activity: the latter is a snapshot kept for the transaction.
            cursor.execute("SELECT DISTINCT pid FROM pg_locks WHERE NOT granted")
            found = [pid for (pid,) in cursor.fetchall()]
        if found:
            (pid,) = found
            return pid
        time.sleep(0.05)
    raise AssertionError("no request waited for the lock")


def test_a_request_whose_connection_is_lost_answers_503_and_the_next_one_is_served(
    shop, admin_user
):
    lot, part_kit = shop["lot"], shop["kit"]
    api = bearer_client(admin_user)
    answers = {}

    def issue():
        try:
            answers["lost"] = api.post(
                ISSUE, issue_body(part_kit, lot, 3), format="json", HTTP_IDEMPOTENCY_KEY="lost-1"
            )
        finally:
            connection.close()

    with transaction.atomic():
        PartInventory.objects.select_for_update().get(pk=lot.pk)
        request = threading.Thread(target=issue)
        request.start()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [waiting_backend()])
        request.join(timeout=60)

    response = answers["lost"]
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
