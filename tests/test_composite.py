"""`POST /services/core/composite` (contract 13.2): each sub-request answers exactly as the single
request would, in order, stopping at the first failure; references between them; one transaction
with the header; a malformed composite is a 400 that runs nothing."""

import json

import pytest
from django.db import connection
from django.test import Client

from inventory.models import Item
from kitcomponents.models import KitComponent
from tests.support.errors import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    assert_error,
    err,
    not_allowed,
    precondition_failed,
    route_not_found,
)
from tests.support.factories import kit_line, part, stock
from tests.support.multi import (
    ATOMIC,
    COMPOSITE,
    answer,
    at,
    failed_item,
    invalid,
    payload_errors,
    unprocessed,
    unresolved,
    with_status,
)
from tests.support.protocol import BASES, ITEMS, LINES, V1, state, unknown_field
from tests.support.protocol import payload_errors as unknown_fields
from tests.support.refs import created, href, ref
from tests.support.users import bearer_client, make_user

QUERY = "/services/core/query"
INVENTORY = "/objects/inventory-control/part-inventory"


def new_item(code: str, **extra) -> dict:
    body = {"id": code, "name": f"{code} name", "itemType": "inventory"}
    return {"method": "POST", "path": ITEMS, "body": body, **extra}


def payload_required(method: str) -> dict:
    return err("REST-1028", f"A {method} request requires a payload", METHOD=method)


def duplicate(code: str) -> dict:
    return err(
        "KS-4091",
        f"inventory-control/item with id {code} already exists",
        "id",
        OBJECT="inventory-control/item",
        FIELD="id",
        VALUE=code,
    )


# --- running -----------------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_each_sub_request_answers_as_it_would_alone(api, admin_user, base):
    part(admin_user, "Prnt_Paper")
    query = {"object": "inventory-control/kit-component", "fields": ["key", "kit.id"]}
    response = api.post(
        base + COMPOSITE,
        [
            {
                "method": "POST",
                "path": ITEMS,
                "body": {"id": "Kit_9", "name": "Kit 9", "itemType": "kit"},
                "resultReference": "kit",
            },
            {
                "method": "POST",
                "path": V1 + LINES,
                "body": {
                    "kit": {"key": "@{kit.key}"},
                    "component": {"id": "Prnt_Paper"},
                    "numberOfUnits": 2,
                },
                "resultReference": "line",
            },
            {"method": "GET", "path": f"{LINES}/@{{line.key}}"},
            {"method": "POST", "path": QUERY, "body": query},
            {"method": "GET", "path": f"{ITEMS}?start=2&size=1"},
        ],
        format="json",
    )
    kit, line = Item.objects.get(code="Kit_9"), KitComponent.objects.get()
    alone = [
        api.get(href(line)),
        api.post(QUERY, query, format="json"),
        api.get(f"{ITEMS}?start=2&size=1"),
    ]
    results = [with_status(created(kit), 201), with_status(created(line), 201)]
    results += [with_status(single.json(), 200) for single in alone]
    assert (response.status_code, response.json()) == (200, answer(results))
    assert (line.kit, line.number_of_units) == (kit, 2)


def test_it_stops_at_the_first_failure_and_keeps_what_ran_before(api, admin_user):
    part(admin_user, "Dup")
    response = api.post(COMPOSITE, [new_item("A"), new_item("Dup"), new_item("B")], format="json")
    first = Item.objects.get(code="A")
    results = [
        with_status(created(first), 201),
        failed_item(response, 409, duplicate("Dup")),
        unprocessed(response, 1),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))
    assert not Item.objects.filter(code="B").exists()


def test_with_the_transaction_header_a_failure_rolls_everything_back(api, admin_user):
    part(admin_user, "Dup")
    before = state()
    items = [new_item("A"), new_item("B"), new_item("Dup"), new_item("C")]
    response = api.post(COMPOSITE, items, format="json", **ATOMIC)
    results = [
        unprocessed(response, 2, rolled_back=True),
        unprocessed(response, 2, rolled_back=True),
        failed_item(response, 409, duplicate("Dup")),
        unprocessed(response, 2, rolled_back=True),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 0))
    assert state() == before


def test_with_the_transaction_header_everything_commits_together(api):
    response = api.post(COMPOSITE, [new_item("A"), new_item("B")], format="json", **ATOMIC)
    made = [Item.objects.get(code="A"), Item.objects.get(code="B")]
    results = [with_status(created(item), 201) for item in made]
    assert (response.status_code, response.json()) == (200, answer(results))


FAILURES = {
    "unknown route": (
        {"method": "GET", "path": "/objects/inventory-control/nothing"},
        404,
        route_not_found("/objects/inventory-control/nothing"),
    ),
    "method not allowed": ({"method": "DELETE", "path": ITEMS}, 405, not_allowed("DELETE", ITEMS)),
    "stale If-Match": (
        {"method": "PATCH", "path": "ITEM", "body": {"name": "x"}, "headers": {"If-Match": '"7"'}},
        412,
        precondition_failed('"7"', '"1"'),
    ),
    "unknown field": (
        {"method": "PATCH", "path": "ITEM", "body": {"nickname": "x"}},
        400,
        unknown_fields("/nickname"),
    ),
    "no payload": ({"method": "POST", "path": ITEMS}, 400, payload_required("POST")),
}


@pytest.mark.parametrize("name", FAILURES)
def test_a_sub_request_fails_as_it_would_alone(api, admin_user, name):
    item = part(admin_user, "Paper")
    sub, status, error = FAILURES[name]
    sub = {**sub, "path": sub["path"].replace("ITEM", f"{ITEMS}/{item.pk}")}
    before = state()
    alone = api.generic(
        sub["method"],
        sub["path"],
        json.dumps(sub["body"]) if "body" in sub else "",
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in sub.get("headers", {}).items()},
    )
    assert_error(alone, status, error)
    response = api.post(
        COMPOSITE, [{"method": "GET", "path": ITEMS}, sub, new_item("B")], format="json"
    )
    results = [
        with_status(api.get(ITEMS).json(), 200),
        failed_item(response, status, error),
        unprocessed(response, 1),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))
    assert state() == before


def test_a_sub_request_may_be_a_batch(api):
    bodies = [new_item("A")["body"], new_item("B")["body"]]
    response = api.post(
        COMPOSITE,
        [{"method": "POST", "path": ITEMS, "body": bodies}, {"method": "GET", "path": ITEMS}],
        format="json",
    )
    made = [Item.objects.get(code="A"), Item.objects.get(code="B")]
    batch = answer([with_status(ref(item), 201) for item in made])
    results = [with_status(batch, 201), with_status(api.get(ITEMS).json(), 200)]
    assert (response.status_code, response.json()) == (200, answer(results))


def test_the_model_service_path_is_accepted(api):
    # Whatever the model service answers (it is built elsewhere): the path is not refused.
    response = api.post(
        COMPOSITE,
        [
            {"method": "GET", "path": "/services/core/model?name=inventory-control/item"},
            {"method": "GET", "path": f"{V1}/services/core/model"},
        ],
        format="json",
    )
    assert response.status_code in (200, 207)  # not the 400 of a refused path
    assert response.json()["ia::result"][0]["ia::status"] in (200, 404)


def test_a_sub_requests_idempotency_key_applies_as_it_would_alone(api):
    keyed = {**new_item("A"), "headers": {"Idempotency-Key": "make-a"}}
    first = api.post(COMPOSITE, [keyed, GET], format="json")
    again = api.post(COMPOSITE, [keyed, GET], format="json")
    item = Item.objects.get(code="A")  # once
    assert first.json()["ia::result"][0] == with_status(created(item), 201)
    assert again.json()["ia::result"][0] == with_status(created(item), 201)
    # The same client's single request with the key is the same request: the stored answer.
    alone = api.post(ITEMS, keyed["body"], format="json", HTTP_IDEMPOTENCY_KEY="make-a")
    assert (alone.status_code, alone.json()) == (201, created(item))
    assert alone["x-ia-idempotency-cached-date"]
    other = {**keyed, "body": {**keyed["body"], "name": "Other"}}
    response = api.post(COMPOSITE, [GET, other], format="json")
    reused = err(
        "KS-4095", "Idempotency-Key make-a was already used for a different request", KEY="make-a"
    )
    assert response.json()["ia::result"][1] == failed_item(response, 409, reused)
    assert Item.objects.count() == 1


# --- references --------------------------------------------------------------------------------


def test_references_take_typed_values_embedded_text_and_array_positions(api, admin_user):
    paper, ink = part(admin_user, "Paper"), part(admin_user, "Ink")
    kit = part(admin_user, "Kit_1", "kit")
    kit_line(admin_user, kit, paper, 3)
    response = api.post(
        COMPOSITE,
        [
            {"method": "GET", "path": f"{LINES}?kit={kit.pk}", "resultReference": "lines"},
            {"method": "GET", "path": f"{LINES}/@{{lines.1.key}}", "resultReference": "line"},
            {
                "method": "POST",
                "path": LINES,
                "body": {
                    # A whole-string reference keeps its JSON type: an object, a number.
                    "kit": "@{line.kit}",
                    "component": {"key": str(ink.pk)},
                    "numberOfUnits": "@{line.numberOfUnits}",
                },
                "resultReference": "copy",
            },
            {
                "method": "PATCH",
                "path": f"{ITEMS}/@{{line.component.key}}",
                # Inside a longer string a reference is its text.
                "body": {"name": "@{line.component.name} x@{line.numberOfUnits} (@{copy.key})"},
            },
        ],
        format="json",
    )
    copy = KitComponent.objects.get(component=ink)
    assert response.status_code == 200, response.json()
    assert (copy.kit, copy.number_of_units) == (kit, 3)
    paper.refresh_from_db()
    assert paper.name == f"Paper name x3 ({copy.pk})"


def test_a_reference_in_a_header(api, admin_user):
    inventory = stock(admin_user, part(admin_user, "Paper"), 3)
    response = api.post(
        COMPOSITE,
        [
            {"method": "GET", "path": f"{INVENTORY}/{inventory.pk}", "resultReference": "inv"},
            {
                "method": "PATCH",
                "path": f"{INVENTORY}/@{{inv.key}}",
                "body": {"cost": "2.50"},
                "headers": {"If-Match": "@{inv.etag}"},
            },
        ],
        format="json",
    )
    assert response.status_code == 200, response.json()
    inventory.refresh_from_db()
    assert (inventory.cost, inventory.version) == (2.5, 2)


UNRESOLVED = {
    "no such member": ("@{item.nothing}", "there is no nothing there"),
    "position past the end": ("@{items.3.key}", "3 is not a position 1 to 2"),
    "position 0": ("@{items.0.key}", "0 is not a position 1 to 2"),
    "member of a text": ("@{item.id.x}", "there is no x there"),
    "a delete has no result": ("@{gone.key}", "the answer to gone has no ia::result"),
    "an object inside text": ("x @{item}", "it is not a text, a number or a boolean"),
}


@pytest.mark.parametrize("name", UNRESOLVED)
def test_a_reference_that_does_not_resolve_fails_its_sub_request(api, admin_user, name):
    reference, reason = UNRESOLVED[name]
    first, second = part(admin_user, "A"), part(admin_user, "B")
    before = state()
    response = api.post(
        COMPOSITE,
        [
            {"method": "GET", "path": f"{ITEMS}/{first.pk}", "resultReference": "item"},
            {"method": "GET", "path": ITEMS, "resultReference": "items"},
            {"method": "DELETE", "path": f"{ITEMS}/{second.pk}", "resultReference": "gone"},
            {"method": "POST", "path": ITEMS, "body": {"id": "C", "name": reference}},
            {"method": "GET", "path": ITEMS},
        ],
        format="json",
    )
    shown = reference.removeprefix("x ")
    error = unresolved("/3/body/name", shown, reason)
    results = response.json()["ia::result"]
    assert (response.status_code, results[3:]) == (
        207,
        [failed_item(response, 400, error), unprocessed(response, 3)],
    )
    assert [result["ia::status"] for result in results[:3]] == [200, 200, 204]
    assert state() == {**before, "inventory.Item": before["inventory.Item"][:1]}


# --- who may --------------------------------------------------------------------------------------


def test_a_read_only_users_write_fails_at_its_position(admin_user):
    item = part(admin_user, "Paper")
    reader = bearer_client(make_user("reader", "inventory.view_item"))
    before = state()
    response = reader.post(
        COMPOSITE,
        [
            {"method": "GET", "path": f"{ITEMS}/{item.pk}"},
            new_item("New"),
            {"method": "GET", "path": ITEMS},
        ],
        format="json",
    )
    results = [
        with_status(reader.get(f"{ITEMS}/{item.pk}").json(), 200),
        failed_item(response, 403, FORBIDDEN),
        unprocessed(response, 1),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))
    assert state() == before


def test_without_credentials_nothing_runs(admin_user):
    before = state()
    anonymous = bearer_client(admin_user)
    anonymous.credentials()
    response = anonymous.post(COMPOSITE, [new_item("A"), new_item("B")], format="json")
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert state() == before


def test_a_session_user_with_the_csrf_token(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    token = "k" * 32  # a CSRF secret as the cookie holds it; the header repeats it
    browser.cookies["csrftoken"] = token
    response = browser.post(
        COMPOSITE,
        json.dumps([new_item("A"), new_item("B")]),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    made = [Item.objects.get(code="A"), Item.objects.get(code="B")]
    assert (response.status_code, response.json()) == (
        200,
        answer([with_status(created(item), 201) for item in made]),
    )


# --- malformed: 400, nothing runs ----------------------------------------------------------------

GET = {"method": "GET", "path": ITEMS}
PLACES = "must be a path to /objects/…, /workflows/…, /services/core/query or /services/core/model"
ARRAY = "the body must be a JSON array of 2 to 10 sub-requests, not "
FIRST = new_item("Runs-Not")  # would be written if anything ran


def one_problem(detail: dict) -> dict:
    return payload_errors(detail)


MALFORMED = {
    "an object": (FIRST, invalid("composite request", ARRAY + "an object")),
    "one item": ([FIRST], invalid("composite request", ARRAY + "1")),
    "eleven items": ([FIRST] + [GET] * 10, invalid("composite request", ARRAY + "11")),
    "an item not an object": ([FIRST, "GET"], one_problem(at("/1", "must be a JSON object"))),
    "an unknown member": ([FIRST, {**GET, "query": {}}], one_problem(unknown_field("/1/query"))),
    "method PUT": (
        [FIRST, {**GET, "method": "PUT"}],
        one_problem(at("/1/method", "must be one of GET, POST, PATCH, DELETE")),
    ),
    "method in lower case": (
        [FIRST, {**GET, "method": "get"}],
        one_problem(at("/1/method", "must be one of GET, POST, PATCH, DELETE")),
    ),
    "no method": (
        [FIRST, {"path": ITEMS}],
        one_problem(at("/1/method", "must be one of GET, POST, PATCH, DELETE")),
    ),
    "no path": ([FIRST, {"method": "GET"}], one_problem(at("/1/path", PLACES))),
    "composite in composite": (
        [FIRST, {"method": "POST", "path": COMPOSITE, "body": [GET, GET]}],
        one_problem(at("/1/path", PLACES)),
    ),
    "composite in composite under v1": (
        [FIRST, {"method": "POST", "path": V1 + COMPOSITE, "body": [GET, GET]}],
        one_problem(at("/1/path", PLACES)),
    ),
    "the token endpoint": (
        [FIRST, {"method": "POST", "path": "/oauth2/token"}],
        one_problem(at("/1/path", PLACES)),
    ),
    "the admin": ([FIRST, {**GET, "path": "/admin/"}], one_problem(at("/1/path", PLACES))),
    "a relative path": (
        [FIRST, {**GET, "path": "objects/inventory-control/item"}],
        one_problem(at("/1/path", PLACES)),
    ),
    "a reference in the prefix": (
        [{**FIRST, "resultReference": "x"}, {**GET, "path": "/@{x.key}/inventory-control/item"}],
        one_problem(at("/1/path", PLACES)),
    ),
    "headers not an object": (
        [FIRST, {**GET, "headers": ["If-Match"]}],
        one_problem(at("/1/headers", "must be an object of header values")),
    ),
    "its own Authorization": (
        [FIRST, {**GET, "headers": {"Authorization": "Bearer other"}}],
        one_problem(at("/1/headers/Authorization", "comes from the composite request itself")),
    ),
    "its own client address": (
        [FIRST, {**GET, "headers": {"X-Forwarded-For": "10.0.0.1"}}],
        one_problem(at("/1/headers/X-Forwarded-For", "comes from the composite request itself")),
    ),
    "its own origin": (
        [FIRST, {**GET, "headers": {"Origin": "https://elsewhere.example"}}],
        one_problem(at("/1/headers/Origin", "comes from the composite request itself")),
    ),
    "its own CSRF token": (
        [FIRST, {**GET, "headers": {"X-CSRFToken": "t"}}],
        one_problem(at("/1/headers/X-CSRFToken", "comes from the composite request itself")),
    ),
    "a header value not text": (
        [FIRST, {**GET, "headers": {"If-Match": 1}}],
        one_problem(at("/1/headers/If-Match", "must be a string of printable ASCII characters")),
    ),
    "a header value with a line break": (
        [FIRST, {**GET, "headers": {"If-Match": '"1"\r\nX-Evil: 1'}}],
        one_problem(at("/1/headers/If-Match", "must be a string of printable ASCII characters")),
    ),
    "a bad header name": (
        [FIRST, {**GET, "headers": {"If Match": '"1"'}}],
        one_problem(at("/1/headers/If Match", "is not a header name")),
    ),
    "a header name WSGI cannot tell apart": (
        [FIRST, {**GET, "headers": {"If_Match": '"1"'}}],
        one_problem(at("/1/headers/If_Match", "is not a header name")),
    ),
    "a duplicate resultReference": (
        [{**FIRST, "resultReference": "a"}, {**GET, "resultReference": "a"}],
        one_problem(at("/1/resultReference", "a already names an earlier result")),
    ),
    "a bad resultReference": (
        [FIRST, {**GET, "resultReference": "a.b"}],
        one_problem(at("/1/resultReference", "must be 1 to 64 letters, digits, _ or -")),
    ),
    "a reference to no name": (
        [FIRST, {**GET, "path": f"{ITEMS}/@{{nothing.key}}"}],
        one_problem(at("/1/path", "@{nothing.key} names no earlier resultReference (nothing)")),
    ),
    "a reference to a later name": (
        [
            {**FIRST, "body": {**FIRST["body"], "name": "@{later.id}"}},
            {**GET, "resultReference": "later"},
        ],
        one_problem(at("/0/body/name", "@{later.id} names no earlier resultReference (later)")),
    ),
    "a reference to its own name": (
        [FIRST, {**GET, "path": f"{ITEMS}/@{{me.key}}", "resultReference": "me"}],
        one_problem(at("/1/path", "@{me.key} names no earlier resultReference (me)")),
    ),
    "a malformed reference": (
        [{**FIRST, "resultReference": "a"}, {**GET, "headers": {"If-Match": "@{a..key}"}}],
        one_problem(
            at("/1/headers/If-Match", "@{a..key} is not a reference of the form @{name.member.…}")
        ),
    ),
    "a problem in an item another refers to": (
        [
            {**FIRST, "method": "PUT", "resultReference": "a"},
            {**GET, "path": f"{ITEMS}/@{{a.key}}"},
        ],
        one_problem(at("/0/method", "must be one of GET, POST, PATCH, DELETE")),
    ),
    "several problems": (
        [FIRST, {"method": "PUT", "path": "/admin/", "extra": 1}],
        payload_errors(
            unknown_field("/1/extra"),
            at("/1/method", "must be one of GET, POST, PATCH, DELETE"),
            at("/1/path", PLACES),
        ),
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_composite_is_400_and_runs_nothing(api, admin_user, name):
    body, error = MALFORMED[name]
    before = state()
    response = api.post(COMPOSITE, body, format="json")
    assert_error(response, 400, error)
    assert state() == before


def test_a_bad_transaction_header_is_400_and_runs_nothing(api):
    before = state()
    response = api.post(
        COMPOSITE,
        [FIRST, GET],
        format="json",
        HTTP_X_IA_API_PARAM_TRANSACTION="yes",
    )
    reason = "true or false"
    error = err(
        "KS-4027",
        f"Header X-IA-API-Param-Transaction is invalid: {reason}",
        HEADER="X-IA-API-Param-Transaction",
        REASON=reason,
    )
    assert_error(response, 400, error)
    assert state() == before


@pytest.mark.django_db(transaction=True)
def test_outside_a_test_transaction_what_ran_before_a_failure_is_committed(api, admin_user):
    """As in production: each sub-request commits alone (on PostgreSQL without waiting for the
    disk, flushed once before the answer), and nothing of that outlives the request."""
    part(admin_user, "Dup")
    response = api.post(COMPOSITE, [new_item("A"), new_item("Dup"), new_item("B")], format="json")
    assert response.status_code == 207
    assert sorted(Item.objects.values_list("code", flat=True)) == ["A", "Dup"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)


def test_a_batch_sub_request_with_a_failed_element_is_a_failure(api, admin_user):
    """A 207 batch is not a success: the composite stops there, and with the transaction header
    the batch's own successful elements are rolled back with everything else."""
    before = state()
    bodies = [new_item("E1")["body"], new_item("E1")["body"]]
    response = api.post(
        COMPOSITE,
        [{"method": "POST", "path": ITEMS, "body": bodies}, {"method": "GET", "path": ITEMS}],
        format="json",
        **ATOMIC,
    )
    assert response.status_code == 207
    first, second = response.json()["ia::result"]
    assert first["ia::status"] == 207
    assert [element["ia::status"] for element in first["ia::result"]] == [201, 409]
    assert first["ia::result"][1] == failed_item(response, 409, duplicate("E1"))
    assert second == unprocessed(response, 0, rolled_back=True)
    assert response.json()["ia::meta"] == {"totalCount": 2, "totalSuccess": 0, "totalError": 2}
    assert state() == before


def test_a_throttled_sub_request_gives_the_answer_its_retry_after(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "2/min", "anon": "2/min"},
    }
    gets = [{"method": "GET", "path": ITEMS}] * 3
    response = api.post(COMPOSITE, gets, format="json")
    assert response.status_code == 207
    assert [item["ia::status"] for item in response.json()["ia::result"]] == [200, 429, 422]
    throttled = response.json()["ia::result"][1]
    assert throttled["ia::error"]["errorId"] == "KS-4291"
    assert (
        response["Retry-After"]
        == throttled["ia::error"]["additionalInfo"]["placeholders"]["SECONDS"]
    )


def test_a_body_nested_too_deeply_is_400_and_runs_nothing(api):
    before = state()
    deep: object = "x"
    for _ in range(900):
        deep = [deep]
    items = [new_item("A"), {"method": "POST", "path": ITEMS, "body": {"name": deep}}]
    response = api.post(COMPOSITE, items, format="json")
    assert response.status_code == 400
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4001"
    assert state() == before
