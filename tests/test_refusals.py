"""Contract 10 and 16: every refusal on every route is an `ia::error` (GraphQL: `errors[]`) with a
4xx, and changes nothing. JSON nested deeper than 64 levels, a lone surrogate, bytes that are
not UTF-8 (in a body, a form or a query string) are 400; a key that cannot name a row (4,400
digits, beyond bigint, negative, zero, not ASCII digits) is 404 where it names the object, 422
where a body refers to it, 400 where a filter or an argument takes it. Each once answered 500.

The sweep walks the URLconf, so a new route is swept (and must be classified) as it is added."""

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.support.errors import assert_error, err, reference_not_found
from tests.support.graphql import error_entry, errors_of, graphql
from tests.support.kitting import ISSUE
from tests.support.refs import snapshot

pytestmark = pytest.mark.django_db

BIG = "9" * 4400  # int() refuses more than 4,300 digits (ValueError)
# Leading zeros: int() counts them toward its limit, so they once answered 500.
ZEROS = "0" * 4400 + "1"
IMPOSSIBLE_KEYS = [BIG, str(2**63), "-1", "0", "²", ZEROS]
KEY_IDS = ["4400-digits", "2^63", "-1", "0", "²", "4400-zeros-then-1"]
DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
TOO_DEEP = err(
    "KS-4001",
    "Request body is not valid JSON: the body nests deeper than 64 levels",
    REASON="the body nests deeper than 64 levels",
)
NOT_UTF8 = err(
    "KS-4001",
    "Request body is not valid JSON: the body is not UTF-8",
    REASON="the body is not UTF-8",
)
LONE_SURROGATE = err(
    "KS-4010",
    "Invalid text at /name: the string is not valid Unicode text (a lone surrogate)",
    "/name",
    POINTER="/name",
    REASON="the string is not valid Unicode text (a lone surrogate)",
)
QUERY_NOT_UTF8 = err(
    "KS-4005",
    "Bad request: the query string is not UTF-8 text",
    REASON="the query string is not UTF-8 text",
)
FORM_NOT_UTF8 = err(
    "KS-4005",
    "Bad request: the form body is not UTF-8 text",
    REASON="the form body is not UTF-8 text",
)
# Query strings whose %-escapes are no UTF-8: Latin-1's ÿ, and a lone surrogate encoded as
# UTF-8 would encode it (which UTF-8 forbids).
BAD_QUERY_STRINGS = ["id=%FF", "name=%ED%A0%80"]


def patterns(resolvers, prefix=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "v1":  # the same views again under /ia/api/v1
                continue
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def route(pattern: str, key: str = "1") -> str:
    """A path the pattern matches (`(?P<key>…)` filled with `key`)."""
    path = pattern.replace("(?P<key>[^/]+)", key).replace("^", "").replace("/?$", "")
    return "/" + path.removesuffix("$")


def methods(callback) -> set[str]:
    """The methods a route's view answers (lower case)."""
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = set(getattr(view, "http_method_names", ()))
    if getattr(callback, "actions", None) is not None:  # a viewset's route: its mapped actions
        return allowed & set(callback.actions)
    return {method for method in allowed if hasattr(view, method)}


# Views that take their body in dispatch or as a function, not in a method handler.
DISPATCHED = {"^oauth2/token/?$": ["POST"], "graphql": ["POST"]}


def body_methods(pattern: str, callback) -> list[str]:
    """The methods that carry a JSON body on this route."""
    if pattern in DISPATCHED:
        return DISPATCHED[pattern]
    return sorted(method.upper() for method in methods(callback) & {"post", "patch", "put"})


# Routes outside the sweep of JSON bodies, and why.
NO_JSON_BODY = {
    "healthz": "takes no body",
    "readyz": "takes no body",
    "metrics": "takes no body (Prometheus text, GET only)",
    "admin/": "Django's admin: session forms",
    "api/schema/": "the OpenAPI document",
    "api/docs/": "the OpenAPI document",
    "api/redoc/": "the OpenAPI document",
    "^oauth2/authorize/?$": "a signed-in user's form (a redirect to the login page otherwise)",
    "^.*$": "the catch-all 404",
    "": "the landing page (exactly /, so matched exactly)",
}


def swept():
    """(pattern, [methods]) of every route taking a JSON body; fails on a route it cannot
    classify."""
    found = []
    for pattern, callback in patterns(get_resolver().url_patterns):
        if any(
            pattern.startswith(skipped) if skipped else pattern == "" for skipped in NO_JSON_BODY
        ):
            continue
        taken = body_methods(pattern, callback)
        read_only = pattern.startswith(
            (
                "^services/core/model",
                "^objects/inventory-control/inventory-transaction",
                "^objects/inventory-control/requirement",
            )
        )
        assert bool(taken) != read_only, (pattern, taken)
        if taken:
            found.append((pattern, taken))
    return found


def everything() -> dict[str, list[dict]]:
    """Every row and column of every table: compared before and after the sweep (a count
    would miss a row changed in place)."""
    return snapshot(*apps.get_models())


def test_the_sweep_covers_every_route_of_the_api():
    covered = {pattern for pattern, _ in swept()}
    assert "graphql" in covered
    assert "^oauth2/token/?$" in covered
    assert "^services/core/composite/?$" in covered
    assert sum(p.startswith("^workflows/") for p in covered) == 6
    assert sum(p.startswith("^objects/") for p in covered) == 12  # 6 writable: list, detail


def test_every_route_refuses_bad_json_bodies_with_a_400(api):
    before = everything()
    seen = 0
    for pattern, methods in swept():
        for method in methods:
            path = route(pattern)
            for body, expected in [
                (DEEP_ARRAY, TOO_DEEP),
                (DEEP_OBJECT, TOO_DEEP),
                ('{"name": "\\ud800"}', LONE_SURROGATE),
                (b'{"name": "\xff"}', NOT_UTF8),
            ]:
                # If-Match: the routes that require one read the body after it.
                response = api.generic(
                    method, path, body, content_type="application/json", HTTP_IF_MATCH='"1"'
                )
                assert_error(response, 400, expected, where=f"{method} {path}")
                seen += 1
    assert seen >= 4 * 24
    assert everything() == before


def test_every_route_refuses_a_query_string_that_is_not_utf8(api):
    before = everything()
    for pattern, callback in patterns(get_resolver().url_patterns):
        path = route(pattern)
        for query in BAD_QUERY_STRINGS:
            for method in ["GET", *body_methods(pattern, callback)]:
                response = api.generic(method, f"{path}?{query}", "{}", "application/json")
                assert_error(response, 400, QUERY_NOT_UTF8, where=f"{method} {path}")
    assert everything() == before


@pytest.mark.parametrize("key", IMPOSSIBLE_KEYS, ids=KEY_IDS)
def test_every_object_answers_404_to_a_key_that_can_name_no_row(api, key):
    before = everything()
    for pattern, callback in patterns(get_resolver().url_patterns):
        if not pattern.startswith("^objects/") or "(?P<key>" not in pattern:
            continue
        path = route(pattern, key)
        object_name = pattern.split("/")[1] + "/" + pattern.split("/")[2]
        for method in sorted(methods(callback) & {"get", "patch", "delete"}):
            response = api.generic(method, path, "{}", "application/json", HTTP_IF_MATCH='"1"')
            assert_error(
                response,
                404,
                err(
                    "KS-4041",
                    f"{object_name} with key {key} was not found",
                    OBJECT=object_name,
                    KEY=key,
                ),
                where=f"{method} {path}",
            )
    assert everything() == before


def test_the_token_endpoint_refuses_forms_and_json_that_are_not_text_with_a_400():
    """Before any client is looked up: the same answer whether or not the client exists."""
    anonymous = APIClient()
    for body in ["grant_type=client_credentials&client_id=%ED%A0%80", "client_id=%FF"]:
        response = anonymous.generic(
            "POST", "/oauth2/token", body, "application/x-www-form-urlencoded"
        )
        assert_error(response, 400, FORM_NOT_UTF8)
    # Django reads a form in UTF-8 only: another charset is refused (BadRequest), even over ASCII.
    response = anonymous.generic(
        "POST",
        "/oauth2/token",
        "grant_type=client_credentials&client_id=a&client_secret=b",
        "application/x-www-form-urlencoded; charset=latin-1",
    )
    assert_error(
        response,
        400,
        err("KS-4005", "Bad request: the request is invalid", REASON="the request is invalid"),
    )
    response = anonymous.generic(
        "POST",
        "/oauth2/token",
        '{"grant_type": "client_credentials", "client_id": "\\ud800", "client_secret": "s"}',
        "application/json",
    )
    assert_error(
        response,
        400,
        err(
            "KS-4010",
            "Invalid text at /client_id: the string is not valid Unicode text (a lone surrogate)",
            "/client_id",
            POINTER="/client_id",
            REASON="the string is not valid Unicode text (a lone surrogate)",
        ),
    )


def test_references_inside_bodies_to_impossible_keys_are_422(api, shop):
    before = everything()
    response = api.post(ISSUE, {"key": BIG, "partInventory": {"key": BIG}}, format="json")
    assert_error(
        response,
        422,
        err("KS-4220", "The operation could not be completed"),
        [reference_not_found("partInventory", "inventory-control/part-inventory", f"key {BIG}")],
    )
    part_inventory = {"part": {"key": BIG}, "quantity": 1}
    response = api.post("/objects/inventory-control/part-inventory", part_inventory, format="json")
    assert_error(
        response,
        422,
        err("KS-4220", "The operation could not be completed"),
        [reference_not_found("part", "inventory-control/item", f"key {BIG}")],
    )
    assert everything() == before


def test_batch_keys_that_can_name_no_row_are_404_elements(api, shop):
    before = everything()
    response = api.get(f"/objects/inventory-control/warehouse/{BIG},{shop['wh1'].pk}")
    assert response.status_code == 207
    first, second = response.json()["ia::result"]
    assert first["ia::error"]["errorId"] == "KS-4041"
    assert second["id"] == "WH-1"
    changes = [{"key": BIG, "name": "x"}, {"key": "-1", "name": "y"}]
    response = api.patch("/objects/inventory-control/warehouse", changes, format="json")
    assert response.status_code == 207
    assert [each["ia::error"]["message"] for each in response.json()["ia::result"]] == [
        f"inventory-control/warehouse with key {BIG} was not found",
        "inventory-control/warehouse with key -1 was not found",
    ]
    assert everything() == before


def test_an_if_match_of_thousands_of_digits_matches_nothing(api, shop):
    wh1 = shop["wh1"]
    response = api.patch(
        f"/objects/inventory-control/warehouse/{wh1.pk}",
        {"name": "Renamed"},
        format="json",
        HTTP_IF_MATCH=f'"{BIG}"',
    )
    assert response.status_code == 412
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4121"
    wh1.refresh_from_db()
    assert wh1.name == "Main"


def test_a_start_of_more_digits_than_python_converts_is_a_400(api):
    # A start past every row is an empty page, however far (tests/test_protocol_routes.py); one
    # beyond int()'s 4,300 digits cannot be read.
    response = api.get(f"/objects/inventory-control/item?start={BIG}")
    reason = "must be an integer at least 1"
    assert_error(
        response,
        400,
        err(
            "KS-4003",
            f"Query parameter start is invalid: {reason}",
            "start",
            PARAMETER="start",
            REASON=reason,
        ),
    )


GRAPHQL_ONE = "query One($id: ID!) { %s(id: $id) { id } }"


@pytest.mark.parametrize("key", IMPOSSIBLE_KEYS, ids=KEY_IDS)
def test_graphql_ids_that_can_name_no_row_are_not_found(api, key):
    for field, object_name in [
        ("part", "inventory-control/item"),
        ("partInventory", "inventory-control/part-inventory"),
        ("location", "inventory-control/warehouse"),
        ("run", "inventory-control/run"),
        ("partKit", "inventory-control/part-kit"),
    ]:
        response = graphql(api, GRAPHQL_ONE % field, id=key)
        assert response.json()["data"] == {field: None}
        message = f"{object_name} with key {key} was not found"
        assert errors_of(response) == [error_entry("KS-4041", message, [field], "id")]


def test_graphql_keys_and_etags_of_thousands_of_digits_are_refused(api, shop):
    before = everything()
    lot = shop["lot"]
    response = graphql(
        api,
        "mutation D($id: ID!, $etag: String!) { deletePartInventory(id: $id, etag: $etag) { id } }",
        id=str(lot.pk),
        etag=BIG,
    )
    assert errors_of(response) == [
        error_entry(
            "KS-4222",
            'etag is invalid: one version, as its _etag reads ("3")',
            ["deletePartInventory"],
            "etag",
        )
    ]
    response = graphql(
        api,
        "mutation C($input: CreatePartInventoryInput!) "
        "{ createPartInventory(input: $input) { partInventory { id } } }",
        input={"partId": BIG, "quantity": 1},
    )
    assert errors_of(response) == [
        error_entry(
            "KS-4224",
            f"partId refers to a inventory-control/item that does not exist: key {BIG}",
            ["createPartInventory"],
            "partId",
        )
    ]
    response = graphql(
        api,
        "query P($filters: PartsInputFilters) { parts(filters: $filters) { edges { cursor } } }",
        filters={"id": {"eq": BIG}},
    )
    assert errors_of(response) == [
        error_entry(
            "KS-4020",
            f"Argument filters is invalid: id.eq: {BIG} is not a key",
            ["parts"],
            "filters",
        )
    ]
    assert everything() == before


def test_a_composite_sub_request_refuses_what_its_single_request_refuses(api, shop):
    """Its query string not UTF-8 (400, as the middleware answers one request) and its key
    impossible (404); the composite stops at the first failure."""
    before = everything()
    for path, status, error_id in [
        ("/objects/inventory-control/item?id=%FF", 400, "KS-4005"),
        (f"/objects/inventory-control/item/{BIG}", 404, "KS-4041"),
    ]:
        subrequests = [{"method": "GET", "path": path}, {"method": "GET", "path": path}]
        response = api.post("/services/core/composite", subrequests, format="json")
        assert response.status_code == 207, response.json()
        first = response.json()["ia::result"][0]
        assert (first["ia::status"], first["ia::error"]["errorId"]) == (status, error_id)
    assert everything() == before


def test_a_composite_sub_request_reads_a_query_string_of_any_text_as_utf8(api, shop):
    """A path's query string arrives as JSON text; it is its UTF-8 bytes, as a client's own
    request would send it (CJK once answered a 500 element, Latin-1's é a wrong 400)."""
    item = "/objects/inventory-control/item"
    for query in ["id=漢", "id=é", "id=%C3%A9"]:
        subrequests = [{"method": "GET", "path": f"{item}?{query}"}] * 2
        response = api.post("/services/core/composite", subrequests, format="json")
        assert response.status_code == 200, response.json()
        for element in response.json()["ia::result"]:
            assert (element["ia::status"], element["ia::result"]) == (200, []), query
