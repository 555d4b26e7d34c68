"""Every example of the OpenAPI document succeeds against the demo data (`manage.py seed_demo`
on a fresh database), sent in the order a reader would try them: the creates (the run and its
part kit among them), the updates, the workflows, the services, then a read of each demo object
and the delete of what the creates made. Where the document shows the answer to an example,
the real answer is that one. Each request body, given one member its schema does not have, is
refused with 400 and changes nothing."""

import pytest

from kitting.demo import demo_data_load
from tests.support.openapi import assert_matches_schema
from tests.support.users import bearer_client

OBJECTS = ["warehouse", "item", "kit-component", "part-inventory", "run", "part-kit"]
WORKFLOWS = [
    "part-kit/issue",
    "part-kit/move-to-inventory",
    "part-kit/fulfill",
    "part-inventory/adjust",
    "part-inventory/split",
    "run/complete",
]
ORDER = [
    *(("post", f"/objects/inventory-control/{name}") for name in OBJECTS),
    *(("patch", f"/objects/inventory-control/{name}/{{key}}") for name in OBJECTS),
    *(("patch", f"/objects/inventory-control/{name}") for name in OBJECTS),
    *(("post", f"/workflows/inventory-control/{path}") for path in WORKFLOWS),
    ("post", "/services/core/query"),
    ("post", "/services/core/composite"),
    *(
        ("get", f"/objects/inventory-control/{name}/{{key}}")
        for name in [*OBJECTS, "inventory-transaction"]
    ),
]
CREATES = ORDER[: len(OBJECTS)]
# Sent after the creates alone, what refers to another first: an object in use is kept (409).
DELETES = [("delete", f"/objects/inventory-control/{name}/{{key}}") for name in reversed(OBJECTS)]
UNKNOWN = {"colour": "red"}


def examples_of(document):
    """(method, path, example name, body or None) of every example, in ORDER: each request
    body example, and an operation whose only example is its path's key."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in body.get("examples", {}).items():
                found.append((method, path, name, example["value"]))
            if "requestBody" not in operation and url_of(operation, path) != path:
                found.append((method, path, "path", None))
    documented = {(method, path) for method, path, _, _ in found}
    assert documented == set(ORDER + DELETES), "every operation with an example has its place"
    return sorted(found, key=lambda e: (ORDER + DELETES).index((e[0], e[1])))


def url_of(operation, path):
    """The path with its `key` parameter's example."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and "examples" in parameter:
            (example,) = parameter["examples"].values()
            path = path.replace("{" + parameter["name"] + "}", example["value"])
    return path


def headers_of(operation):
    required = [p["name"] for p in operation.get("parameters", []) if p.get("required")]
    # Any version: the examples do not race anyone.
    return {"HTTP_IF_MATCH": "*"} if "If-Match" in required else {}


def request_component(operation) -> str:
    """The name of the component an operation's body is (or, for a batch, each element is);
    "" for a body described in place."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema.get("items", schema).get("$ref", "").rsplit("/", 1)[-1]


def with_unknown_member(value):
    if isinstance(value, list):
        return [{**value[0], **UNKNOWN}, *value[1:]]
    return {**value, **UNKNOWN}


def refused_status(response) -> int:
    """A body's status, or a batch's (207) when its every element has the same one."""
    if response.status_code != 207:
        return response.status_code
    (status,) = {element["ia::status"] for element in response.json()["ia::result"]}
    return status


def without_volatile(answer):
    """An answer without what no example can foresee: the moment it was written."""
    if isinstance(answer, dict):
        return {
            k: without_volatile(v)
            for k, v in answer.items()
            if k not in ("whenCreated", "whenModified")
        }
    if isinstance(answer, list):
        return [without_volatile(v) for v in answer]
    return answer


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_example_succeeds_on_the_demo_data(admin_user, openapi_document):
    demo_data_load(user=admin_user)
    api = bearer_client(admin_user)
    refused = set()
    for method, path, name, value in examples_of(openapi_document):
        if (method, path) in DELETES:
            continue
        operation = openapi_document["paths"][path][method]
        url = url_of(operation, path)
        send = getattr(api, method)
        if value is not None:
            strange = send(url, with_unknown_member(value), format="json", **headers_of(operation))
            assert refused_status(strange) == 400, (method, path, name, strange.content)
            refused.add(request_component(operation) or path)
        response = send(url, value, format="json", **headers_of(operation))
        assert response.status_code in (200, 201), (method, path, name, response.content)
        assert_matches_schema(openapi_document, path, method, response, response.status_code)
        shown = operation["responses"][str(response.status_code)]["content"]["application/json"]
        answers = shown.get("examples", {})
        if answers:  # the answer named after the request, or the operation's one answer
            (answer,) = [answers[name]] if name in answers else answers.values()
            assert without_volatile(response.json()) == answer["value"], (method, path, name)
    components = openapi_document["components"]["schemas"]
    bodies = {
        request_component(operation)
        for item in openapi_document["paths"].values()
        for operation in item.values()
        if "requestBody" in operation
    }
    requests = {name for name in components if name.endswith("Request")}
    assert refused & requests == {name for name in bodies if name.endswith("Request")}


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_delete_examples_delete_what_the_create_examples_made(admin_user, openapi_document):
    demo_data_load(user=admin_user)
    api = bearer_client(admin_user)
    for method, path, name, value in examples_of(openapi_document):
        if (method, path) not in CREATES + DELETES:
            continue
        operation = openapi_document["paths"][path][method]
        url = url_of(operation, path)
        response = getattr(api, method)(url, value, format="json", **headers_of(operation))
        assert response.status_code in (201, 204), (method, path, name, response.content)
        if method == "delete":
            assert api.get(url).status_code == 404, (path, name)
