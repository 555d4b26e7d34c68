"""Contract 14's protocol: who may call (bearer tokens and sessions as REST, 401 as an ia::error,
REST's model permissions), what a refusal looks like (`errors[]` with the REST catalogue's code,
errorId and target; nothing changed), and what is refused before it runs (depth, cost)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql import get_introspection_query
from rest_framework.test import APIClient

from kitting.models import PartKit, PartKitLine
from tests.support.errors import NOT_AUTHENTICATED, assert_error, err
from tests.support.factories import issue, kit, part, run, stock, warehouse
from tests.support.graphql import GRAPHQL, data, error_entry, errors_of, graphql
from tests.support.part_inventory import snapshot
from tests.support.users import bearer_client, make_user

pytestmark = pytest.mark.django_db

ISSUE = """mutation($input: InventoryToKitInput!) {
  issueItemToKit(input: $input) { issuedQuantity partInventory { id quantity } }
}"""
UPDATE = """mutation($input: UpdatePartInventoryInput!) {
  updatePartInventory(input: $input) { partInventory { id _etag quantity } }
}"""
CREATE = """mutation($input: CreatePartInventoryInput!) {
  createPartInventory(input: $input) { partInventory { id } }
}"""
LIST = "{ partInventories { edges { node { id quantity } } } }"


def everything() -> tuple:
    """What a refused mutation must leave as it was: stock, ledger, counters, kits and lines."""
    return (
        snapshot(),
        list(PartKit.objects.order_by("pk").values()),
        list(PartKitLine.objects.order_by("pk").values()),
    )


@pytest.fixture
def lot(admin_user):
    return stock(admin_user, part(admin_user, "Resin", enable_lot_category=True), 5, lot_number="L")


@pytest.fixture
def part_kit(admin_user):
    return kit(admin_user, run(admin_user, "RUN-1"))


# --- who may call --------------------------------------------------------------------------------


def test_without_a_token_it_is_a_401_ia_error(db):
    response = graphql(APIClient(), LIST)
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == 'Bearer realm="kitsmith"'


def test_with_an_invalid_token_it_is_a_401_ia_error(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = graphql(client, LIST)
    assert_error(response, 401, err("KS-4012", "The credentials are invalid or have expired"))
    assert response["WWW-Authenticate"] == (
        'Bearer realm="kitsmith",error="invalid_token",'
        'error_description="The access token is invalid."'
    )


def test_a_session_works_and_needs_its_csrf_token(admin_user, lot):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    refused = browser.post(GRAPHQL, {"query": LIST}, content_type="application/json")
    assert_error(refused, 403, err("KS-4031", "You do not have permission to perform this action"))
    browser.get("/admin/")  # sets the CSRF cookie, as the admin's pages do
    token = browser.cookies["csrftoken"].value
    answer = browser.post(
        GRAPHQL, {"query": LIST}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert data(answer) == {
        "partInventories": {"edges": [{"node": {"id": str(lot.pk), "quantity": 5.0}}]}
    }


READ_ONLY = [
    "inventory.view_item",
    "inventory.view_warehouse",
    "inventory.view_partinventory",
    "kitting.view_run",
    "kitting.view_partkit",
]


def test_a_read_only_user_can_query_but_every_mutation_is_refused(admin_user, lot, part_kit):
    reader = bearer_client(make_user("reader", *READ_ONLY))
    query = "{ partKits { edges { node { id run { id } partInventories { id } } } } }"
    assert data(graphql(reader, query))["partKits"]["edges"] == [
        {
            "node": {
                "id": str(part_kit.pk),
                "run": {"id": str(part_kit.run_id)},
                "partInventories": [],
            }
        }
    ]
    before = everything()
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 1}
    mutations = {
        "createPartInventory": (CREATE, {"input": {"partId": str(lot.part_id)}}),
        "updatePartInventory": (UPDATE, {"input": {"id": str(lot.pk), "etag": "1"}}),
        "deletePartInventory": (
            'mutation($id: ID!) { deletePartInventory(id: $id, etag: "1") { id } }',
            {"id": str(lot.pk)},
        ),
        "createPartKit": (
            "mutation($run: ID!) { createPartKit(input: {runId: $run}) { partKit { id } } }",
            {"run": str(part_kit.run_id)},
        ),
        "issueItemToKit": (ISSUE, {"input": move}),
        "moveItemToInventory": (
            ISSUE.replace("issueItemToKit", "moveItemToInventory"),
            {"input": move},
        ),
    }
    for name, (operation, variables) in mutations.items():
        response = graphql(reader, operation, **variables)
        assert errors_of(response) == [
            error_entry("KS-4031", "You do not have permission to perform this action", [name])
        ], name
        assert response.json()["data"] == {name: None}
    assert everything() == before


def test_a_field_reading_another_model_asks_its_view_permission(admin_user, lot):
    reader = bearer_client(make_user("stock-only", "inventory.view_partinventory"))
    response = graphql(reader, "{ partInventories { edges { node { id part { id } } } } }")
    assert errors_of(response) == [
        error_entry(
            "KS-4031",
            "You do not have permission to perform this action",
            ["partInventories", "edges", 0, "node", "part"],
        )
    ]
    assert data(graphql(reader, LIST))["partInventories"]["edges"][0]["node"]["id"] == str(lot.pk)


# --- refusals ------------------------------------------------------------------------------------


def test_issuing_more_than_is_on_hand_changes_nothing(api, lot, part_kit):
    before = everything()
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 6}
    response = graphql(api, ISSUE, input=move)
    assert errors_of(response) == [
        error_entry(
            "KS-4250",
            f"Cannot issue 6: part inventory {lot.pk} has 5 on hand",
            ["issueItemToKit"],
            "quantity",
        )
    ]
    assert response.json()["data"] == {"issueItemToKit": None}
    assert everything() == before
    # REST answers the same request with the same detail.
    rest = api.post(
        "/workflows/inventory-control/part-kit/issue",
        {"key": str(part_kit.pk), "partInventory": {"key": str(lot.pk)}, "quantity": 6},
        format="json",
    )
    detail = rest.json()["ia::result"]["ia::error"]["details"][0]
    assert (detail["errorId"], detail["message"], detail["code"]) == (
        "KS-4250",
        f"Cannot issue 6: part inventory {lot.pk} has 5 on hand",
        "operationFailed",
    )


def test_a_stale_etag_changes_nothing(api, admin_user, lot):
    graphql(api, UPDATE, input={"id": str(lot.pk), "etag": "1", "quantity": 6})
    before = everything()
    for etag in ("1", '"1"'):
        response = graphql(api, UPDATE, input={"id": str(lot.pk), "etag": etag, "quantity": 9})
        assert errors_of(response) == [
            error_entry(
                "KS-4121",
                f'If-Match {etag} does not match the current version "2"',
                ["updatePartInventory"],
                "etag",
            )
        ]
        deleted = graphql(
            api,
            "mutation($id: ID!, $etag: String!) "
            "{ deletePartInventory(id: $id, etag: $etag) { id } }",
            id=str(lot.pk),
            etag=etag,
        )
        assert errors_of(deleted)[0]["extensions"] == {
            "code": "preconditionFailed",
            "errorId": "KS-4121",
            "target": "etag",
        }
    assert everything() == before


def test_an_etag_is_exactly_one_version(api, lot):
    # Not If-Match's grammar: no `*` (any version), no list, nothing empty.
    before = everything()
    for etag in ("*", '"1", "2"', "", "W/1", "x"):
        response = graphql(api, UPDATE, input={"id": str(lot.pk), "etag": etag, "quantity": 9})
        assert errors_of(response) == [
            error_entry(
                "KS-4222",
                'etag is invalid: one version, as its _etag reads ("3")',
                ["updatePartInventory"],
                "etag",
            )
        ], etag
        deleted = graphql(
            api,
            "mutation($id: ID!, $etag: String!) "
            "{ deletePartInventory(id: $id, etag: $etag) { id } }",
            id=str(lot.pk),
            etag=etag,
        )
        assert errors_of(deleted)[0]["extensions"]["errorId"] == "KS-4222", etag
    assert everything() == before


def test_each_broken_rule_is_an_error_naming_its_input(api, admin_user):
    paper = part(admin_user, "Paper")
    before = everything()
    response = graphql(
        api, CREATE, input={"partId": str(paper.pk), "serialNumber": "S", "lotNumber": "L"}
    )
    assert errors_of(response) == [
        error_entry(
            "KS-4241",
            f"{field} is not allowed: part Paper is untracked",
            ["createPartInventory"],
            field,
        )
        for field in ("serialNumber", "lotNumber")
    ]
    # In the REST serializer's words (the model field's for what REST does not take).
    too_fine = {"partId": "999", "quantity": 1.1234567, "lotNumber": "L" * 101}
    missing = graphql(api, CREATE, input={**too_fine, "usageType": "U" * 101})
    assert errors_of(missing) == [
        error_entry(
            "KS-4222",
            "lotNumber is invalid: Ensure this field has no more than 100 characters.",
            ["createPartInventory"],
            "lotNumber",
        ),
        error_entry(
            "KS-4222",
            "usageType is invalid: Ensure this value has at most 100 characters (it has 101).",
            ["createPartInventory"],
            "usageType",
        ),
        error_entry(
            "KS-4222",
            "quantity is invalid: Ensure that there are no more than 6 decimal places.",
            ["createPartInventory"],
            "quantity",
        ),
    ]
    rest = api.post(
        "/objects/inventory-control/part-inventory",
        {"part": {"key": str(paper.pk)}, "quantity": 1.1234567, "lotNumber": "L" * 101},
        format="json",
    )
    details = rest.json()["ia::result"]["ia::error"]["details"]
    assert sorted(detail["message"] for detail in details) == [
        "lotNumber is invalid: Ensure this field has no more than 100 characters.",
        "quantity is invalid: Ensure that there are no more than 6 decimal places.",
    ]
    gone = graphql(api, CREATE, input={"partId": "999"})
    assert errors_of(gone) == [
        error_entry(
            "KS-4224",
            "partId refers to a inventory-control/item that does not exist: key 999",
            ["createPartInventory"],
            "partId",
        )
    ]
    assert everything() == before


def test_an_unknown_id_is_the_rest_404(api, part_kit, lot):
    response = graphql(api, '{ partInventory(id: "999") { id } }')
    assert response.json()["data"] == {"partInventory": None}
    assert errors_of(response) == [
        error_entry(
            "KS-4041",
            "inventory-control/part-inventory with key 999 was not found",
            ["partInventory"],
            "id",
        )
    ]
    move = {"partInventoryId": str(lot.pk), "partKitId": "abc", "quantity": 1}
    assert errors_of(graphql(api, ISSUE, input=move)) == [
        error_entry(
            "KS-4041",
            "inventory-control/part-kit with key abc was not found",
            ["issueItemToKit"],
            "partKitId",
        )
    ]


def test_the_part_of_part_inventory_cannot_be_updated(api, lot):
    response = graphql(api, UPDATE, input={"id": str(lot.pk), "etag": "1", "partId": "1"})
    (entry,) = errors_of(response)
    assert entry["extensions"] == {"code": "invalidRequest", "errorId": "KS-4004", "target": None}
    assert entry["message"] == (
        "Invalid query: Variable '$input' has invalid value: Expected value of type "
        "'UpdatePartInventoryInput' not to include unknown field 'partId', found: "
        f"{{'id': '{lot.pk}', 'etag': '1', 'partId': '1'}}"
    )


def test_a_document_that_is_no_graphql_is_an_invalid_query(api):
    response = graphql(api, "{ partInventories { ")
    assert errors_of(response) == [
        {
            "message": "Invalid query: Syntax Error: Expected Name, found <EOF>",
            "extensions": {"code": "invalidRequest", "errorId": "KS-4004", "target": None},
        }
    ]


def test_bodies_that_are_no_graphql_request_are_ia_errors(api):
    bad_json = api.post(GRAPHQL, "{not json", content_type="application/json")
    reason = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert_error(
        bad_json, 400, err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason)
    )
    # As REST reads a body: UTF-8 only, and a JSON object.
    latin = api.post(GRAPHQL, b'{"query": "\xff"}', content_type="application/json")
    reason = "the body is not UTF-8"
    assert_error(
        latin, 400, err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason)
    )
    for scalar in ("null", "3", '"x"'):
        response = api.post(GRAPHQL, scalar, content_type="application/json")
        assert_error(response, 400, err("KS-4002", "The payload must be a JSON object")), scalar
    text = api.post(GRAPHQL, "query", content_type="text/plain")
    assert_error(
        text,
        415,
        err(
            "KS-4151",
            "Content type text/plain is not supported: send application/json",
            TYPE="text/plain",
        ),
    )
    for method in ("get", "put", "delete"):
        response = getattr(api, method)(GRAPHQL)
        assert_error(
            response,
            405,
            err(
                "KS-4051",
                f"Method {method.upper()} is not allowed on /graphql",
                METHOD=method.upper(),
                PATH="/graphql",
            ),
        )
        assert response["Allow"] == "POST"
    assert api.post("/ia/api/v1/graphql", {"query": LIST}, format="json").status_code == 404


# --- refused before anything runs ----------------------------------------------------------------


def nested(depth: int, leaf: str = "id") -> str:
    """partInventories { edges { node { part { partsInventory { part … } } } } }: `depth`
    selection sets."""
    inner, levels = leaf, ["partInventories", "edges", "node"]
    while len(levels) < depth:
        levels.append("part" if levels[-1] in ("node", "partsInventory") else "partsInventory")
    for name in reversed(levels):
        inner = f"{name} {{ {inner} }}"
    return inner


def test_ten_levels_run_and_eleven_are_refused_before_running(api, lot, part_kit, settings):
    settings.GRAPHQL_MAX_COST = 10**16  # nested plain lists: only the depth is tried here
    assert "errors" not in graphql(api, "{ " + nested(10) + " }").json()
    response = graphql(api, "{ " + nested(11) + " }")
    assert errors_of(response) == [
        {
            "message": "The operation nests 11 selection sets: at most 10 are allowed",
            "extensions": {"code": "invalidRequest", "errorId": "KS-4021", "target": None},
        }
    ]
    assert response.json()["data"] is None
    before = everything()
    # issueItemToKit, partInventory, then 9 more: 11.
    deep = "partKits { run { " * 4 + "partKits { id }" + " } }" * 4
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 1}
    refused = graphql(
        api,
        "mutation($input: InventoryToKitInput!) { issueItemToKit(input: $input) "
        "{ partInventory { " + deep + " } } }",
        input=move,
    )
    assert errors_of(refused)[0]["extensions"]["errorId"] == "KS-4021"
    assert everything() == before


def test_an_operation_costlier_than_the_limit_is_refused(api, lot, settings):
    costly = (
        "{ partInventories(first: 1000) { edges { node { runs { partKits { partInventories "
        "{ runs { id title } } } } } } } }"
    )
    response = graphql(api, costly)
    assert errors_of(response) == [
        {
            "message": "The operation would cost 2001001001013001: at most 1000000 is allowed",
            "extensions": {"code": "invalidRequest", "errorId": "KS-4022", "target": None},
        }
    ]
    # 1 + COUNT_COST (10000) + 100 rows x (edges + node + id)
    settings.GRAPHQL_MAX_COST = 10301
    ids = "{ partInventories { edges { node { id } } } }"
    assert "errors" not in graphql(api, ids).json()
    assert errors_of(graphql(api, LIST))[0]["message"] == (
        "The operation would cost 10401: at most 10301 is allowed"
    )
    with_variable = "query($n: Int) { partInventories(first: $n) { edges { node { id } } } }"
    settings.GRAPHQL_MAX_COST = 13001
    assert "errors" not in graphql(api, with_variable, n=5).json()  # 10001 + 1000 x 3 at most


def test_a_plain_list_counts_as_a_full_page_of_rows(api, admin_user):
    # Two plain lists nested: 1000 x 1000 inventories at most, over the default limit, however
    # few there are now.
    paper = part(admin_user, "Paper")
    stock(admin_user, paper, 1)
    nested_lists = '{ part(id: "%d") { partsInventory { part { partsInventory { id } } } } }'
    response = graphql(api, nested_lists % paper.pk)
    assert errors_of(response) == [
        {
            "message": "The operation would cost 1002002: at most 1000000 is allowed",
            "extensions": {"code": "invalidRequest", "errorId": "KS-4022", "target": None},
        }
    ]
    one_list = '{ part(id: "%d") { partsInventory { id part { id } } } }'
    assert data(graphql(api, one_list % paper.pk))["part"]["partsInventory"][0]["part"]


def test_counting_a_connection_costs_even_for_an_empty_page(api, lot):
    # Each connection counts its rows, `first: 0` too: 600 counts are refused before any runs.
    document = (
        "{ "
        + " ".join(
            f'a{i}: partInventories(first: 0, filters: {{lotNumber: {{ilike: "%a%b%"}}}}) '
            "{ pageInfo { totalCount } }"
            for i in range(600)
        )
        + " }"
    )
    with CaptureQueriesContext(connection) as statements:
        response = graphql(api, document)
    [refusal] = errors_of(response)
    assert refusal["extensions"]["errorId"] == "KS-4022"
    ran = [q["sql"] for q in statements.captured_queries if "inventory_partinventory" in q["sql"]]
    assert ran == []


def test_fragments_spreading_each_other_are_measured_once_each(api, lot):
    # F0 spreads F1 twice, F1 F2 twice…: 2**40 ids once expanded. Each fragment is measured
    # once, so the refusal is immediate (walking the expansion would never end).
    chain = " ".join(
        f"fragment F{i} on PartInventory {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    document = (
        "{ partInventories(first: 1) { edges { node { ...F0 } } } } "
        + chain
        + " fragment F40 on PartInventory { id }"
    )
    response = graphql(api, document)
    [refusal] = errors_of(response)
    assert refusal["extensions"]["errorId"] == "KS-4022"
    assert int(refusal["message"].split()[4].rstrip(":")) > 2**40


def test_introspection_is_limited_as_any_field_but_for_its_type_references(api):
    # The query GraphiQL sends (graphql-js's, which graphql-core writes alike): 14 deep with its
    # 9 ofType, which add no depth; it costs 447578.
    standard = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    assert data(graphql(api, standard))["__schema"]["queryType"]["name"] == "Query"
    one = (
        "{{ types {{ name description fields {{ name description args {{ name description "
        "type {{ name kind }} }} type {{ name kind ofType {{ name kind }} }} }} }} }}"
    )
    aliased = "{ " + " ".join(f"a{i}: __schema " + one.format() for i in range(200)) + " }"
    [costly] = errors_of(graphql(api, aliased))
    assert costly["extensions"]["errorId"] == "KS-4022"
    deep = "{ __schema { types { " + "fields { type { " * 5 + "name" + " } }" * 5 + " } } }"
    too_deep = errors_of(graphql(api, deep))[0]  # graphql-core's introspection rule follows
    assert too_deep["message"] == "The operation nests 12 selection sets: at most 10 are allowed"


def test_issuing_a_part_kit_through_graphql_writes_the_rest_ledger(api, admin_user, lot):
    # The mutation and the REST workflow are the same service: the same ledger row.
    part_kit = kit(admin_user, run(admin_user, "RUN-9"))
    issue(admin_user, part_kit, lot, 1)
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 1}
    answer = data(graphql(api, ISSUE, input=move))["issueItemToKit"]
    assert answer == {"issuedQuantity": 2.0, "partInventory": {"id": str(lot.pk), "quantity": 3.0}}
    shelf = warehouse(admin_user, "WH-2")
    moved = graphql(
        api,
        ISSUE.replace("issueItemToKit", "moveItemToInventory"),
        input={**move, "locationId": str(shelf.pk)},
    )
    assert data(moved)["moveItemToInventory"]["issuedQuantity"] == 1.0
    refused = graphql(api, ISSUE, input={**move, "locationId": str(shelf.pk)})
    assert errors_of(refused) == [
        error_entry(
            "KS-4222",
            "locationId is invalid: only moveItemToInventory stores inventory somewhere else",
            ["issueItemToKit"],
            "locationId",
        )
    ]


def test_a_mutation_asks_its_rest_permissions_and_to_read_its_payload(lot, part_kit):
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk), "quantity": 1}
    rest_only = bearer_client(
        make_user("mover", "kitting.change_partkit", "inventory.change_partinventory"), "mover"
    )
    before = everything()
    refused = graphql(rest_only, ISSUE, input=move)
    assert errors_of(refused)[0]["extensions"]["errorId"] == "KS-4031"
    assert everything() == before
    can_read = bearer_client(
        make_user(
            "reader-mover",
            "kitting.change_partkit",
            "inventory.change_partinventory",
            "kitting.view_partkit",
            "inventory.view_partinventory",
        ),
        "reader-mover",
    )
    answer = data(graphql(can_read, ISSUE, input=move))["issueItemToKit"]
    assert answer == {"issuedQuantity": 1.0, "partInventory": {"id": str(lot.pk), "quantity": 4.0}}


def test_a_payload_field_the_caller_cannot_read_refuses_the_mutation_before_it_writes(lot):
    # The payload's own type is readable; a field nested in it (the part, through a fragment)
    # is not: the mutation is refused before anything is written.
    writer = bearer_client(
        make_user("writer", "inventory.add_partinventory", "inventory.view_partinventory"),
        "writer",
    )
    create = (
        "mutation($input: CreatePartInventoryInput!) { createPartInventory(input: $input) "
        "{ partInventory { id ...P } } } fragment P on PartInventory { part { id } }"
    )
    before = everything()
    refused = graphql(writer, create, input={"partId": str(lot.part_id), "lotNumber": "Z"})
    assert errors_of(refused)[0]["extensions"]["errorId"] == "KS-4031"
    assert refused.json()["data"] == {"createPartInventory": None}
    assert everything() == before
    answer = data(graphql(writer, CREATE, input={"partId": str(lot.part_id), "lotNumber": "Z"}))
    assert answer["createPartInventory"]["partInventory"]["id"]


def test_one_refused_mutation_leaves_the_others_answers(api, lot):
    both = (
        "mutation($a: CreatePartInventoryInput!, $b: CreatePartInventoryInput!) { "
        "a: createPartInventory(input: $a) { partInventory { lotNumber } } "
        "b: createPartInventory(input: $b) { partInventory { lotNumber } } }"
    )
    response = graphql(
        api, both, a={"partId": str(lot.part_id), "lotNumber": "A"}, b={"partId": str(lot.part_id)}
    )
    body = response.json()
    assert body["data"] == {"a": {"partInventory": {"lotNumber": "A"}}, "b": None}
    assert [entry["path"] for entry in body["errors"]] == [["b"]]
