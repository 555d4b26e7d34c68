"""Every request example of the OpenAPI document succeeds against the demo data (`manage.py
seed_demo` on a fresh database), sent in the order a reader would try them: the creates (the
run and its part kit among them), the updates, the workflows, then the services. Where the
document shows the answer to an example, the real answer is that one."""

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
]


def request_examples(document):
    """(method, path, example name, value) of every request example, in ORDER."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in body.get("examples", {}).items():
                found.append((method, path, name, example["value"]))
    unordered = {(method, path) for method, path, _, _ in found} - set(ORDER)
    assert unordered == set(), "give these operations their place in ORDER"
    return sorted(found, key=lambda e: ORDER.index((e[0], e[1])))


def url_of(operation, path):
    """The path with its `key` parameter's example."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            (example,) = parameter["examples"].values()
            path = path.replace("{" + parameter["name"] + "}", example["value"])
    return path


def headers_of(operation):
    required = [p["name"] for p in operation.get("parameters", []) if p.get("required")]
    # Any version: the examples do not race anyone.
    return {"HTTP_IF_MATCH": "*"} if "If-Match" in required else {}


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_request_example_succeeds_on_the_demo_data(admin_user, openapi_document):
    demo_data_load(user=admin_user)
    api = bearer_client(admin_user)
    examples = request_examples(openapi_document)
    assert len(examples) >= len(ORDER)
    for method, path, name, value in examples:
        operation = openapi_document["paths"][path][method]
        url = url_of(operation, path)
        send = getattr(api, method)
        response = send(url, value, format="json", **headers_of(operation))
        assert response.status_code in (200, 201), (method, path, name, response.content)
        assert_matches_schema(openapi_document, path, method, response)
        shown = operation["responses"][str(response.status_code)]["content"]["application/json"]
        for answer in shown.get("examples", {}).values():
            if method == "post" and path.startswith("/objects/"):
                assert response.json() == answer["value"], (method, path, name)
