"""Contract 16 in one process: /healthz asks nothing of the database, /readyz names what does not
answer, /metrics only for staff or METRICS_ALLOWED_CIDRS, stock moves counted once committed,
JSON log lines. The multi-process side (gunicorn) is tests/test_ops_gunicorn.py."""

import json
import logging
import os
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from inventory import services as inventory_services
from inventory.models import PartInventory
from ops.logs import JsonFormatter
from tests.support.errors import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    assert_error,
    not_allowed,
    not_ready,
)
from tests.support.factories import insert_serials, part, stock
from tests.support.kitting import ISSUE, issue_body
from tests.support.users import bearer_client, make_user

PART_INVENTORY = "/objects/inventory-control/part-inventory"


def stock_moves(kind: str) -> float:
    return REGISTRY.get_sample_value("kitsmith_stock_moves_total", {"kind": kind}) or 0.0


# --- /healthz and /readyz -----------------------------------------------------------------------


def test_healthz_asks_nothing_of_the_database(client, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
        head = client.head("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert head.status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks")
@pytest.mark.django_db(transaction=True)
def test_healthz_answers_while_a_request_waits_for_a_stuck_lock(shop, admin_user):
    from tests.test_database_faults import waiting_backend

    api = bearer_client(admin_user)
    answers = {}

    def issue():
        try:
            answers["stuck"] = api.post(
                ISSUE, issue_body(shop["kit"], shop["lot"], 3), format="json"
            )
        finally:
            connection.close()

    with transaction.atomic():  # an external transaction holding the lot
        PartInventory.objects.select_for_update().get(pk=shop["lot"].pk)
        stuck = threading.Thread(target=issue)
        stuck.start()
        waiting_backend()
        health = Client().get("/healthz")
        still_waiting = stuck.is_alive()
    stuck.join(timeout=60)

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert still_waiting
    assert answers["stuck"].status_code == 200  # served once the lock went


def test_readyz_answers_when_database_and_cache_answer(client, db):
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "cache": "ok"},
    )


def unanswering_cache(settings, tmp_path) -> None:
    # A file cache whose directory cannot be made: every write raises, as a lost Redis does.
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(blocker / "cache"),
        }
    }


def test_readyz_names_a_cache_that_does_not_answer(client, db, settings, tmp_path):
    unanswering_cache(settings, tmp_path)
    response = client.get("/readyz")
    assert_error(response, 503, not_ready("cache"))


def test_log_level_warning_keeps_a_5xx_access_line(client, db, settings, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="kitsmith.request")
    unanswering_cache(settings, tmp_path)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    access = [r for r in caplog.records if r.name == "kitsmith.request"]
    assert [(r.levelname, r.path, r.status) for r in access] == [("ERROR", "/readyz", 503)]


# The landing page shares the probes' GET/HEAD-only wrapper (config.api.responses).
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/"])
def test_probes_refuse_other_methods(path, db):
    response = APIClient(enforce_csrf_checks=True).post(path)
    assert_error(response, 405, not_allowed("POST", path))
    assert response["Allow"] == "GET, HEAD"


def production_setting(name: str):
    """A setting as the production configuration (DEBUG=0) computes it, in its own process."""
    code = f"import json; from django.conf import settings; print(json.dumps(settings.{name}))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0"}
    env["SECRET_KEY"] = "a-production-secret-key-for-this-test-only-0123456789"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_probes_and_metrics_are_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = production_setting("SECURE_REDIRECT_EXEMPT")
    settings.METRICS_ALLOWED_CIDRS = ["127.0.0.1/32"]
    answers = [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")]
    assert answers == [200, 200, 200]
    assert client.get("/objects/inventory-control/item").status_code == 301


# --- /metrics -----------------------------------------------------------------------------------


def test_metrics_without_credentials_is_401(client, db):
    assert_error(client.get("/metrics"), 401, NOT_AUTHENTICATED)


def test_metrics_for_a_user_who_is_not_staff_is_403(db):
    api = bearer_client(make_user("clerk"))
    assert_error(api.get("/metrics"), 403, FORBIDDEN)


def token_answers() -> float:
    labels = {"view": "oauth2-token", "method": "POST", "status": "200"}
    name = "django_http_responses_total_by_status_view_method_total"
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_for_staff_by_bearer_token_and_session(admin_user):
    before = token_answers()
    by_token = bearer_client(admin_user).get("/metrics")
    session = Client()
    session.force_login(admin_user)
    by_session = session.get("/metrics")
    for response in (by_token, by_session):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert b"# TYPE kitsmith_stock_moves_total counter" in response.content
    # The token request itself was counted, by route and status (the registry is the process's:
    # earlier tests' token requests are in it too, so the count must have grown by one).
    shown = [
        sample.value
        for family in text_string_to_metric_families(by_token.content.decode())
        for sample in family.samples
        if sample.name == "django_http_responses_total_by_status_view_method_total"
        and sample.labels == {"view": "oauth2-token", "method": "POST", "status": "200"}
    ]
    assert shown == [before + 1] and token_answers() == before + 1


def test_metrics_from_an_allowed_address_needs_no_credentials(client, db, settings):
    settings.METRICS_ALLOWED_CIDRS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert_error(client.get("/metrics", REMOTE_ADDR="192.168.0.9"), 401, NOT_AUTHENTICATED)

    # An allowed address in X-Forwarded-For is believed only as a trusted proxy wrote it.
    settings.TRUSTED_PROXIES = ["192.168.0.1/32"]
    untrusted = client.get("/metrics", REMOTE_ADDR="192.168.0.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert_error(untrusted, 401, NOT_AUTHENTICATED)
    # The client forged a hop, the trusted proxy appended the address it received from.
    forged = "10.1.2.3, 192.168.0.9"
    through = client.get("/metrics", REMOTE_ADDR="192.168.0.1", HTTP_X_FORWARDED_FOR=forged)
    assert_error(through, 401, NOT_AUTHENTICATED)
    # The proxy relaying an allowed client: admitted.
    relayed = client.get("/metrics", REMOTE_ADDR="192.168.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert relayed.status_code == 200


def request_durations(route: str, method: str, status: str) -> tuple[float, float]:
    """How many requests kitsmith_http_request_duration_seconds observed with these labels, and
    how many of them took at most 10 seconds."""
    labels = {"route": route, "method": method, "status": status}
    name = "kitsmith_http_request_duration_seconds"
    count = REGISTRY.get_sample_value(f"{name}_count", labels) or 0.0
    fast = REGISTRY.get_sample_value(f"{name}_bucket", {**labels, "le": "10.0"}) or 0.0
    return count, fast


def test_request_latency_by_route_method_and_status(admin_user):
    cases = [
        ("healthz", "GET", "200"),
        ("healthz", "POST", "405"),
        ("inventory-control-item-list", "GET", "401"),
        ("inventory-control-item-list", "GET", "200"),
        ("config.api.responses.handler404", "GET", "404"),
        ("healthz", "other", "405"),
    ]
    before = {case: request_durations(*case) for case in cases}
    api = bearer_client(admin_user)
    anonymous = APIClient()
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.post("/healthz").status_code == 405
    assert anonymous.get("/objects/inventory-control/item").status_code == 401
    assert api.get("/objects/inventory-control/item").status_code == 200
    assert anonymous.get("/nope").status_code == 404
    # A method of a client's own making is one label value, not one each.
    assert anonymous.generic("BREW", "/healthz").status_code == 405
    grown = {
        case: tuple(
            after - was for after, was in zip(request_durations(*case), before[case], strict=True)
        )
        for case in cases
    }
    assert grown == {
        ("healthz", "GET", "200"): (2, 2),
        ("healthz", "POST", "405"): (1, 1),
        ("inventory-control-item-list", "GET", "401"): (1, 1),
        ("inventory-control-item-list", "GET", "200"): (1, 1),
        ("config.api.responses.handler404", "GET", "404"): (1, 1),
        ("healthz", "other", "405"): (1, 1),
    }
    assert request_durations("healthz", "BREW", "405") == (0, 0)


def test_metrics_refuses_other_methods(admin_user):
    response = bearer_client(admin_user).post("/metrics")
    assert_error(response, 405, not_allowed("POST", "/metrics"))


# --- stock moves --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_stock_moves_count_committed_ledger_rows_of_every_write_path(shop, admin_user):
    api = bearer_client(admin_user)
    before = {kind: stock_moves(kind) for kind in ("issue", "create", "scrap")}

    # Kitting's literal SQL: an issue (one row), and a refused one (none).
    assert (
        api.post(ISSUE, issue_body(shop["kit"], shop["loose"], 2), format="json").status_code == 200
    )
    assert (
        api.post(ISSUE, issue_body(shop["kit"], shop["loose"], 999), format="json").status_code
        == 422
    )
    # The set-based create of a batch: one INSERT of 3 ledger rows.
    batch = [{"part": {"id": "Screw"}, "quantity": 1} for _ in range(3)]
    assert api.post(PART_INVENTORY, batch, format="json").status_code == 201
    # A batch the database refuses one row of: written again row by row, the 2 written counted.
    tracked = part(admin_user, "Tracked", enable_serial_no=True)
    stock(admin_user, tracked, serial_number="T-2", quantity=1)
    created = stock_moves("create")
    refused = insert_serials(admin_user, tracked, ["T-1", "T-2", "T-3"])
    assert list(refused) == [1] and stock_moves("create") - created == 2
    # A model save rolled back with its transaction: not counted.
    scrap = {"part_inventory_key": shop["loose"].pk, "type": "scrap", "quantity": Decimal(1)}
    with pytest.raises(RuntimeError), transaction.atomic():
        inventory_services.part_inventory_adjust(user=admin_user, reason="dropped", **scrap)
        raise RuntimeError
    # The same committed: counted.
    inventory_services.part_inventory_adjust(user=admin_user, reason="dropped", **scrap)

    assert {kind: stock_moves(kind) - before[kind] for kind in before} == {
        "issue": 1,
        "create": 3 + 1 + 2,
        "scrap": 1,
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process on the database")
@pytest.mark.django_db(transaction=True)
def test_a_stock_move_stays_committed_and_answered_when_counting_it_fails(shop, tmp_path):
    from tests.support.server import database_url

    # A multi-process metrics directory that is not there: counting the move cannot write.
    code = (
        "import django; from decimal import Decimal; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from inventory import services\n"
        "services.part_inventory_adjust(user=get_user_model().objects.get(username='admin'),"
        f" reason='dropped', part_inventory_key={shop['loose'].pk}, type='scrap',"
        " quantity=Decimal(1))\n"
        "print('answered')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "gone"),
    }
    before = shop["loose"].transactions.count()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "answered\n"), done.stderr
    assert "FileNotFoundError" in done.stderr  # logged, not raised
    assert shop["loose"].transactions.count() == before + 1


# --- JSON logs ----------------------------------------------------------------------------------


def test_a_json_error_line_carries_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("kitsmith.request").makeRecord(
            "kitsmith.request", logging.ERROR, __file__, 1, "Unhandled %s", ("crash",), None
        )
        record.exc_info = sys.exc_info()
    record.request_id = "req-00000001"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert set(parsed) == {"time", "level", "logger", "message", "request_id", "traceback"}
    assert (parsed["level"], parsed["message"], parsed["request_id"]) == (
        "ERROR",
        "Unhandled crash",
        "req-00000001",
    )
    assert parsed["traceback"].startswith("Traceback (most recent call last):")
    assert parsed["traceback"].endswith("RuntimeError: boom")
