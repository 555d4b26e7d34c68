"""The error catalogue: every errorId this service answers with, and the exception that carries one.

Intacct's own ids are kept where Intacct has one (REST-1028, REST-1043, REST-1064); everything else
is a `KS-` id of ours. Ids are stable: clients match on them, so never renumber, only add.
The README's error catalogue is generated from `CATALOGUE` (tests check it is up to date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The domain's refusals read the same to every reader: their text lives with the domain
# (core.errors), the catalogue adds the id and the status.
from core.errors import MESSAGES


@dataclass(frozen=True)
class ErrorSpec:
    error_id: str
    status: int
    code: str
    message_id: str
    message: str  # str.format template over the placeholders

    def render(self, placeholders: Mapping[str, Any]) -> str:
        try:
            return self.message.format(**placeholders)
        except (KeyError, IndexError):
            return self.message


CATALOGUE: dict[str, ErrorSpec] = {}


def _spec(error_id: str, status: int, code: str, message_id: str, message: str) -> ErrorSpec:
    spec = ErrorSpec(error_id, status, code, message_id, message)
    assert error_id not in CATALOGUE, error_id
    CATALOGUE[error_id] = spec
    return spec


# Intacct's own.
PAYLOAD_REQUIRED = _spec(
    "REST-1028",
    400,
    "invalidRequest",
    "IA.REQUEST_REQUIRES_PAYLOAD",
    "A {METHOD} request requires a payload",
)
NOT_A_VALID_FIELD = _spec(
    "REST-1043", 400, "invalidRequest", "IA.NOT_A_VALID_FIELD", "{FIELD} is not a valid field"
)
PAYLOAD_ERRORS = _spec(
    "REST-1064", 400, "invalidRequest", "IA.PAYLOAD_CONTAINS_ERRORS", "Payload contains errors"
)

# 400: the request itself is malformed.
MALFORMED_JSON = _spec(
    "KS-4001",
    400,
    "invalidRequest",
    "KS.MALFORMED_JSON",
    "Request body is not valid JSON: {REASON}",
)
PAYLOAD_NOT_OBJECT = _spec(
    "KS-4002", 400, "invalidRequest", "KS.PAYLOAD_NOT_OBJECT", "The payload must be a JSON object"
)
INVALID_PARAMETER = _spec(
    "KS-4003",
    400,
    "invalidRequest",
    "KS.INVALID_PARAMETER",
    "Query parameter {PARAMETER} is invalid: {REASON}",
)
INVALID_QUERY = _spec(
    "KS-4004", 400, "invalidRequest", "KS.INVALID_QUERY", "Invalid query: {REASON}"
)
NOT_UNICODE_TEXT = _spec(
    "KS-4010",
    400,
    "invalidRequest",
    "KS.NOT_UNICODE_TEXT",
    "Invalid text at {POINTER}: {REASON}",
)
OAUTH_INVALID_REQUEST = _spec(
    "KS-4006", 400, "invalidRequest", "KS.OAUTH_INVALID_REQUEST", "OAuth2 request failed: {ERROR}"
)
BAD_REQUEST = _spec("KS-4005", 400, "invalidRequest", "KS.BAD_REQUEST", "Bad request: {REASON}")
# The query service (contract 9): what exactly is wrong with a query.
QUERY_INVALID_OPERATOR = _spec(
    "KS-4007",
    400,
    "invalidRequest",
    "KS.QUERY_INVALID_OPERATOR",
    "Invalid query: {OPERATOR} cannot be used on {FIELD}: {REASON}",
)
QUERY_INVALID_VALUE = _spec(
    "KS-4008",
    400,
    "invalidRequest",
    "KS.QUERY_INVALID_VALUE",
    "Invalid query: {OPERATOR} on {FIELD} takes {EXPECTED}, not {VALUE}",
)
QUERY_INVALID_EXPRESSION = _spec(
    "KS-4009",
    400,
    "invalidRequest",
    "KS.QUERY_INVALID_EXPRESSION",
    "Invalid query: filterExpression {EXPRESSION} is invalid: {REASON}",
)

# 401 / 403: who you are and what you may do.
NOT_AUTHENTICATED = _spec(
    "KS-4011",
    401,
    "unauthorized",
    "KS.NOT_AUTHENTICATED",
    "Authentication credentials were not provided",
)
BAD_CREDENTIALS = _spec(
    "KS-4012",
    401,
    "unauthorized",
    "KS.BAD_CREDENTIALS",
    "The credentials are invalid or have expired",
)
OAUTH_ERROR = _spec(
    "KS-4013", 401, "unauthorized", "KS.OAUTH_ERROR", "OAuth2 request failed: {ERROR}"
)
FORBIDDEN = _spec(
    "KS-4031", 403, "forbidden", "KS.FORBIDDEN", "You do not have permission to perform this action"
)

# 404 / 405 / 415.
OBJECT_NOT_FOUND = _spec("KS-4041", 404, "notFound", "KS.OBJECT_NOT_FOUND", MESSAGES["not_found"])
ROUTE_NOT_FOUND = _spec("KS-4042", 404, "notFound", "KS.ROUTE_NOT_FOUND", "No route matches {PATH}")
METHOD_NOT_ALLOWED = _spec(
    "KS-4051",
    405,
    "methodNotAllowed",
    "KS.METHOD_NOT_ALLOWED",
    "Method {METHOD} is not allowed on {PATH}",
)
UNSUPPORTED_MEDIA_TYPE = _spec(
    "KS-4151",
    415,
    "invalidRequest",
    "KS.UNSUPPORTED_MEDIA_TYPE",
    "Content type {TYPE} is not supported: send application/json",
)

# 409: the request clashes with what is stored.
DUPLICATE = _spec(
    "KS-4091",
    409,
    "conflict",
    "KS.DUPLICATE",
    MESSAGES["duplicate"],
)
STILL_REFERENCED = _spec(
    "KS-4092",
    409,
    "conflict",
    "KS.STILL_REFERENCED",
    MESSAGES["still_referenced"],
)
CONFLICT = _spec(
    "KS-4093",
    409,
    "conflict",
    "KS.CONFLICT",
    MESSAGES["conflict"],
)
INVENTORY_STILL_KITTED = _spec(
    "KS-4094",
    409,
    "conflict",
    "KS.INVENTORY_STILL_KITTED",
    MESSAGES["inventory_still_kitted"],
)

# Kitting (contract 7).
KIT_STILL_HOLDS = _spec(
    "KS-4098",
    409,
    "conflict",
    "KS.KIT_STILL_HOLDS",
    MESSAGES["kit_still_holds"],
)

# 412 / 428: optimistic concurrency.
PRECONDITION_FAILED = _spec(
    "KS-4121",
    412,
    "preconditionFailed",
    "KS.PRECONDITION_FAILED",
    "If-Match {GIVEN} does not match the current version {CURRENT}",
)
PRECONDITION_REQUIRED = _spec(
    "KS-4281",
    428,
    "preconditionRequired",
    "KS.PRECONDITION_REQUIRED",
    "{OBJECT} can only be changed with an If-Match header carrying its current ETag",
)

# 422: business rules. The top-level error carries one detail per violated rule.
OPERATION_FAILED = _spec(
    "KS-4220", 422, "operationFailed", "KS.OPERATION_FAILED", "The operation could not be completed"
)
REQUIRED = _spec("KS-4221", 422, "operationFailed", "KS.REQUIRED", MESSAGES["required"])
INVALID_VALUE = _spec(
    "KS-4222", 422, "operationFailed", "KS.INVALID_VALUE", MESSAGES["invalid_value"]
)
IMMUTABLE = _spec("KS-4223", 422, "operationFailed", "KS.IMMUTABLE", MESSAGES["immutable"])
REFERENCE_NOT_FOUND = _spec(
    "KS-4224",
    422,
    "operationFailed",
    "KS.REFERENCE_NOT_FOUND",
    MESSAGES["reference_not_found"],
)
REFERENCE_MISMATCH = _spec(
    "KS-4225",
    422,
    "operationFailed",
    "KS.REFERENCE_MISMATCH",
    "{FIELD}: key {KEY} and id {ID} name different objects",
)
NOT_A_KIT = _spec(
    "KS-4226",
    422,
    "operationFailed",
    "KS.NOT_A_KIT",
    MESSAGES["not_a_kit"],
)
COMPONENT_TYPE_NOT_ALLOWED = _spec(
    "KS-4227",
    422,
    "operationFailed",
    "KS.COMPONENT_TYPE_NOT_ALLOWED",
    MESSAGES["component_type_not_allowed"],
)
KIT_CYCLE = _spec(
    "KS-4228",
    422,
    "operationFailed",
    "KS.KIT_CYCLE",
    MESSAGES["kit_cycle"],
)
DUPLICATE_COMPONENT = _spec(
    "KS-4229",
    422,
    "operationFailed",
    "KS.DUPLICATE_COMPONENT",
    MESSAGES["duplicate_component"],
)
TRACKING_NOT_ALLOWED = _spec(
    "KS-4230",
    422,
    "operationFailed",
    "KS.TRACKING_NOT_ALLOWED",
    MESSAGES["tracking_not_allowed"],
)
KITS_ONLY = _spec(
    "KS-4231",
    422,
    "operationFailed",
    "KS.KITS_ONLY",
    MESSAGES["kits_only"],
)
CONSTRAINT_VIOLATED = _spec(
    "KS-4232",
    422,
    "operationFailed",
    "KS.CONSTRAINT_VIOLATED",
    MESSAGES["constraint_violated"],
)
LINE_NUMBER_OUT_OF_RANGE = _spec(
    "KS-4233",
    422,
    "operationFailed",
    "KS.LINE_NUMBER_OUT_OF_RANGE",
    MESSAGES["line_number_out_of_range"],
)
# Part inventory (contract 6).
PART_NOT_STOCKED = _spec(
    "KS-4240",
    422,
    "operationFailed",
    "KS.PART_NOT_STOCKED",
    MESSAGES["part_not_stocked"],
)
TRACKING_MISMATCH = _spec(
    "KS-4241",
    422,
    "operationFailed",
    "KS.TRACKING_MISMATCH",
    MESSAGES["tracking_mismatch"],
)

# Kitting (contract 7).
ISSUE_EXCEEDS_ON_HAND = _spec(
    "KS-4250",
    422,
    "operationFailed",
    "KS.ISSUE_EXCEEDS_ON_HAND",
    MESSAGES["issue_exceeds_on_hand"],
)
MOVE_EXCEEDS_ISSUED = _spec(
    "KS-4251",
    422,
    "operationFailed",
    "KS.MOVE_EXCEEDS_ISSUED",
    MESSAGES["move_exceeds_issued"],
)
NOT_IN_KIT = _spec(
    "KS-4252",
    422,
    "operationFailed",
    "KS.NOT_IN_KIT",
    MESSAGES["not_in_kit"],
)
KIT_CLOSED = _spec(
    "KS-4253",
    422,
    "operationFailed",
    "KS.KIT_CLOSED",
    MESSAGES["kit_closed"],
)
KIT_STATUS_FINAL = _spec(
    "KS-4254",
    422,
    "operationFailed",
    "KS.KIT_STATUS_FINAL",
    MESSAGES["kit_status_final"],
)
RUN_CLOSED = _spec(
    "KS-4255",
    422,
    "operationFailed",
    "KS.RUN_CLOSED",
    MESSAGES["run_closed"],
)
RUN_HAS_NO_PART = _spec(
    "KS-4256",
    422,
    "operationFailed",
    "KS.RUN_HAS_NO_PART",
    MESSAGES["run_has_no_part"],
)
RUN_PART_NOT_STOCKED = _spec(
    "KS-4257",
    422,
    "operationFailed",
    "KS.RUN_PART_NOT_STOCKED",
    MESSAGES["run_part_not_stocked"],
)
SERIAL_MOVES_ONE = _spec(
    "KS-4258",
    422,
    "operationFailed",
    "KS.SERIAL_MOVES_ONE",
    MESSAGES["serial_moves_one"],
)
RUN_COMPLETED_BY_WORKFLOW = _spec(
    "KS-4259",
    422,
    "operationFailed",
    "KS.RUN_COMPLETED_BY_WORKFLOW",
    MESSAGES["run_completed_by_workflow"],
)
SERIAL_NUMBERS_COUNT = _spec(
    "KS-4260",
    422,
    "operationFailed",
    "KS.SERIAL_NUMBERS_COUNT",
    MESSAGES["serial_numbers_count"],
)
TRACKING_IN_USE = _spec(
    "KS-4234",
    422,
    "operationFailed",
    "KS.TRACKING_IN_USE",
    MESSAGES["tracking_in_use"],
)

# 429 / 500.
THROTTLED = _spec(
    "KS-4291",
    429,
    "tooManyRequests",
    "KS.THROTTLED",
    "Too many requests: retry in {SECONDS} seconds",
)
INTERNAL_ERROR = _spec(
    "KS-5001",
    500,
    "internalError",
    "KS.INTERNAL_ERROR",
    "An unexpected error occurred; quote the supportId when reporting it",
)


@dataclass
class ApiError(Exception):
    """An answer in the `ia::error` shape. Services raise it; the API layer renders it.

    `details` are ApiErrors too (one per violated rule or unknown field); `target` names the field.
    """

    spec: ErrorSpec
    target: str | None = None
    placeholders: dict[str, Any] = field(default_factory=dict)
    details: list[ApiError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return self.spec.status

    @property
    def message(self) -> str:
        return self.spec.render(self.placeholders)

    def as_dict(self, support_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.spec.code,
            "message": self.message,
            "errorId": self.spec.error_id,
        }
        if self.target is not None:
            body["target"] = self.target
        body["additionalInfo"] = {
            "messageId": self.spec.message_id,
            "placeholders": {k: str(v) for k, v in self.placeholders.items()},
            "propertySet": {},
        }
        if support_id is not None:
            body["supportId"] = support_id
        if self.details:
            body["details"] = [d.as_dict() for d in self.details]
        return body


def error(spec: ErrorSpec, target: str | None = None, **placeholders: Any) -> ApiError:
    return ApiError(spec, target=target, placeholders=placeholders)


def rule_violations(violations: Iterable[ApiError]) -> ApiError:
    """One 422 answer carrying every violated rule as a detail."""
    return ApiError(OPERATION_FAILED, details=list(violations))


def rule_violation(spec: ErrorSpec, target: str, **placeholders: Any) -> ApiError:
    return rule_violations([error(spec, target, **placeholders)])


def error_body(err: ApiError, support_id: str | None) -> dict[str, Any]:
    return {
        "ia::result": {"ia::error": err.as_dict(support_id)},
        "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1},
    }


# --- the domain's refusals -------------------------------------------------------------------
# A DomainError's code -> the catalogue entry it is answered with (with the domain's message,
# but for `stale`: over HTTP the version a client read is the If-Match header it sent).
DOMAIN_CODES: dict[str, ErrorSpec] = {
    "not_found": OBJECT_NOT_FOUND,
    "duplicate": DUPLICATE,
    "still_referenced": STILL_REFERENCED,
    "inventory_still_kitted": INVENTORY_STILL_KITTED,
    "kit_still_holds": KIT_STILL_HOLDS,
    "conflict": CONFLICT,
    "constraint_violated": CONSTRAINT_VIOLATED,
    "stale": PRECONDITION_FAILED,
    "required": REQUIRED,
    "invalid_value": INVALID_VALUE,
    "immutable": IMMUTABLE,
    "reference_not_found": REFERENCE_NOT_FOUND,
    "not_a_kit": NOT_A_KIT,
    "component_type_not_allowed": COMPONENT_TYPE_NOT_ALLOWED,
    "kit_cycle": KIT_CYCLE,
    "duplicate_component": DUPLICATE_COMPONENT,
    "tracking_not_allowed": TRACKING_NOT_ALLOWED,
    "kits_only": KITS_ONLY,
    "line_number_out_of_range": LINE_NUMBER_OUT_OF_RANGE,
    "part_not_stocked": PART_NOT_STOCKED,
    "tracking_mismatch": TRACKING_MISMATCH,
    "tracking_in_use": TRACKING_IN_USE,
    "issue_exceeds_on_hand": ISSUE_EXCEEDS_ON_HAND,
    "move_exceeds_issued": MOVE_EXCEEDS_ISSUED,
    "not_in_kit": NOT_IN_KIT,
    "kit_closed": KIT_CLOSED,
    "kit_status_final": KIT_STATUS_FINAL,
    "run_closed": RUN_CLOSED,
    "run_has_no_part": RUN_HAS_NO_PART,
    "run_part_not_stocked": RUN_PART_NOT_STOCKED,
    "serial_moves_one": SERIAL_MOVES_ONE,
    "run_completed_by_workflow": RUN_COMPLETED_BY_WORKFLOW,
    "serial_numbers_count": SERIAL_NUMBERS_COUNT,
}
