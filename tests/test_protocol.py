"""Contract sections 1, 10 and 12.2 over real HTTP: both base paths, the envelopes, paging, the
payload checks, request ids, ETags / If-Match, crashes and throttling."""

import logging
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.api import identity
from config.api.middleware import RequestIdLogFilter
from config.api.oauth import api_client_create
from config.api.throttling import ClientRateThrottle
from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents.models import KitComponent
from tests.crash_urls import SECRET
from tests.support.errors import (
    assert_error,
    err,
    not_allowed,
    precondition_failed,
    route_not_found,
)
from tests.support.refs import ONE, ref
from tests.support.users import bearer_client

V1 = "/ia/api/v1"
BASES = ["", V1]
ITEMS = "/objects/inventory-control/item"
WAREHOUSES = "/objects/inventory-control/warehouse"
LINES = "/objects/inventory-control/kit-component"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def unknown_field(pointer):
    return err(
        "REST-1043",
        f"{pointer} is not a valid field",
        pointer,
        FIELD=pointer,
    )


def payload_errors(*pointers):
    return err(
        "REST-1064",
        "Payload contains errors",
        details=[unknown_field(p) for p in pointers],
    )


def state():
    """Every row of every object table: compared before and after a refused request."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (Item, Warehouse, KitComponent)
    }


@pytest.fixture
def warehouse(admin_user):
    return inventory_services.warehouse_create(user=admin_user, code="WH1", name="Main")


def make_warehouses(admin_user, count, prefix="W"):
    return [
        inventory_services.warehouse_create(user=admin_user, code=f"{prefix}{n}", name=f"W {n}")
        for n in range(1, count + 1)
    ]


# --- 1.1 base paths, 1.2 envelopes ------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_warehouse_routes_and_envelopes(api, admin_user, base):
    created = api.post(base + WAREHOUSES, {"id": "WH1", "name": "Main"}, format="json")
    warehouse = Warehouse.objects.get()
    href = f"/objects/inventory-control/warehouse/{warehouse.pk}"  # never with /ia/api/v1
    reference = {"key": str(warehouse.pk), "id": "WH1", "href": href}
    assert (created.status_code, created.json()) == (
        201,
        {"ia::result": reference, "ia::meta": ONE},
    )
    assert created["ETag"] == '"1"'

    got = api.get(base + href)
    stamp = warehouse.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    user = {
        "key": str(admin_user.pk),
        "id": "admin",
        "href": f"/objects/company-config/user/{admin_user.pk}",
    }
    assert (got.status_code, got.json()) == (
        200,
        {
            "ia::result": {
                "key": str(warehouse.pk),
                "id": "WH1",
                "name": "Main",
                "status": "active",
                "audit": {
                    "createdDateTime": stamp,
                    "modifiedDateTime": stamp,
                    "createdBy": str(admin_user.pk),
                    "modifiedBy": str(admin_user.pk),
                    "createdByUser": user,
                    "modifiedByUser": user,
                },
                "href": href,
            },
            "ia::meta": ONE,
        },
    )
    assert got["ETag"] == '"1"'

    listed = api.get(base + WAREHOUSES)
    assert (listed.status_code, listed.json()) == (
        200,
        {
            "ia::result": [reference],
            "ia::meta": {
                "totalCount": 1,
                "start": 1,
                "pageSize": 100,
                "next": None,
                "previous": None,
            },
        },
    )

    patched = api.patch(base + href, {"name": "Renamed"}, format="json")
    assert (patched.status_code, patched.json()) == (
        200,
        {"ia::result": reference, "ia::meta": ONE},
    )
    assert patched["ETag"] == '"2"'
    warehouse.refresh_from_db()
    assert (warehouse.name, warehouse.version) == ("Renamed", 2)

    deleted = api.delete(base + href)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Warehouse.objects.exists()


@pytest.mark.parametrize("base", BASES)
def test_item_routes_and_envelopes(api, base):
    created = api.post(
        base + ITEMS, {"id": "Prnt_Paper", "name": "Paper", "itemType": "inventory"}, format="json"
    )
    item = Item.objects.get()
    reference = {"key": str(item.pk), "id": "Prnt_Paper", "href": f"{ITEMS}/{item.pk}"}
    assert (created.status_code, created.json()) == (
        201,
        {"ia::result": reference, "ia::meta": ONE},
    )

    got = api.get(f"{base}{ITEMS}/{item.pk}")
    assert got.status_code == 200
    assert got.json()["ia::meta"] == ONE
    assert {k: got.json()["ia::result"][k] for k in ("key", "id", "href")} == reference

    listed = api.get(base + ITEMS)
    assert listed.json()["ia::result"] == [reference]

    patched = api.patch(f"{base}{ITEMS}/{item.pk}", {"name": "Better paper"}, format="json")
    assert (patched.status_code, patched.json()) == (
        200,
        {"ia::result": reference, "ia::meta": ONE},
    )
    assert Item.objects.get().name == "Better paper"

    deleted = api.delete(f"{base}{ITEMS}/{item.pk}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Item.objects.exists()


@pytest.mark.parametrize("base", BASES)
def test_kit_component_routes_and_envelopes(api, items, base):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    body = {"kit": {"id": "Kit_1"}, "component": {"key": str(paper.pk)}, "numberOfUnits": 2}
    created = api.post(base + LINES, body, format="json")
    line = KitComponent.objects.get()
    reference = {"key": str(line.pk), "id": str(line.pk), "href": f"{LINES}/{line.pk}"}
    assert (created.status_code, created.json()) == (
        201,
        {"ia::result": reference, "ia::meta": ONE},
    )
    assert (line.kit, line.component, line.number_of_units) == (kit, paper, 2)

    got = api.get(f"{base}{LINES}/{line.pk}")
    assert got.status_code == 200
    assert got.json()["ia::result"]["kit"] == ref(kit)

    listed = api.get(base + LINES)
    assert listed.json()["ia::result"] == [reference]

    patched = api.patch(f"{base}{LINES}/{line.pk}", {"numberOfUnits": 3}, format="json")
    assert (patched.status_code, patched.json()) == (
        200,
        {"ia::result": reference, "ia::meta": ONE},
    )

    deleted = api.delete(f"{base}{LINES}/{line.pk}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not KitComponent.objects.exists()


@pytest.mark.parametrize("base", BASES)
def test_oauth2_token_route_at_both_bases(admin_user, base):
    client_id, secret = api_client_create(user=admin_user, name="both bases")
    client = APIClient()
    response = client.post(
        base + "/oauth2/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert set(response.json()) >= {"access_token", "token_type", "expires_in", "refresh_token"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    for other in BASES:
        assert client.get(other + WAREHOUSES).status_code == 200


@pytest.mark.parametrize("base", BASES)
def test_oauth2_authorize_route_at_both_bases(client, base):
    # Not logged in: the authorization page sends the browser to the login page.
    response = client.get(base + "/oauth2/authorize")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


# --- 1.2 page meta -----------------------------------------------------------------------------


def page_meta(total, start, size, next_, previous):
    return {
        "totalCount": total,
        "start": start,
        "pageSize": size,
        "next": next_,
        "previous": previous,
    }


def test_empty_list(api):
    response = api.get(WAREHOUSES)
    assert (response.status_code, response.json()) == (
        200,
        {"ia::result": [], "ia::meta": page_meta(0, 1, 100, None, None)},
    )


@pytest.mark.parametrize(
    ("query", "rows", "meta"),
    [
        ("", [0, 1, 2, 3, 4], page_meta(5, 1, 100, None, None)),
        ("?size=2", [0, 1], page_meta(5, 1, 2, 3, None)),
        ("?start=3&size=2", [2, 3], page_meta(5, 3, 2, 5, 1)),
        ("?start=4&size=2", [3, 4], page_meta(5, 4, 2, None, 2)),
        ("?start=5&size=2", [4], page_meta(5, 5, 2, None, 3)),  # the last page
        ("?start=6&size=2", [], page_meta(5, 6, 2, None, 4)),  # past the end
        ("?start=2", [1, 2, 3, 4], page_meta(5, 2, 100, None, 1)),
        ("?size=4000", [0, 1, 2, 3, 4], page_meta(5, 1, 4000, None, None)),
        ("?start=1&size=5", [0, 1, 2, 3, 4], page_meta(5, 1, 5, None, None)),
        ("?start=1&size=4", [0, 1, 2, 3], page_meta(5, 1, 4, 5, None)),
        (
            "?start=99999999999999999999999",
            [],
            page_meta(5, 99999999999999999999999, 100, None, 99999999999999999999899),
        ),
    ],
)
def test_page_meta(api, admin_user, query, rows, meta):
    warehouses = make_warehouses(admin_user, 5)
    response = api.get(WAREHOUSES + query)
    assert (response.status_code, response.json()) == (
        200,
        {"ia::result": [ref(warehouses[n]) for n in rows], "ia::meta": meta},
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("size", "4001"),
        ("size", "0"),
        ("size", "-1"),
        ("size", "abc"),
        ("size", "1.5"),
        ("size", "²"),
        ("start", "0"),
        ("start", "-3"),
        ("start", "abc"),
        ("start", "²"),
    ],
)
def test_bad_paging_parameter_is_400(api, admin_user, name, value):
    make_warehouses(admin_user, 2)
    reason = (
        "must be an integer between 1 and 4000"
        if name == "size"
        else "must be an integer at least 1"
    )
    response = api.get(WAREHOUSES, {name: value})
    assert_error(
        response,
        400,
        err(
            "KS-4003",
            f"Query parameter {name} is invalid: {reason}",
            name,
            PARAMETER=name,
            REASON=reason,
        ),
    )


def test_references_are_ordered_by_key(api, admin_user):
    # Created in reverse alphabetical order: the list follows keys, not ids or names.
    warehouses = [
        inventory_services.warehouse_create(user=admin_user, code=code, name=name)
        for code, name in [("Z", "a"), ("M", "c"), ("A", "b")]
    ]
    Warehouse.objects.filter(pk=warehouses[0].pk).update(name="zzz")
    response = api.get(WAREHOUSES)
    assert [row["key"] for row in response.json()["ia::result"]] == [
        str(w.pk) for w in sorted(warehouses, key=lambda w: w.pk)
    ]
    assert response.json()["ia::result"] == [ref(w) for w in warehouses]


def test_list_query_count_does_not_grow_with_rows(api, admin_user):
    make_warehouses(admin_user, 1)
    with CaptureQueriesContext(connection) as one:
        assert api.get(WAREHOUSES).status_code == 200
    make_warehouses(admin_user, 30, prefix="X")
    with CaptureQueriesContext(connection) as many:
        response = api.get(WAREHOUSES)
    assert len(response.json()["ia::result"]) == 31
    assert len(many) == len(one)


# --- 10: routes and methods --------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/objects/inventory-control/bogus",
        "/objects/inventory-control/item/1/extra",
        "/ia/api/v1/nope",
        "/ia/api/v2/objects/inventory-control/item",
        "/objects/inventory-control/item//",
    ],
)
def test_unknown_route_is_json_404(api, settings, debug, path):
    settings.DEBUG = debug
    response = api.get(path)
    assert_error(response, 404, route_not_found(path))


def test_unknown_route_answers_without_credentials(client):
    assert_error(client.post("/nope", {}), 404, route_not_found("/nope"))


@pytest.mark.parametrize("key", ["999999", "abc", "²", "99999999999999999999999"])
def test_unknown_key_is_404(api, key):
    response = api.get(f"{ITEMS}/{key}")
    assert_error(
        response,
        404,
        err(
            "KS-4041",
            f"inventory-control/item with key {key} was not found",
            OBJECT="inventory-control/item",
            KEY=key,
        ),
    )


@pytest.mark.parametrize("base", BASES)
def test_methods_not_allowed(api, warehouse, base):
    before = state()
    detail = f"{base}{WAREHOUSES}/{warehouse.pk}"
    collection = base + WAREHOUSES
    for method, path in [
        ("PUT", detail),
        ("POST", detail),
        ("DELETE", collection),
        ("PATCH", collection),
        ("PUT", collection),
    ]:
        response = api.generic(method, path, '{"name": "x"}', content_type="application/json")
        assert_error(response, 405, not_allowed(method, path))
        allowed = (
            "GET, PATCH, DELETE, HEAD, OPTIONS" if path == detail else "GET, POST, HEAD, OPTIONS"
        )
        assert response["Allow"] == allowed
    assert state() == before


# --- 1.3 requests: media type, JSON, payload ---------------------------------------------------


def unsupported(media_type):
    return err(
        "KS-4151",
        f"Content type {media_type} is not supported: send application/json",
        TYPE=media_type,
    )


def test_not_json_is_415(api, warehouse):
    before = state()
    detail = f"{WAREHOUSES}/{warehouse.pk}"
    body = '{"id": "WH2", "name": "x"}'
    assert_error(
        api.post(WAREHOUSES, body, content_type="text/plain"), 415, unsupported("text/plain")
    )
    assert_error(
        api.patch(detail, '{"name": "x"}', content_type="text/plain; charset=utf-8"),
        415,
        unsupported("text/plain"),
    )
    form = "application/x-www-form-urlencoded"
    assert_error(api.post(WAREHOUSES, "id=WH2&name=x", content_type=form), 415, unsupported(form))
    assert_error(
        api.post(WAREHOUSES, {"id": "WH2", "name": "x"}, format="multipart"),
        415,
        unsupported("multipart/form-data"),
    )
    assert state() == before


def test_json_with_charset_is_accepted(api):
    response = api.post(
        WAREHOUSES, '{"id": "WH2", "name": "x"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"id" "WH2"}', "Expecting ':' delimiter: line 1 column 7 (char 6)"),
        ('{"id": NaN}', "NaN is not valid JSON"),
        (b'{"id": "\xff"}', "the body is not UTF-8"),
    ],
)
def test_malformed_json_is_400(api, body, reason):
    response = api.post(WAREHOUSES, body, content_type="application/json")
    assert_error(
        response,
        400,
        err(
            "KS-4001",
            f"Request body is not valid JSON: {reason}",
            REASON=reason,
        ),
    )
    assert not Warehouse.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n"])
def test_empty_post_and_patch_require_a_payload(api, warehouse, body):
    before = state()
    for method, path in [("POST", WAREHOUSES), ("PATCH", f"{WAREHOUSES}/{warehouse.pk}")]:
        response = api.generic(method, path, body, content_type="application/json")
        assert_error(
            response,
            400,
            err(
                "REST-1028",
                f"A {method} request requires a payload",
                METHOD=method,
            ),
        )
    assert state() == before


def test_post_without_any_body_requires_a_payload(api):
    response = api.post(WAREHOUSES)
    assert_error(
        response,
        400,
        err(
            "REST-1028",
            "A POST request requires a payload",
            METHOD="POST",
        ),
    )


@pytest.mark.parametrize("body", ['[{"id": "WH2", "name": "x"}]', '"WH2"', "42", "null"])
def test_payload_that_is_not_an_object_is_400(api, warehouse, body):
    before = state()
    expected = err("KS-4002", "The payload must be a JSON object")
    assert_error(api.post(WAREHOUSES, body, content_type="application/json"), 400, dict(expected))
    response = api.patch(f"{WAREHOUSES}/{warehouse.pk}", body, content_type="application/json")
    assert_error(response, 400, dict(expected))
    assert state() == before


def bad_request(reason):
    return err("KS-4005", f"Bad request: {reason}", REASON=reason)


def test_oversized_body_is_400_not_a_crash(api, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"id": "W1", "name": "%s"}' % ("x" * 1000)
    response = api.post(WAREHOUSES, body, content_type="application/json")
    assert_error(response, 400, bad_request("the body is too large"))
    assert not Warehouse.objects.exists()
    # The token endpoint is a plain Django view: the middleware answers the same way.
    response = client.post("/oauth2/token", body, content_type="application/json")
    assert_error(response, 400, bad_request("the body is too large"))


def test_too_many_query_parameters_is_400_not_a_crash(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = api.get(WAREHOUSES + "?" + "&".join(f"p{n}=1" for n in range(6)))
    assert_error(response, 400, bad_request("the request is invalid"))


# --- 1.3 unknown and read-only fields ----------------------------------------------------------


def test_unknown_top_level_field(api):
    response = api.post(
        WAREHOUSES, {"id": "WH2", "name": "x", "newDate": "2024-01-01"}, format="json"
    )
    assert_error(response, 400, payload_errors("/newDate"))
    assert not Warehouse.objects.exists()


def test_unknown_nested_group_field(api, items):
    before = state()
    body = {
        "id": "Gadget",
        "name": "Gadget",
        "itemType": "inventory",
        "tracking": {"enableSerialNo": True, "bogus": 1},
        "purchasing": {"standardCost": "1", "listPrice": "2"},
    }
    response = api.post(ITEMS, body, format="json")
    assert_error(response, 400, payload_errors("/tracking/bogus", "/purchasing/listPrice"))
    paper = items["Prnt_Paper"]
    response = api.patch(
        identity.href(paper), {"tracking": {"bogus": 1}, "extra": 2}, format="json"
    )
    assert_error(response, 400, payload_errors("/tracking/bogus", "/extra"))
    assert state() == before


def test_unknown_reference_member_and_top_level_field(api, items, add_line):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    line = add_line(kit, items["NonInv"])
    before = state()
    body = {
        "kit": {"key": str(kit.pk), "foo": "x"},
        "component": {"key": str(paper.pk)},
        "numberOfUnits": 1,
        "bogus": True,
    }
    assert_error(api.post(LINES, body, format="json"), 400, payload_errors("/kit/foo", "/bogus"))
    response = api.patch(
        identity.href(line), {"component": {"id": "Prnt_Paper", "colour": "red"}}, format="json"
    )
    assert_error(response, 400, payload_errors("/component/colour"))
    assert state() == before


def test_patching_back_what_get_returned_changes_nothing(api, items, add_line, warehouse):
    line = add_line(items["Kit_1"], items["Prnt_Paper"], 2, revenue_percentage=40)
    for obj in (line, items["Kit_1"], items["Prnt_Paper"], warehouse):
        model = type(obj)
        before = model.objects.filter(pk=obj.pk).values().get()
        body = api.get(identity.href(obj)).json()["ia::result"]
        response = api.patch(identity.href(obj), body, format="json")
        assert (response.status_code, response.json()) == (
            200,
            {"ia::result": ref(obj), "ia::meta": ONE},
        )
        after = model.objects.filter(pk=obj.pk).values().get()
        # Only the bookkeeping of the write itself moves.
        for column in ("version", "modified_at"):
            before.pop(column), after.pop(column)
        assert after == before


# --- 1.3 GET / DELETE with a body ---------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "{}"])
def test_get_and_delete_with_empty_object_body(api, warehouse, body):
    plain = api.get(identity.href(warehouse))
    with_body = api.generic("GET", identity.href(warehouse), body, content_type="application/json")
    assert (with_body.status_code, with_body.json()) == (200, plain.json())
    listed = api.generic("GET", WAREHOUSES, body, content_type="application/json")
    assert (listed.status_code, listed.json()["ia::result"]) == (200, [ref(warehouse)])
    deleted = api.generic("DELETE", identity.href(warehouse), body, content_type="application/json")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Warehouse.objects.exists()


# --- request ids --------------------------------------------------------------------------------


def test_every_response_carries_a_request_id(api, client, warehouse):
    responses = [
        api.get(WAREHOUSES),  # success
        api.post(WAREHOUSES, "{", content_type="application/json"),  # 400
        client.get(WAREHOUSES),  # 401
        api.get("/nope"),  # unknown route
        client.get("/healthz"),
        client.post("/oauth2/token", {"grant_type": "client_credentials"}),
        api.delete(identity.href(warehouse)),  # 204
    ]
    ids = [response["X-Request-Id"] for response in responses]
    assert all(GENERATED_ID.match(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    for response in responses[1:4]:
        assert response.json()["ia::result"]["ia::error"]["supportId"] == response["X-Request-Id"]


@pytest.mark.parametrize("incoming", ["abc12345-XYZ", "req.1~2_3-4", "a" * 128])
def test_well_formed_incoming_request_id_is_echoed(api, incoming):
    assert api.get(WAREHOUSES, HTTP_X_REQUEST_ID=incoming)["X-Request-Id"] == incoming
    failed = api.get("/nope", HTTP_X_REQUEST_ID=incoming)
    assert failed["X-Request-Id"] == incoming
    assert failed.json()["ia::result"]["ia::error"]["supportId"] == incoming


@pytest.mark.parametrize(
    "incoming", ["short", "has space 123", "a" * 129, "semi;colon12", "ünïcode123"]
)
def test_malformed_incoming_request_id_is_replaced(api, incoming):
    response = api.get(WAREHOUSES, HTTP_X_REQUEST_ID=incoming)
    assert GENERATED_ID.match(response["X-Request-Id"])


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


def test_a_window_opens_at_the_first_request_and_admits_the_rate(api, two_per_minute, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(ClientRateThrottle, "timer", lambda self: clock[0])
    assert [api.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    clock[0] = 1045.2
    response = api.get(WAREHOUSES)
    assert response["Retry-After"] == "15"  # the window closes 60 s after its first request
    assert_throttled(response)
    # One small entry per client, however many requests the window holds.
    (key,) = [k for k in cache._cache if "throttle_client" in k]
    assert cache.get(key.split(":", 2)[-1]) == (1000.0, 2)
    clock[0] = 1060.0
    assert [api.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(api.get(WAREHOUSES))


def test_each_oauth_application_has_its_own_bucket(admin_user, two_per_minute):
    first = bearer_client(admin_user, "first")
    second = bearer_client(admin_user, "second")  # the same user, another application
    assert [first.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(first.get(WAREHOUSES))
    assert [second.get(WAREHOUSES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(second.get(WAREHOUSES))
