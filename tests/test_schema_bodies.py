"""Real answers match the OpenAPI document: every object's GET (single and batch) and list page,
every workflow's answer, the query service's pages, the model service and a composite, each
validated with openapi-schema-validator against the schema its operation documents for its
status (types, `nullable`, enums, formats, required members)."""

from tests.support.openapi import assert_matches_schema, response_schema, schema_errors
from tests.support.refs import href

QUERY = "/services/core/query"
MODEL = "/services/core/model"
COMPOSITE = "/services/core/composite"


def test_every_object_answers_as_documented(api, openapi_document, scene):
    objects, _, _ = scene
    for name, instances in objects.items():
        collection, detail = f"/objects/{name}", f"/objects/{name}/{{key}}"
        assert_matches_schema(openapi_document, collection, "get", api.get(collection), 200)
        for instance in instances:
            read = api.get(href(instance))
            assert_matches_schema(openapi_document, detail, "get", read, 200)
        keys = ",".join(str(instance.pk) for instance in instances[:2])
        both = api.get(f"{collection}/{keys}")
        assert_matches_schema(openapi_document, detail, "get", both, 200)


def test_every_workflow_answers_as_documented(openapi_document, scene):
    _, _, answers = scene
    for path, answer in answers.items():
        envelope = response_schema(openapi_document, path, "post", 200)
        result = envelope["properties"]["ia::result"]
        assert schema_errors(openapi_document, result, answer) == [], path


def test_the_services_answer_as_documented(api, openapi_document, scene):
    objects, _, _ = scene
    for name in objects:
        body = {"object": name, "fields": ["key", "id", "href"], "size": 3}
        answer = api.post(QUERY, body, format="json")
        assert answer.status_code == 200, answer.content
        assert_matches_schema(openapi_document, QUERY, "post", answer, 200)
        model = api.get(MODEL, {"name": name})
        assert_matches_schema(openapi_document, MODEL, "get", model, 200)
    assert_matches_schema(openapi_document, MODEL, "get", api.get(MODEL), 200)
    composite = [
        {"method": "GET", "path": "/objects/inventory-control/warehouse"},
        {"method": "GET", "path": href(objects["inventory-control/item"][0])},
    ]
    answer = api.post(COMPOSITE, composite, format="json")
    assert answer.status_code == 200, answer.content
    assert_matches_schema(openapi_document, COMPOSITE, "post", answer, 200)


def test_a_batch_with_a_failure_answers_as_documented(api, openapi_document):
    # Each position is one of three kinds (`oneOf`): a success with its status, a status alone,
    # an error. A status-only position once matched the other two as well (schemathesis).
    collection = "/objects/inventory-control/warehouse"
    detail = collection + "/{key}"
    bodies = [{"id": "WH-9", "name": "Nine"}, {"id": "", "name": "Nameless"}]
    created = api.post(collection, bodies, format="json")
    assert created.status_code == 207, created.content
    assert_matches_schema(openapi_document, collection, "post", created, 207)
    key = created.json()["ia::result"][0]["key"]
    read = api.get(f"{collection}/{key},999999")
    assert read.status_code == 207, read.content
    assert_matches_schema(openapi_document, detail, "get", read, 207)
    deleted = api.delete(f"{collection}/{key},999999")
    assert deleted.status_code == 207, deleted.content
    assert deleted.json()["ia::result"][0] == {"ia::status": 204}
    assert_matches_schema(openapi_document, detail, "delete", deleted, 207)
