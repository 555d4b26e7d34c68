"""inventory-control/item over HTTP: the list, and the section 10 statuses it answers."""

import pytest

from config.api import identity
from config.api.throttling import ClientRateThrottle
from inventory.models import Item
from tests.support.errors import assert_error, err
from tests.support.items import ITEMS, post, state
from tests.support.refs import ref
from tests.support.users import make_user

# --- list ---------------------------------------------------------------------------------


def listing(api, query=""):
    response = api.get(ITEMS + query)
    assert response.status_code == 200, response.content
    return response.json()


def refs(*objs):
    return [ref(o) for o in sorted(objs, key=lambda o: o.pk)]


def test_list_returns_references_in_key_order(api, items):
    assert listing(api) == {
        "ia::result": refs(*items.values()),
        "ia::meta": {
            "totalCount": 8,
            "start": 1,
            "pageSize": 100,
            "next": None,
            "previous": None,
        },
    }


def test_list_pages(api, items):
    ordered = sorted(items.values(), key=lambda o: o.pk)
    assert listing(api, "?start=3&size=2") == {
        "ia::result": refs(*ordered[2:4]),
        "ia::meta": {"totalCount": 8, "start": 3, "pageSize": 2, "next": 5, "previous": 1},
    }
    assert listing(api, "?start=8&size=2")["ia::meta"]["next"] is None


def test_list_filters(api, items):
    Item.objects.filter(pk=items["NonInv"].pk).update(status="inactive")

    assert listing(api, "?itemType=kit")["ia::result"] == refs(items["Kit_1"], items["Kit_2"])
    assert listing(api, "?itemType=stockableKit")["ia::result"] == refs(
        items["SKit_1"], items["SKit_2"]
    )
    assert listing(api, "?status=inactive")["ia::result"] == refs(items["NonInv"])
    assert listing(api, "?id=Kit_1")["ia::result"] == refs(items["Kit_1"])
    assert listing(api, "?id=Nope")["ia::result"] == []
    assert listing(api, "?itemType=kit&status=active")["ia::meta"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("query", "parameter", "reason"),
    [
        ("?itemType=widget", "itemType", "not a valid value"),
        ("?status=gone", "status", "not a valid value"),
        ("?start=0", "start", "must be an integer at least 1"),
        ("?size=4001", "size", "must be an integer between 1 and 4000"),
        ("?size=ten", "size", "must be an integer between 1 and 4000"),
    ],
)
def test_bad_query_is_400(api, items, query, parameter, reason):
    response = api.get(ITEMS + query)
    assert_error(
        response,
        400,
        err(
            "KS-4003",
            f"Query parameter {parameter} is invalid: {reason}",
            parameter,
            PARAMETER=parameter,
            REASON=reason,
        ),
    )


# --- protocol statuses (section 10) -------------------------------------------------------


@pytest.mark.parametrize("key", ["999999", "abc", "1.0"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_key_is_404(api, items, key, method):
    before = state()
    response = getattr(api, method)(f"{ITEMS}/{key}", {"name": "x"}, format="json")
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
    assert state() == before


def test_unknown_field_is_400(api):
    response = post(
        api,
        {"id": "U", "name": "U", "itemType": "inventory", "newDate": 1, "tracking": {"colour": 1}},
    )
    assert_error(
        response,
        400,
        err("REST-1064", "Payload contains errors"),
        [
            err("REST-1043", "/newDate is not a valid field", "/newDate", FIELD="/newDate"),
            err(
                "REST-1043",
                "/tracking/colour is not a valid field",
                "/tracking/colour",
                FIELD="/tracking/colour",
            ),
        ],
    )
    assert not Item.objects.exists()


@pytest.mark.parametrize("method", ["post", "patch"])
def test_missing_payload_is_400(api, items, method):
    url = ITEMS if method == "post" else identity.href(items["Prnt_Paper"])
    before = state()
    response = getattr(api, method)(url, content_type="application/json")
    verb = method.upper()
    assert_error(
        response, 400, err("REST-1028", f"A {verb} request requires a payload", METHOD=verb)
    )
    assert state() == before


def test_malformed_json_is_400(api):
    response = api.post(ITEMS, data='{"id": ', content_type="application/json")
    reason = "Expecting value: line 1 column 8 (char 7)"
    assert_error(
        response,
        400,
        err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason),
    )
    assert not Item.objects.exists()


def test_payload_that_is_not_an_object_is_400(api):
    # (An array is the batch form, contract 13.3: tests/test_batch.py.)
    for body in ["A", 42, True]:
        response = post(api, body)
        assert_error(response, 400, err("KS-4002", "The payload must be a JSON object"))
    assert not Item.objects.exists()


def test_not_json_is_415(api):
    response = api.post(ITEMS, data="id=A&name=A", content_type="application/x-www-form-urlencoded")
    assert_error(
        response,
        415,
        err(
            "KS-4151",
            "Content type application/x-www-form-urlencoded is not supported: "
            "send application/json",
            TYPE="application/x-www-form-urlencoded",
        ),
    )
    assert not Item.objects.exists()


def test_put_is_405(api, items):
    paper = items["Prnt_Paper"]
    before = state()
    response = api.put(identity.href(paper), {"name": "x"}, format="json")
    assert_error(
        response,
        405,
        err(
            "KS-4051",
            f"Method PUT is not allowed on {identity.href(paper)}",
            METHOD="PUT",
            PATH=identity.href(paper),
        ),
    )
    assert state() == before


def test_without_credentials_is_401(db, client):
    response = client.get(ITEMS)
    assert_error(response, 401, err("KS-4011", "Authentication credentials were not provided"))


def test_bad_token_is_401(db, client):
    response = client.get(ITEMS, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(response, 401, err("KS-4012", "The credentials are invalid or have expired"))


def test_read_only_user_is_403_on_writes(client_for, items):
    reader = client_for(make_user("reader", "inventory.view_item"))
    paper = items["Prnt_Paper"]
    before = state()

    assert reader.get(identity.href(paper)).status_code == 200
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(
        reader.post(ITEMS, {"id": "N", "name": "N", "itemType": "kit"}, format="json"),
        403,
        forbidden,
    )
    assert_error(reader.patch(identity.href(paper), {"name": "x"}, format="json"), 403, forbidden)
    assert_error(reader.delete(identity.href(paper)), 403, forbidden)
    assert state() == before


def test_user_without_view_permission_is_403_on_reads(client_for, items):
    nobody = client_for(make_user("nobody"))
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(nobody.get(ITEMS), 403, forbidden)
    assert_error(nobody.get(identity.href(items["Kit_1"])), 403, forbidden)


def test_throttled_is_429(api, monkeypatch):
    monkeypatch.setattr(
        ClientRateThrottle,
        "THROTTLE_RATES",
        {**ClientRateThrottle.THROTTLE_RATES, "client": "2/min"},
    )
    assert api.get(ITEMS).status_code == 200
    assert api.get(ITEMS).status_code == 200
    response = api.get(ITEMS)
    assert response["Retry-After"] == "60"
    assert_error(
        response, 429, err("KS-4291", "Too many requests: retry in 60 seconds", SECONDS=60)
    )
