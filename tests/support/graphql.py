"""GraphQL over real HTTP (contract 14): `graphql(client, query, **variables)` posts an operation
the way any GraphQL client does and returns the response; `data` and `error_entry` read it. The
expected error entries are spelled out literally, as tests/support/errors.py spells REST's."""

from typing import Any

from tests.support.errors import IDS

GRAPHQL = "/graphql"


def graphql(client, query: str, operation: str | None = None, **variables: Any):
    body: dict[str, Any] = {"query": query, "variables": variables}
    if operation is not None:
        body["operationName"] = operation
    return client.post(GRAPHQL, body, format="json")


def data(response) -> dict:
    """The `data` of an answer without errors (HTTP 200, as GraphQL answers)."""
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body["data"]


def error_entry(
    error_id: str, message: str, path: list, target: str | None = None, **extra: Any
) -> dict:
    """One `errors[]` entry, `locations` aside (tests compare everything else)."""
    code, _ = IDS[error_id]
    return {
        "message": message,
        "path": path,
        "extensions": {"code": code, "errorId": error_id, "target": target, **extra},
    }


def errors_of(response) -> list[dict]:
    """The answer's `errors[]` without `locations` (HTTP 200: GraphQL answers errors in the
    body)."""
    body = response.json()
    assert response.status_code == 200, body
    return [{k: v for k, v in entry.items() if k != "locations"} for entry in body["errors"]]
