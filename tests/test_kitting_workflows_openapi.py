"""The kitting workflows of contract 7.3 and 7.4: the OpenAPI documents their real bodies."""

import json

from tests.support.kitting import (
    COMPLETE,
    ISSUE,
    MOVE,
)

# --- OpenAPI -------------------------------------------------------------------------------------


def test_workflows_are_documented_with_their_real_bodies(client):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    components = schema["components"]["schemas"]

    def resolve(node):
        if "allOf" in node:  # a read-only nested serializer: {"allOf": [{"$ref"}], "readOnly"}
            [node] = node["allOf"]
        return components[node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    expected = {
        ISSUE: ("PartKitIssueRequest", "KitMoveResult"),
        MOVE: ("PartKitMoveToInventoryRequest", "KitMoveResult"),
        COMPLETE: ("RunCompleteRequest", "RunCompleteResult"),
    }
    for path, (request_name, result_name) in expected.items():
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{request_name}"}
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["properties"]["ia::result"] == {"$ref": f"#/components/schemas/{result_name}"}
        assert set(ok["properties"]["ia::meta"]["properties"]) == {
            "totalCount",
            "totalSuccess",
            "totalError",
        }
        for status in ("400", "401", "403", "404", "422"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    assert set(components["PartKitIssueRequest"]["properties"]) == {
        "key",
        "partInventory",
        "quantity",
    }
    assert components["PartKitIssueRequest"]["required"] == ["key", "partInventory"]
    assert set(components["PartKitMoveToInventoryRequest"]["properties"]) == {
        "key",
        "partInventory",
        "quantity",
        "location",
    }
    assert set(components["RunCompleteRequest"]["properties"]) == {
        "key",
        "location",
        "serialNumbers",
        "allowShortage",
    }
    assert set(components["PartKitFulfillRequest"]["properties"]) == {"key", "location"}
    fulfilled = components["FulfilResult"]["properties"]
    assert set(fulfilled) == {"key", "id", "href", "issued", "requirements"}
    result = components["KitMoveResult"]["properties"]
    assert set(result) == {"key", "id", "href", "partInventory", "issuedQuantity"}
    assert set(resolve(result["partInventory"])["properties"]) == {"key", "id", "href", "quantity"}
    outputs = components["RunCompleteResult"]["properties"]["outputs"]["items"]
    assert set(resolve(outputs)["properties"]) == {
        "key",
        "id",
        "href",
        "serialNumber",
        "lotNumber",
        "quantity",
    }
    kit_fields = components["PartKit"]["properties"]
    assert resolve(kit_fields["requirements"]["items"])["properties"].keys() == {
        "part",
        "requiredQuantity",
        "issuedQuantity",
        "shortQuantity",
    }
    assert "/ia/api/v1" + ISSUE not in schema["paths"]
