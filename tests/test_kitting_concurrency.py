"""Contract 7.5 under real concurrency: a gunicorn server with 4 worker processes on the pytest
test database, hit by parallel requests. PostgreSQL only (SQLite has one writer at a time and no
row locks, so there is nothing to race)."""

import random
from decimal import Decimal

import pytest
import requests
from django.db import connection

from inventory.models import PartInventory
from kitting.models import PartKitLine
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import (
    INVENTORY,
    ISSUE,
    MOVE,
    assert_ledger_invariant,
    exceeds_on_hand,
    issue_burst,
)
from tests.support.parallel import run_together

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
GUNICORN_WORKERS = 4


@pytest.fixture
def server(gunicorn_server):
    """A real gunicorn (4 sync workers, tests/support/server.py); (base URL, bearer headers)."""
    return gunicorn_server.url, gunicorn_server.headers


def _without_support_id(response) -> dict:
    body = response.json()
    body["ia::result"]["ia::error"].pop("supportId")
    return body


def _post(base, headers, path, body):
    return lambda: requests.post(f"{base}{path}", json=body, headers=headers, timeout=120)


def test_forty_parallel_issues_of_one_against_a_lot_of_25(server, admin_user):
    base, headers = server
    lot, bodies = issue_burst(admin_user)

    responses = run_together([_post(base, headers, ISSUE, body) for body in bodies])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 25 + [422] * 15
    refused = {
        "ia::result": {
            "ia::error": {
                "code": "operationFailed",
                "message": "The operation could not be completed",
                "errorId": "KS-4220",
                "additionalInfo": {
                    "messageId": "KS.OPERATION_FAILED",
                    "placeholders": {},
                    "propertySet": {},
                },
                "details": [exceeds_on_hand(lot.pk, "1", "0")],
            }
        },
        "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1},
    }
    for response in responses:
        if response.status_code == 422:
            assert _without_support_id(response) == refused
    # Every success saw a different on-hand quantity: no two read the same row version.
    seen = sorted(r.json()["ia::result"]["partInventory"]["quantity"] for r in responses if r.ok)
    assert seen == list(range(25))
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (0, 25)
    assert sum(PartKitLine.objects.values_list("issued_quantity", flat=True)) == 25
    assert assert_ledger_invariant() == 1


def test_twenty_parallel_issues_of_one_serial_to_twenty_kits(server, admin_user):
    base, headers = server
    widget = part(admin_user, "Widget", enable_serial_no=True)
    serial = stock(admin_user, widget, 1, serial_number="W-1")
    the_run = run(admin_user, "RUN-1")
    kits = [kit(admin_user, the_run) for _ in range(20)]

    responses = run_together(
        [
            _post(
                base, headers, ISSUE, {"key": str(k.pk), "partInventory": {"key": str(serial.pk)}}
            )
            for k in kits
        ]
    )

    assert sorted(r.status_code for r in responses) == [200] + [422] * 19
    for response in responses:
        if response.status_code == 422:
            details = response.json()["ia::result"]["ia::error"]["details"]
            assert details == [exceeds_on_hand(serial.pk, "1", "0")]
    serial.refresh_from_db()
    assert (serial.quantity, serial.kitted_quantity) == (0, 1)
    assert list(PartKitLine.objects.values_list("part_inventory_id", "issued_quantity")) == [
        (serial.pk, 1)
    ]
    assert assert_ledger_invariant() == 1


def test_a_random_parallel_mix_of_issue_return_and_adjust_keeps_the_ledger(server, admin_user):
    base, headers = server
    rng = random.Random(7)
    resin = part(admin_user, "Resin", enable_lot_category=True)
    screw = part(admin_user, "Screw")
    widget = part(admin_user, "Widget", enable_serial_no=True)
    counted = [
        stock(admin_user, resin, 12, lot_number="L-1"),
        stock(admin_user, resin, 8, lot_number="L-2"),
        stock(admin_user, screw, 15),
    ]
    serials = [stock(admin_user, widget, 1, serial_number=f"W-{n}") for n in range(3)]
    the_run = run(admin_user, "RUN-1")
    kits = [kit(admin_user, the_run) for _ in range(5)]

    def issue_or_return(path, inventory, part_kit, quantity):
        body = {"key": str(part_kit.pk), "partInventory": {"key": str(inventory.pk)}}
        if not inventory.serial_number:
            body["quantity"] = quantity
        return _post(base, headers, path, body)

    def adjust(inventory, delta):
        def call():
            # Read, change, write back under If-Match; a stale read (412) is read again, as a
            # client would, a few times.
            url = f"{base}{INVENTORY}/{inventory.pk}"
            for _ in range(5):
                got = requests.get(url, headers=headers, timeout=120)
                quantity = Decimal(str(got.json()["ia::result"]["quantity"])) + delta
                response = requests.patch(
                    url,
                    json={"quantity": float(quantity)},
                    headers={**headers, "If-Match": got.headers["ETag"]},
                    timeout=120,
                )
                if response.status_code != 412:
                    break
            return response

        return call

    calls, kinds = [], []
    for _ in range(3):  # three waves of 40 racing requests
        wave = []
        for _ in range(40):
            roll = rng.random()
            inventory = rng.choice(counted + serials)
            if roll < 0.45:
                wave.append(issue_or_return(ISSUE, inventory, rng.choice(kits), rng.randint(1, 4)))
                kinds.append("issue")
            elif roll < 0.8:
                wave.append(issue_or_return(MOVE, inventory, rng.choice(kits), rng.randint(1, 3)))
                kinds.append("return")
            else:
                wave.append(adjust(rng.choice(counted), rng.randint(-3, 3)))
                kinds.append("adjust")
        calls.append(wave)

    outcomes: dict[tuple[str, int], int] = {}
    for n, wave in enumerate(calls):
        for kind, response in zip(kinds[n * 40 : (n + 1) * 40], run_together(wave), strict=True):
            # Only clean answers: done, a broken rule, or a stale If-Match. Never a 500.
            assert response.status_code in (200, 412, 422), (kind, response.text)
            assert "ia::result" in response.json()
            outcomes[(kind, response.status_code)] = (
                outcomes.get((kind, response.status_code), 0) + 1
            )

    # The mix really raced: stock moved both ways, and some of each kind succeeded.
    assert outcomes.get(("issue", 200), 0) > 0
    assert outcomes.get(("return", 200), 0) > 0
    assert outcomes.get(("adjust", 200), 0) > 0
    assert assert_ledger_invariant() == 6
    for inventory in PartInventory.objects.all():
        assert inventory.quantity >= 0 and inventory.kitted_quantity >= 0
        if inventory.serial_number:
            assert inventory.quantity + inventory.kitted_quantity == 1
