"""Contract 12.1 across processes: the same keyed request sent many times at once to a gunicorn
with several workers (tests/support/server.py) writes once; every other answer is the first one
replayed or a 409 saying it is still in progress. PostgreSQL only (the server serves the test
database; SQLite's lives in the test process)."""

import pytest
import requests
from django.db import connection

from config.api.models import IdempotencyKey
from config.api.oauth import api_client_create
from inventory.models import InventoryTransaction
from tests.support.idempotency import CACHED, assert_issued_three_once, first_and_others
from tests.support.kitting import ISSUE, exceeds_on_hand, issue_body
from tests.support.parallel import run_together

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a multi-process server on PG"),
    pytest.mark.django_db(transaction=True),
]
AT_ONCE = 8


def send_together(server, body, key):
    headers = {**server.headers, "Idempotency-Key": key}
    return run_together(
        [
            lambda: requests.post(f"{server.url}{ISSUE}", json=body, headers=headers, timeout=120)
            for _ in range(AT_ONCE)
        ]
    )


def test_the_same_keyed_issue_sent_at_once_moves_stock_once(gunicorn_server, shop):
    lot, part_kit = shop["lot"], shop["kit"]

    answers = send_together(gunicorn_server, issue_body(part_kit, lot, 3), "issue-3-at-once")

    assert_issued_three_once(answers, lot, "issue-3-at-once")


def test_the_same_keyed_422_sent_at_once_is_answered_once_and_replayed(gunicorn_server, shop):
    lot, part_kit = shop["lot"], shop["kit"]

    answers = send_together(gunicorn_server, issue_body(part_kit, lot, 11), "too-many")

    first = first_and_others(answers)
    assert first.status_code == 422
    assert first.json()["ia::result"]["ia::error"]["details"] == [
        exceeds_on_hand(lot.pk, "11", "10")
    ]
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (10, 0)
    assert not InventoryTransaction.objects.filter(type="issue").exists()
    assert list(IdempotencyKey.objects.values_list("key", "status")) == [("too-many", 422)]


def test_two_clients_sending_one_key_at_once_each_write_once(gunicorn_server, shop, admin_user):
    """Keys belong to their client: the same key from two applications at once is two requests."""
    lot, part_kit = shop["lot"], shop["kit"]
    client_id, secret = api_client_create(user=admin_user, name="second integration")
    token = requests.post(
        f"{gunicorn_server.url}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=60,
    ).json()["access_token"]
    clients = [gunicorn_server.headers, {"Authorization": f"Bearer {token}"}] * (AT_ONCE // 2)
    body = issue_body(part_kit, lot, 3)

    answers = run_together(
        [
            lambda headers=headers: requests.post(
                f"{gunicorn_server.url}{ISSUE}",
                json=body,
                headers={**headers, "Idempotency-Key": "shared"},
                timeout=120,
            )
            for headers in clients
        ]
    )

    assert {a.status_code for a in answers} <= {200, 409}
    assert len([a for a in answers if a.status_code == 200 and CACHED not in a.headers]) == 2
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (4, 6)
    issues = InventoryTransaction.objects.filter(part_inventory=lot, type="issue")
    assert list(issues.values_list("quantity", flat=True)) == [-3, -3]
    stored = IdempotencyKey.objects.values_list("key", "application__name", "status")
    assert sorted(stored) == [("shared", "gunicorn", 200), ("shared", "second integration", 200)]
