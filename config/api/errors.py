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

# The code of an answer follows from its status.
CODES = {
    400: "invalidRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "notFound",
    405: "methodNotAllowed",
    408: "invalidRequest",
    409: "conflict",
    412: "preconditionFailed",
    413: "invalidRequest",
    414: "invalidRequest",
    415: "invalidRequest",
    422: "operationFailed",
    428: "preconditionRequired",
    429: "tooManyRequests",
    431: "invalidRequest",
    500: "internalError",
    501: "notImplemented",
    502: "serviceUnavailable",
    503: "serviceUnavailable",
    504: "serviceUnavailable",
    505: "versionNotSupported",
}


@dataclass(eq=False)
class ErrorSpec:
    error_id: str
    status: int
    message: str  # str.format template over the placeholders
    # `KS.<its constant's name>` (filled in below) unless the entry names its own (Intacct's).
    message_id: str = ""
    # The code, where Intacct names one other than its status's (`unprocessed`).
    own_code: str = ""

    @property
    def code(self) -> str:
        return self.own_code or CODES[self.status]

    def render(self, placeholders: Mapping[str, Any]) -> str:
        try:
            return self.message.format(**placeholders)
        except (KeyError, IndexError):
            return self.message


CATALOGUE: dict[str, ErrorSpec] = {}
# A DomainError's code -> the catalogue entry it is answered with, with the domain's message
# (core.errors).
DOMAIN_CODES: dict[str, ErrorSpec] = {}


def _spec(
    error_id: str, status: int, message: str, message_id: str = "", *, code: str = ""
) -> ErrorSpec:
    spec = ErrorSpec(error_id, status, message, message_id, code)
    assert error_id not in CATALOGUE, error_id
    CATALOGUE[error_id] = spec
    return spec


def _domain(error_id: str, status: int, code: str, message: str | None = None) -> ErrorSpec:
    """A domain refusal's entry, worded as the domain words it unless the API names its own
    route (`message`)."""
    DOMAIN_CODES[code] = _spec(error_id, status, message or MESSAGES[code])
    return DOMAIN_CODES[code]


# Intacct's own.
PAYLOAD_REQUIRED = _spec(
    "REST-1028", 400, "A {METHOD} request requires a payload", "IA.REQUEST_REQUIRES_PAYLOAD"
)
NOT_A_VALID_FIELD = _spec("REST-1043", 400, "{FIELD} is not a valid field", "IA.NOT_A_VALID_FIELD")
PAYLOAD_ERRORS = _spec("REST-1064", 400, "Payload contains errors", "IA.PAYLOAD_CONTAINS_ERRORS")

# 400: the request itself is malformed.
MALFORMED_JSON = _spec("KS-4001", 400, "Request body is not valid JSON: {REASON}")
PAYLOAD_NOT_OBJECT = _spec("KS-4002", 400, "The payload must be a JSON object")
INVALID_PARAMETER = _spec("KS-4003", 400, "Query parameter {PARAMETER} is invalid: {REASON}")
INVALID_QUERY = _spec("KS-4004", 400, "Invalid query: {REASON}")
NOT_UNICODE_TEXT = _spec("KS-4010", 400, "Invalid text at {POINTER}: {REASON}")
OAUTH_INVALID_REQUEST = _spec("KS-4006", 400, "OAuth2 request failed: {ERROR}")
BAD_REQUEST = _spec("KS-4005", 400, "Bad request: {REASON}")
# The query service (contract 9): what exactly is wrong with a query.
QUERY_INVALID_OPERATOR = _spec(
    "KS-4007", 400, "Invalid query: {OPERATOR} cannot be used on {FIELD}: {REASON}"
)
QUERY_INVALID_VALUE = _spec(
    "KS-4008", 400, "Invalid query: {OPERATOR} on {FIELD} takes {EXPECTED}, not {VALUE}"
)
QUERY_INVALID_EXPRESSION = _spec(
    "KS-4009", 400, "Invalid query: filterExpression {EXPRESSION} is invalid: {REASON}"
)
IDEMPOTENCY_KEY_INVALID = _spec(
    "KS-4019", 400, "Idempotency-Key must be 1 to 256 printable ASCII characters"
)
# Composite requests and batch forms (contract 13.2, 13.3): refused whole before anything runs;
# a problem at one position is a detail whose target is its JSON pointer (`/2/method`).
MULTI_INVALID = _spec("KS-4024", 400, "Invalid {FORM}: {REASON}")
MULTI_ITEM_INVALID = _spec("KS-4025", 400, "{POINTER} is invalid: {REASON}")
REFERENCE_UNRESOLVED = _spec("KS-4026", 400, "Reference {REFERENCE} does not resolve: {REASON}")
INVALID_HEADER = _spec("KS-4027", 400, "Header {HEADER} is invalid: {REASON}")

# GraphQL (contract 14): an operation refused before it runs, or an argument it cannot take.
GRAPHQL_INVALID_ARGUMENT = _spec("KS-4020", 400, "Argument {ARGUMENT} is invalid: {REASON}")
GRAPHQL_TOO_DEEP = _spec(
    "KS-4021", 400, "The operation nests {DEPTH} selection sets: at most {MAX} are allowed"
)
GRAPHQL_TOO_COSTLY = _spec(
    "KS-4022", 400, "The operation would cost {COST}: at most {MAX} is allowed"
)

# 401 / 403: who you are and what you may do.
NOT_AUTHENTICATED = _spec("KS-4011", 401, "Authentication credentials were not provided")
BAD_CREDENTIALS = _spec("KS-4012", 401, "The credentials are invalid or have expired")
OAUTH_ERROR = _spec("KS-4013", 401, "OAuth2 request failed: {ERROR}")
FORBIDDEN = _spec("KS-4031", 403, "You do not have permission to perform this action")

# 404 / 405 / 415.
OBJECT_NOT_FOUND = _domain("KS-4041", 404, "not_found")
ROUTE_NOT_FOUND = _spec("KS-4042", 404, "No route matches {PATH}")
METHOD_NOT_ALLOWED = _spec("KS-4051", 405, "Method {METHOD} is not allowed on {PATH}")
UNSUPPORTED_MEDIA_TYPE = _spec(
    "KS-4151", 415, "Content type {TYPE} is not supported: send application/json"
)

# 409: the request clashes with what is stored.
DUPLICATE = _domain("KS-4091", 409, "duplicate")
STILL_REFERENCED = _domain("KS-4092", 409, "still_referenced")
CONFLICT = _domain("KS-4093", 409, "conflict")
INVENTORY_STILL_KITTED = _domain("KS-4094", 409, "inventory_still_kitted")
# Kitting (contract 7).
KIT_STILL_HOLDS = _domain("KS-4098", 409, "kit_still_holds")
# Idempotency-Key misuse (contract 12.1).
IDEMPOTENCY_KEY_REUSED = _spec(
    "KS-4095", 409, "Idempotency-Key {KEY} was already used for a different request"
)
IDEMPOTENCY_KEY_IN_FLIGHT = _spec(
    "KS-4096",
    409,
    "A request with Idempotency-Key {KEY} is still in progress; retry once it has answered",
)
IDEMPOTENCY_KEY_EXPIRED = _spec(
    "KS-4097",
    409,
    "Idempotency-Key {KEY} was first used at {DATE}, more than 48 hours ago: send a new key",
)

# 412 / 428: optimistic concurrency.
PRECONDITION_FAILED = _spec(
    "KS-4121", 412, "If-Match {GIVEN} does not match the current version {CURRENT}"
)
# Over HTTP the version a client read is the If-Match header it sent: the API's own message.
DOMAIN_CODES["stale"] = PRECONDITION_FAILED
PRECONDITION_REQUIRED = _spec(
    "KS-4281",
    428,
    "{OBJECT} can only be changed with an If-Match header carrying its current ETag",
)

# 422: business rules. The top-level error carries one detail per violated rule.
OPERATION_FAILED = _spec("KS-4220", 422, "The operation could not be completed")
REQUIRED = _domain("KS-4221", 422, "required")
INVALID_VALUE = _domain("KS-4222", 422, "invalid_value")
IMMUTABLE = _domain("KS-4223", 422, "immutable")
REFERENCE_NOT_FOUND = _domain("KS-4224", 422, "reference_not_found")
REFERENCE_MISMATCH = _spec("KS-4225", 422, "{FIELD}: key {KEY} and id {ID} name different objects")
NOT_A_KIT = _domain("KS-4226", 422, "not_a_kit")
COMPONENT_TYPE_NOT_ALLOWED = _domain("KS-4227", 422, "component_type_not_allowed")
KIT_CYCLE = _domain("KS-4228", 422, "kit_cycle")
DUPLICATE_COMPONENT = _domain("KS-4229", 422, "duplicate_component")
TRACKING_NOT_ALLOWED = _domain("KS-4230", 422, "tracking_not_allowed")
KITS_ONLY = _domain("KS-4231", 422, "kits_only")
CONSTRAINT_VIOLATED = _domain("KS-4232", 422, "constraint_violated")
LINE_NUMBER_OUT_OF_RANGE = _domain("KS-4233", 422, "line_number_out_of_range")
# Part inventory (contract 6).
PART_NOT_STOCKED = _domain("KS-4240", 422, "part_not_stocked")
TRACKING_MISMATCH = _domain("KS-4241", 422, "tracking_mismatch")
# Kitting (contract 7).
ISSUE_EXCEEDS_ON_HAND = _domain("KS-4250", 422, "issue_exceeds_on_hand")
MOVE_EXCEEDS_ISSUED = _domain("KS-4251", 422, "move_exceeds_issued")
NOT_IN_KIT = _domain("KS-4252", 422, "not_in_kit")
KIT_CLOSED = _domain("KS-4253", 422, "kit_closed")
KIT_STATUS_FINAL = _domain("KS-4254", 422, "kit_status_final")
RUN_CLOSED = _domain("KS-4255", 422, "run_closed")
RUN_HAS_NO_PART = _domain("KS-4256", 422, "run_has_no_part")
RUN_PART_NOT_STOCKED = _domain("KS-4257", 422, "run_part_not_stocked")
SERIAL_MOVES_ONE = _domain("KS-4258", 422, "serial_moves_one")
RUN_COMPLETED_BY_WORKFLOW = _domain(
    "KS-4259",
    422,
    "run_completed_by_workflow",
    "A run becomes complete only through POST /workflows/inventory-control/run/complete, "
    "which builds its outputs",
)
SERIAL_NUMBERS_COUNT = _domain("KS-4260", 422, "serial_numbers_count")
# Planning (contract 15).
REQUIREMENT_SHORT = _domain("KS-4265", 422, "requirement_short")
TRACKING_IN_USE = _domain("KS-4234", 422, "tracking_in_use")
# Stock operations (contract 15.4, 15.5).
SCRAP_EXCEEDS_ON_HAND = _domain("KS-4273", 422, "scrap_exceeds_on_hand")
SPLIT_TAKES_ALL = _domain("KS-4274", 422, "split_takes_all")
SPLIT_SERIAL = _domain("KS-4275", 422, "split_serial")

# A composite item or batch element that did not run, or whose writes were rolled back.
UNPROCESSED = _spec("KS-4270", 422, "This item was skipped: {REASON}", code="unprocessed")

# 429 / 500 / 503.
THROTTLED = _spec("KS-4291", 429, "Too many requests: retry in {SECONDS} seconds")
INTERNAL_ERROR = _spec(
    "KS-5001", 500, "An unexpected error occurred; quote the supportId when reporting it"
)
DATABASE_UNAVAILABLE = _spec(
    "KS-5031", 503, "The database connection was lost: retry in {SECONDS} seconds"
)
CACHE_UNAVAILABLE = _spec(
    "KS-5035", 503, "The shared cache is unavailable: retry in {SECONDS} seconds"
)
STATEMENT_CANCELED = _spec(
    "KS-5032",
    503,
    "A database statement was canceled: it ran too long or was stopped; "
    "nothing was changed: retry in {SECONDS} seconds",
)
NOT_READY = _spec("KS-5034", 503, "Not ready: the {COMPONENTS} did not answer")

# The reverse proxy's own refusals, before the request reaches the application
# (docker/nginx/errors.conf is generated from these: `manage.py proxy_errors --write`).
PROXY_BODY_TOO_LARGE = _spec("KS-4131", 413, "The request body is larger than {MAX}")
PROXY_LINE_TOO_LONG = _spec("KS-4141", 414, "The request line is longer than {MAX}")
PROXY_HEADERS_TOO_LARGE = _spec(
    "KS-4311", 431, "The request headers are too large: at most {MAX} a line, {TOTAL} in all"
)
PROXY_NO_UPSTREAM = _spec(
    "KS-5021", 502, "The application did not answer: retry in {SECONDS} seconds"
)
PROXY_TRANSFER_CODING = _spec(
    "KS-5011", 501, "The Transfer-Encoding is not supported: send chunked or a Content-Length"
)
PROXY_HTTP_VERSION = _spec(
    "KS-5051", 505, "The HTTP version is not supported: send HTTP/1.0 or HTTP/1.1"
)
PROXY_UPSTREAM_TIMEOUT = _spec("KS-5041", 504, "The application did not answer in time")

for _name, _entry in list(globals().items()):
    if isinstance(_entry, ErrorSpec) and not _entry.message_id:
        _entry.message_id = f"KS.{_name}"
del _name, _entry


@dataclass
class ApiError(Exception):
    """An answer in the `ia::error` shape, raised by the protocol layer (services raise
    DomainErrors, which config.api.exceptions maps to these); the exception handler renders it.

    `details` are ApiErrors too (one per violated rule or unknown field); `target` names the field.
    """

    spec: ErrorSpec
    target: str | None = None
    placeholders: dict[str, Any] = field(default_factory=dict)
    details: list[ApiError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)
        # An answer that tells the client when to retry tells it in Retry-After too.
        if "SECONDS" in self.placeholders:
            self.headers.setdefault("Retry-After", str(self.placeholders["SECONDS"]))

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


def not_a_field(pointer: str) -> ApiError:
    """REST-1043 for a member or field the request names and the API does not know."""
    return error(NOT_A_VALID_FIELD, pointer, FIELD=pointer)


def unknown_members(pointers: Iterable[str]) -> ApiError:
    """REST-1064 with a REST-1043 detail for each member of a payload it may not carry."""
    return ApiError(PAYLOAD_ERRORS, details=[not_a_field(pointer) for pointer in pointers])


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
