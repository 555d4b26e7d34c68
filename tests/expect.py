"""Expected ia::error bodies, spelled out literally (not built from config.api.errors, so a broken
catalogue entry fails the tests), and database snapshots for "nothing changed" checks."""

from typing import Any

from django.db import models

from config.api import identity

# errorId -> (code, messageId), as the contract and the README's catalogue name them.
IDS = {
    "REST-1028": ("invalidRequest", "IA.REQUEST_REQUIRES_PAYLOAD"),
    "REST-1043": ("invalidRequest", "IA.NOT_A_VALID_FIELD"),
    "REST-1064": ("invalidRequest", "IA.PAYLOAD_CONTAINS_ERRORS"),
    "KS-4001": ("invalidRequest", "KS.MALFORMED_JSON"),
    "KS-4002": ("invalidRequest", "KS.PAYLOAD_NOT_OBJECT"),
    "KS-4003": ("invalidRequest", "KS.INVALID_PARAMETER"),
    "KS-4011": ("unauthorized", "KS.NOT_AUTHENTICATED"),
    "KS-4012": ("unauthorized", "KS.BAD_CREDENTIALS"),
    "KS-4031": ("forbidden", "KS.FORBIDDEN"),
    "KS-4041": ("notFound", "KS.OBJECT_NOT_FOUND"),
    "KS-4042": ("notFound", "KS.ROUTE_NOT_FOUND"),
    "KS-4051": ("methodNotAllowed", "KS.METHOD_NOT_ALLOWED"),
    "KS-4151": ("invalidRequest", "KS.UNSUPPORTED_MEDIA_TYPE"),
    "KS-4091": ("conflict", "KS.DUPLICATE"),
    "KS-4092": ("conflict", "KS.STILL_REFERENCED"),
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
    "KS-4291": ("tooManyRequests", "KS.THROTTLED"),
}
STATUS = {
    "invalidRequest": {400, 415},
    "unauthorized": {401},
    "forbidden": {403},
    "notFound": {404},
    "methodNotAllowed": {405},
    "conflict": {409},
    "preconditionFailed": {412},
    "operationFailed": {422},
    "tooManyRequests": {429},
}
FAILED_META = {"totalCount": 1, "totalSuccess": 0, "totalError": 1}
ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}


def err(error_id: str, message: str, target: str | None = None, **placeholders: Any) -> dict:
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
    return body


def assert_error(response, status: int, error: dict, details: list[dict] | None = None) -> None:
    """The whole body: the error, its details, supportId = the response's X-Request-Id."""
    top = {**error, "supportId": response["X-Request-Id"]}
    if details is not None:
        top["details"] = details
    assert status in STATUS[error["code"]]
    # (This module is not assertion-rewritten: spell out what differs.)
    actual = (response.status_code, response.json())
    expected = (status, {"ia::result": {"ia::error": top}, "ia::meta": FAILED_META})
    assert actual == expected, f"\nactual:   {actual!r}\nexpected: {expected!r}"
    assert response["Content-Type"].split(";")[0] == "application/json"


def assert_rules(response, *details: dict) -> None:
    """A 422 carrying exactly these rule violations."""
    assert_error(
        response,
        422,
        err("KS-4220", "The operation could not be completed"),
        list(details),
    )


def required(field: str) -> dict:
    return err("KS-4221", f"{field} is required", field, FIELD=field)


def invalid(field: str, reason: str) -> dict:
    return err("KS-4222", f"{field} is invalid: {reason}", field, FIELD=field, REASON=reason)


def snapshot(*model_classes: type[models.Model]) -> dict[str, list[dict]]:
    """Every row of these models, every column: compare before and after a failed request."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in model_classes}


def ref(obj) -> dict[str, str]:
    return {"key": str(obj.pk), "id": identity.api_id(obj), "href": identity.href(obj)}


def created(obj) -> dict:
    return {"ia::result": ref(obj), "ia::meta": ONE}


def audit(obj, user) -> dict:
    user_ref = {
        "key": str(user.pk),
        "id": user.get_username(),
        "href": f"/objects/company-config/user/{user.pk}",
    }
    return {
        "createdDateTime": obj.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "modifiedDateTime": obj.modified_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "createdBy": str(user.pk),
        "modifiedBy": str(user.pk),
        "createdByUser": user_ref,
        "modifiedByUser": user_ref,
    }
