"""Scaled out (contract 16, issue 14's "done means"): two gunicorn servers of several workers each
on the one test database, sharing the machine's Redis (127.0.0.1:6379) through REDIS_URL under a
key prefix of this run alone. Requests split across both servers never over-issue stock, a
throttle of N a minute admits N in all (each process counting for itself admitted N per worker),
and one Idempotency-Key sent to both at once writes once. PostgreSQL only (the servers serve the
test database; SQLite's lives in the test process)."""

import uuid

import pytest
import redis
import requests
from django.db import connection

from inventory.models import InventoryTransaction
from kitting.models import PartKitLine
from tests.support.idempotency import assert_issued_three_once
from tests.support.kitting import ISSUE, assert_ledger_invariant, issue_body, issue_burst
from tests.support.parallel import run_together
from tests.support.protocol import WAREHOUSES
from tests.support.server import bearer_headers, running_gunicorn

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="servers on the test database"),
    pytest.mark.django_db(transaction=True),
]
REDIS_URL = "redis://127.0.0.1:6379/0"
WORKERS = 3
# Each client's requests a minute on both servers; the issue burst of one client stays under it.
LIMIT = 50


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """The two servers' base URLs; their keys are deleted when the module ends."""
    prefix = f"kitsmith-test-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.RedisError as exc:
        pytest.fail(f"the scale-out test needs Redis at {REDIS_URL}: {exc}")
    env = {
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "THROTTLE_RATE_CLIENT": f"{LIMIT}/min",
        # The oversell burst queues on one kit's locks; it tests no timeout, so none cuts it.
        "LOCK_TIMEOUT_MS": "0",
    }
    try:
        with (
            running_gunicorn(workers=WORKERS, env=env) as first,
            running_gunicorn(workers=WORKERS, env=env) as second,
        ):
            yield first, second
    finally:
        for key in store.scan_iter(f"{prefix}:*"):
            store.delete(key)
        store.close()


@pytest.fixture
def client_of(servers, admin_user):
    """client_of(name) -> bearer headers of a new API client of `admin_user` (each client has
    its own throttle bucket)."""
    return lambda name: bearer_headers(servers[0], admin_user, name)


def _post(base, headers, path, body):
    return lambda: requests.post(f"{base}{path}", json=body, headers=headers, timeout=120)


def test_an_issue_burst_across_both_servers_never_over_issues(servers, client_of, admin_user):
    headers = client_of("burst")
    lot, bodies = issue_burst(admin_user)

    answers = run_together(
        [_post(servers[n % 2], headers, ISSUE, body) for n, body in enumerate(bodies)]
    )

    assert sorted(a.status_code for a in answers) == [200] * 25 + [422] * 15
    # Every success saw a different on-hand quantity, whichever server answered it.
    seen = sorted(a.json()["ia::result"]["partInventory"]["quantity"] for a in answers if a.ok)
    assert seen == list(range(25))
    assert {a.json()["ia::result"]["ia::error"]["errorId"] for a in answers if not a.ok} == {
        "KS-4220"
    }
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (0, 25)
    assert sum(PartKitLine.objects.values_list("issued_quantity", flat=True)) == 25
    issues = InventoryTransaction.objects.filter(part_inventory=lot, type="issue")
    assert list(issues.values_list("quantity", flat=True)) == [-1] * 25
    assert assert_ledger_invariant() == 1


def test_a_limit_of_n_a_minute_admits_n_across_both_servers(servers, client_of):
    headers = client_of("throttled")

    answers = run_together(
        [
            lambda base=servers[n % 2]: requests.get(
                f"{base}{WAREHOUSES}", headers=headers, timeout=120
            )
            for n in range(2 * LIMIT)
        ]
    )

    admitted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert (len(admitted), len(refused)) == (LIMIT, LIMIT)
    # One count for both servers: each admitted request took its own place in it.
    remaining = sorted(int(a.headers["RateLimit-Remaining"]) for a in admitted)
    assert remaining == list(range(LIMIT))
    for answer in answers:
        assert answer.headers["RateLimit-Limit"] == str(LIMIT)
        assert 1 <= int(answer.headers["RateLimit-Reset"]) <= 60
    for answer in refused:
        assert answer.headers["RateLimit-Remaining"] == "0"
        assert answer.headers["Retry-After"] == answer.headers["RateLimit-Reset"]
        assert answer.json()["ia::result"]["ia::error"]["errorId"] == "KS-4291"


def test_one_idempotency_key_sent_to_both_servers_at_once_writes_once(client_of, servers, shop):
    headers = {**client_of("keyed"), "Idempotency-Key": "both-servers"}
    lot, part_kit = shop["lot"], shop["kit"]
    body = issue_body(part_kit, lot, 3)

    answers = run_together([_post(servers[n % 2], headers, ISSUE, body) for n in range(8)])

    assert_issued_three_once(answers, lot, "both-servers")
