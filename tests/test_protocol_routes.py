"""Contract sections 1 and 10 over real HTTP: both base paths, the envelopes, the page meta, routes
and methods."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.api.oauth import api_client_create
from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents.models import KitComponent
from tests.support.errors import (
    FORBIDDEN,
    assert_error,
    err,
    not_allowed,
    route_not_found,
)
from tests.support.protocol import BASES, ITEMS, LINES, WAREHOUSES, make_warehouses, state
from tests.support.refs import ONE, ref

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
                "inventoryAvailable": True,
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


UNKNOWN_ROUTES = ["/nope", "/objects/inventory-control/bogus", "/ia/api/v1/objects/x/y/1/z"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("session", [False, True], ids=["anonymous", "session"])
def test_unknown_route_is_404_for_every_method_with_csrf_checks_on(admin_user, method, session):
    # Browsers and SDKs send no CSRF token: the route's absence is the answer, not CSRF's 403.
    browser = APIClient(enforce_csrf_checks=True)
    if session:
        browser.force_login(admin_user)
    for path in UNKNOWN_ROUTES:
        response = getattr(browser, method)(path, {"id": "X"}, format="json")
        assert_error(response, 404, route_not_found(path))


def test_csrf_still_guards_session_writes_and_the_admin(admin_user):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    before = state()
    refused = browser.post(WAREHOUSES, {"id": "W1", "name": "x"}, format="json")
    assert_error(refused, 403, FORBIDDEN)
    admin_post = browser.post("/admin/inventory/warehouse/add/", {"code": "W1", "name": "x"})
    assert_error(admin_post, 403, FORBIDDEN)
    assert state() == before


def test_healthz_post_is_405_with_csrf_checks_on(db):
    response = APIClient(enforce_csrf_checks=True).post("/healthz")
    assert_error(response, 405, not_allowed("POST", "/healthz"))
    assert response["Allow"] == "GET, HEAD"


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
        ("PUT", collection),
    ]:
        response = api.generic(method, path, '{"name": "x"}', content_type="application/json")
        assert_error(response, 405, not_allowed(method, path))
        # PATCH on the collection is the batch form (contract 13.3).
        allowed = (
            "GET, PATCH, DELETE, HEAD, OPTIONS"
            if path == detail
            else "GET, POST, PATCH, HEAD, OPTIONS"
        )
        assert response["Allow"] == allowed
    assert state() == before
