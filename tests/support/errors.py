"""Expected ia::error bodies, spelled out literally (not built from config.api.errors, so a broken
catalogue entry fails the tests), and the one assert_error."""

from typing import Any

# errorId -> (code, messageId), as the contract and the README's catalogue name them.
IDS = {
    "REST-1028": ("invalidRequest", "IA.REQUEST_REQUIRES_PAYLOAD"),
    "REST-1043": ("invalidRequest", "IA.NOT_A_VALID_FIELD"),
    "REST-1064": ("invalidRequest", "IA.PAYLOAD_CONTAINS_ERRORS"),
    "KS-4001": ("invalidRequest", "KS.MALFORMED_JSON"),
    "KS-4002": ("invalidRequest", "KS.PAYLOAD_NOT_OBJECT"),
    "KS-4003": ("invalidRequest", "KS.INVALID_PARAMETER"),
    "KS-4005": ("invalidRequest", "KS.BAD_REQUEST"),
    "KS-4004": ("invalidRequest", "KS.INVALID_QUERY"),
    "KS-4006": ("invalidRequest", "KS.OAUTH_INVALID_REQUEST"),
    "KS-4010": ("invalidRequest", "KS.NOT_UNICODE_TEXT"),
    "KS-4019": ("invalidRequest", "KS.IDEMPOTENCY_KEY_INVALID"),
    "KS-4020": ("invalidRequest", "KS.GRAPHQL_INVALID_ARGUMENT"),
    "KS-4021": ("invalidRequest", "KS.GRAPHQL_TOO_DEEP"),
    "KS-4022": ("invalidRequest", "KS.GRAPHQL_TOO_COSTLY"),
    "KS-4024": ("invalidRequest", "KS.MULTI_INVALID"),
    "KS-4025": ("invalidRequest", "KS.MULTI_ITEM_INVALID"),
    "KS-4026": ("invalidRequest", "KS.REFERENCE_UNRESOLVED"),
    "KS-4027": ("invalidRequest", "KS.INVALID_HEADER"),
    "KS-4011": ("unauthorized", "KS.NOT_AUTHENTICATED"),
    "KS-4012": ("unauthorized", "KS.BAD_CREDENTIALS"),
    "KS-4013": ("unauthorized", "KS.OAUTH_ERROR"),
    "KS-4031": ("forbidden", "KS.FORBIDDEN"),
    "KS-4041": ("notFound", "KS.OBJECT_NOT_FOUND"),
    "KS-4042": ("notFound", "KS.ROUTE_NOT_FOUND"),
    "KS-4051": ("methodNotAllowed", "KS.METHOD_NOT_ALLOWED"),
    "KS-4151": ("invalidRequest", "KS.UNSUPPORTED_MEDIA_TYPE"),
    "KS-4091": ("conflict", "KS.DUPLICATE"),
    "KS-4092": ("conflict", "KS.STILL_REFERENCED"),
    "KS-4093": ("conflict", "KS.CONFLICT"),
    "KS-4094": ("conflict", "KS.INVENTORY_STILL_KITTED"),
    "KS-4095": ("conflict", "KS.IDEMPOTENCY_KEY_REUSED"),
    "KS-4096": ("conflict", "KS.IDEMPOTENCY_KEY_IN_FLIGHT"),
    "KS-4097": ("conflict", "KS.IDEMPOTENCY_KEY_EXPIRED"),
    "KS-4098": ("conflict", "KS.KIT_STILL_HOLDS"),
    "KS-4121": ("preconditionFailed", "KS.PRECONDITION_FAILED"),
    "KS-4220": ("operationFailed", "KS.OPERATION_FAILED"),
    "KS-4221": ("operationFailed", "KS.REQUIRED"),
    "KS-4222": ("operationFailed", "KS.INVALID_VALUE"),
    "KS-4223": ("operationFailed", "KS.IMMUTABLE"),
    "KS-4224": ("operationFailed", "KS.REFERENCE_NOT_FOUND"),
    "KS-4225": ("operationFailed", "KS.REFERENCE_MISMATCH"),
    "KS-4226": ("operationFailed", "KS.NOT_A_KIT"),
    "KS-4227": ("operationFailed", "KS.COMPONENT_TYPE_NOT_ALLOWED"),
    "KS-4228": ("operationFailed", "KS.KIT_CYCLE"),
    "KS-4229": ("operationFailed", "KS.DUPLICATE_COMPONENT"),
    "KS-4230": ("operationFailed", "KS.TRACKING_NOT_ALLOWED"),
    "KS-4231": ("operationFailed", "KS.KITS_ONLY"),
    "KS-4233": ("operationFailed", "KS.LINE_NUMBER_OUT_OF_RANGE"),
    "KS-4234": ("operationFailed", "KS.TRACKING_IN_USE"),
    "KS-4240": ("operationFailed", "KS.PART_NOT_STOCKED"),
    "KS-4241": ("operationFailed", "KS.TRACKING_MISMATCH"),
    "KS-4250": ("operationFailed", "KS.ISSUE_EXCEEDS_ON_HAND"),
    "KS-4251": ("operationFailed", "KS.MOVE_EXCEEDS_ISSUED"),
    "KS-4252": ("operationFailed", "KS.NOT_IN_KIT"),
    "KS-4253": ("operationFailed", "KS.KIT_CLOSED"),
    "KS-4254": ("operationFailed", "KS.KIT_STATUS_FINAL"),
    "KS-4255": ("operationFailed", "KS.RUN_CLOSED"),
    "KS-4256": ("operationFailed", "KS.RUN_HAS_NO_PART"),
    "KS-4257": ("operationFailed", "KS.RUN_PART_NOT_STOCKED"),
    "KS-4258": ("operationFailed", "KS.SERIAL_MOVES_ONE"),
    "KS-4259": ("operationFailed", "KS.RUN_COMPLETED_BY_WORKFLOW"),
    "KS-4260": ("operationFailed", "KS.SERIAL_NUMBERS_COUNT"),
    "KS-4265": ("operationFailed", "KS.REQUIREMENT_SHORT"),
    "KS-4270": ("unprocessed", "KS.UNPROCESSED"),
    "KS-4273": ("operationFailed", "KS.SCRAP_EXCEEDS_ON_HAND"),
    "KS-4274": ("operationFailed", "KS.SPLIT_TAKES_ALL"),
    "KS-4275": ("operationFailed", "KS.SPLIT_SERIAL"),
    "KS-4281": ("preconditionRequired", "KS.PRECONDITION_REQUIRED"),
    "KS-4291": ("tooManyRequests", "KS.THROTTLED"),
    "KS-5001": ("internalError", "KS.INTERNAL_ERROR"),
    "KS-5031": ("serviceUnavailable", "KS.DATABASE_UNAVAILABLE"),
    "KS-5032": ("serviceUnavailable", "KS.STATEMENT_CANCELED"),
    "KS-5034": ("serviceUnavailable", "KS.NOT_READY"),
    "KS-5035": ("serviceUnavailable", "KS.CACHE_UNAVAILABLE"),
}
# code -> the statuses it may answer with.
STATUS = {
    "invalidRequest": {400, 415},
    "unauthorized": {401},
    "forbidden": {403},
    "notFound": {404},
    "methodNotAllowed": {405},
    "conflict": {409},
    "preconditionFailed": {412},
    "operationFailed": {422},
    "unprocessed": {422},
    "preconditionRequired": {428},
    "tooManyRequests": {429},
    "internalError": {500},
    "serviceUnavailable": {503},
}
FAILED_META = {"totalCount": 1, "totalSuccess": 0, "totalError": 1}


def err(
    error_id: str,
    message: str,
    target: str | None = None,
    *,
    details: list[dict] | None = None,
    **placeholders: Any,
) -> dict:
    """One error (top level or detail) without supportId."""
    code, message_id = IDS[error_id]
    body: dict[str, Any] = {"code": code, "message": message, "errorId": error_id}
    if target is not None:
        body["target"] = target
    body["additionalInfo"] = {
        "messageId": message_id,
        "placeholders": {k: str(v) for k, v in placeholders.items()},
        "propertySet": {},
    }
    if details is not None:
        body["details"] = details
    return body


def assert_error(
    response,
    status: int,
    expected: dict,
    details: list[dict] | None = None,
    *,
    where: str = "",
    **members: Any,
) -> None:
    """The whole JSON body and status: the error, its details, supportId = the response's
    X-Request-Id, and any further top-level `members` (RFC 6749's `error` on the token endpoint).
    `where` (a sweep's method and path) heads the failure message."""
    top = {**expected, "supportId": response["X-Request-Id"]}
    if details is not None:
        top["details"] = details
    assert status in STATUS[expected["code"]], (where, status, expected["code"])
    # (This module is not assertion-rewritten: spell out what differs.)
    actual = (response.status_code, response.json())
    wanted = (status, {"ia::result": {"ia::error": top}, "ia::meta": FAILED_META, **members})
    assert actual == wanted, f"{where}\nactual:   {actual!r}\nexpected: {wanted!r}"
    assert response["Content-Type"].split(";")[0] == "application/json"


def assert_rules(response, *details: dict) -> None:
    """A 422 carrying exactly these rule violations."""
    assert_error(response, 422, failed(*details))


def failed(*details: dict) -> dict:
    """The 422 wrapper carrying one detail per violated rule."""
    return err("KS-4220", "The operation could not be completed", details=list(details))


def required(field: str) -> dict:
    return err("KS-4221", f"{field} is required", field, FIELD=field)


def invalid(field: str, reason: str) -> dict:
    return err("KS-4222", f"{field} is invalid: {reason}", field, FIELD=field, REASON=reason)


def not_found(obj: str, key) -> dict:
    return err("KS-4041", f"{obj} with key {key} was not found", OBJECT=obj, KEY=key)


NOT_AUTHENTICATED = err("KS-4011", "Authentication credentials were not provided")
FORBIDDEN = err("KS-4031", "You do not have permission to perform this action")


def route_not_found(path: str) -> dict:
    return err("KS-4042", f"No route matches {path}", PATH=path)


def not_allowed(method: str, path: str) -> dict:
    return err("KS-4051", f"Method {method} is not allowed on {path}", METHOD=method, PATH=path)


def precondition_failed(given: str, current: str) -> dict:
    return err(
        "KS-4121",
        f"If-Match {given} does not match the current version {current}",
        GIVEN=given,
        CURRENT=current,
    )


def precondition_required(obj: str) -> dict:
    return err(
        "KS-4281",
        f"{obj} can only be changed with an If-Match header carrying its current ETag",
        OBJECT=obj,
    )


def reference_not_found(field: str, obj: str, reference: str) -> dict:
    """The 422 detail of a reference (`field`) to an `obj` that does not exist."""
    return err(
        "KS-4224",
        f"{field} refers to a {obj} that does not exist: {reference}",
        field,
        FIELD=field,
        OBJECT=obj,
        REFERENCE=reference,
    )


def not_ready(components: str) -> dict:
    return err("KS-5034", f"Not ready: the {components} did not answer", COMPONENTS=components)
