"""Contract section 1.3 over real HTTP: media types, JSON and payload checks, unknown and read-only
fields, bodies on GET / DELETE, and request ids."""

import pytest

from config.api import identity
from inventory.models import Warehouse
from tests.support.errors import (
    assert_error,
    err,
)
from tests.support.protocol import GENERATED_ID, ITEMS, LINES, WAREHOUSES, payload_errors, state
from tests.support.refs import ONE, ref

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
        ('{"id": ' + "[" * 65 + "]" * 65 + "}", "the body nests deeper than 64 levels"),
        ('{"id": ' + "[" * 5000 + "]" * 5000 + "}", "the body nests deeper than 64 levels"),
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
    if not body.startswith("["):  # POST of an array is the batch form (contract 13.3)
        response = api.post(WAREHOUSES, body, content_type="application/json")
        assert_error(response, 400, dict(expected))
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
