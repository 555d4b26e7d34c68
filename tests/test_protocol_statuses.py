"""Contract sections 10, 11 and 12.2 over real HTTP: ETags / If-Match, crashes (500) and
throttling (429)."""

import logging
import time

import pytest

from config.api import identity
from inventory.models import Warehouse
from ops.logs import RequestIdLogFilter
from tests.crash_urls import SECRET
from tests.support.errors import (
    assert_error,
    err,
    precondition_failed,
)
from tests.support.protocol import LINES, WAREHOUSES, state
from tests.support.users import bearer_client

# --- 12.2 ETag and If-Match ---------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"2"', "*", 'W/"2"', '"1", "2"', '"7" , W/"2"'])
def test_matching_if_match_is_accepted(api, warehouse, if_match):
    api.patch(identity.href(warehouse), {"name": "v2"}, format="json")  # now version 2
    patched = api.patch(
        identity.href(warehouse), {"name": "v3"}, format="json", HTTP_IF_MATCH=if_match
    )
    assert (patched.status_code, patched["ETag"]) == (200, '"3"')
    assert api.get(identity.href(warehouse))["ETag"] == '"3"'
    deleted = api.delete(identity.href(warehouse), HTTP_IF_MATCH=if_match.replace("2", "3"))
    assert deleted.status_code == 204
    assert not Warehouse.objects.exists()


@pytest.mark.parametrize("stale", ['"1"', 'W/"1"', '"1", "3"', '"2x"', '""'])
def test_stale_if_match_is_412_and_changes_nothing(api, warehouse, stale):
    first = api.patch(identity.href(warehouse), {"name": "v2"}, format="json", HTTP_IF_MATCH='"1"')
    assert (first.status_code, first["ETag"]) == (200, '"2"')
    before = state()
    response = api.patch(
        identity.href(warehouse), {"name": "lost"}, format="json", HTTP_IF_MATCH=stale
    )
    assert_error(response, 412, precondition_failed(stale, '"2"'))
    response = api.delete(identity.href(warehouse), HTTP_IF_MATCH=stale)
    assert_error(response, 412, precondition_failed(stale, '"2"'))
    assert state() == before


def test_if_match_is_optional_on_items(api, items):
    paper = items["Prnt_Paper"]
    assert api.get(identity.href(paper))["ETag"] == '"1"'
    patched = api.patch(identity.href(paper), {"name": "No precondition"}, format="json")
    assert (patched.status_code, patched["ETag"]) == (200, '"2"')
    assert api.delete(identity.href(paper)).status_code == 204


# --- 500: crashes -------------------------------------------------------------------------------


INTERNAL = err(
    "KS-5001",
    "An unexpected error occurred; quote the supportId when reporting it",
)


def assert_crash_logged(caplog, response):
    records = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert len(records) == 1
    assert SECRET in str(records[0].exc_info[1])
    assert records[0].request_id == response["X-Request-Id"]


@pytest.fixture
def log_with_request_ids(caplog):
    # The same filter the LOGGING setting puts on the console handler.
    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level(logging.ERROR)
    return caplog


@pytest.mark.urls("tests.crash_urls")
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/crash/drf", "/crash/plain"])
def test_crash_is_500_without_details(api, settings, log_with_request_ids, debug, path):
    settings.DEBUG = debug
    response = api.get(path, HTTP_X_REQUEST_ID="crash-test-0001")
    assert response["X-Request-Id"] == "crash-test-0001"
    assert_error(response, 500, dict(INTERNAL))
    assert SECRET.encode() not in response.content
    assert b"Traceback" not in response.content
    assert b"RuntimeError" not in response.content
    assert_crash_logged(log_with_request_ids, response)


@pytest.mark.urls("tests.crash_urls")
def test_crash_inside_a_write_rolls_it_back(api, items, add_line, log_with_request_ids):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    response = api.delete(f"/crash{LINES}/{line.pk}")
    assert_error(response, 500, dict(INTERNAL))
    assert SECRET.encode() not in response.content
    assert state() == before
    assert_crash_logged(log_with_request_ids, response)


# --- 11: throttling -----------------------------------------------------------------------------


@pytest.fixture
def two_per_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "2/min", "anon": "2/min"},
    }


def assert_throttled(response):
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= 60
    assert_error(
        response,
        429,
        err(
            "KS-4291",
            f"Too many requests: retry in {seconds} seconds",
            SECONDS=seconds,
        ),
    )


def test_throttled_client_gets_429_with_retry_after(api, two_per_minute):
    assert api.get(WAREHOUSES).status_code == 200
    assert api.post(WAREHOUSES, {"id": "W1", "name": "x"}, format="json").status_code == 201
    response = api.post(WAREHOUSES, {"id": "W2", "name": "x"}, format="json")
    assert_throttled(response)
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["W1"]
    assert_throttled(api.get("/ia/api/v1" + WAREHOUSES))  # one bucket for both base paths


def test_a_window_closes_a_second_after_its_first_request(api, settings):
    """What a window admits, and its Retry-After, are the 2/min tests' (no timing in them);
    here only that a 1/s window has closed 1.02 s after its first request was answered."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "1/s", "anon": "1/s"},
    }
    # The window opened before that answer came: 1.02 s later it has closed.
    assert api.get(WAREHOUSES).status_code == 200
    time.sleep(1.02)
    assert api.get(WAREHOUSES).status_code == 200


def test_each_oauth_application_has_its_own_bucket(admin_user, two_per_minute):
    first = bearer_client(admin_user, "first")
    second = bearer_client(admin_user, "second")  # the same user, another application
    assert [first.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(first.get(WAREHOUSES))
    assert [second.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(second.get(WAREHOUSES))
