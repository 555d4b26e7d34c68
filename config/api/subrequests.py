"""`POST /services/core/composite` (contract 13.2): 2 to 10 requests in one, each run exactly as if
it had been sent alone.

A sub-request becomes a real Django request (its method, path, query string, JSON body and own
headers, with the outer request's credentials and request id), which goes to the very view the
URLconf routes its path to: DRF's authentication, permissions, throttle, parsing and exception
handling and everything in the view (If-Match, Idempotency-Key, the services) run as for a single
request, and the item is the answer that request would have had. Nothing here re-states a rule
of theirs. The whole body is checked first (shape, methods, paths, headers, names, references):
anything wrong is a 400 and nothing runs.
"""

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.urls import resolve
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import batch, errors, schema
from config.api.middleware import exception_response
from config.api.parsers import refuse_undecodable_query
from config.api.protocol import VERSION_PREFIX, request_body

logger = logging.getLogger("kitsmith.request")

METHODS = ("GET", "POST", "PATCH", "DELETE")
MEMBERS = ("method", "path", "body", "headers", "resultReference")
MIN_ITEMS, MAX_ITEMS = 2, 10
# Where a sub-request may go (the composite itself is not among them), with or without the prefix.
ROUTABLE = re.compile(
    rf"(?:{re.escape(VERSION_PREFIX)})?/(?:(?:objects|workflows)/.+|services/core/(?:query|model)/?)"
)
PLACES = "/objects/…, /workflows/…, /services/core/query or /services/core/model"
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
REFERENCE = re.compile(r"@\{([^{}]*)\}")
# An HTTP token without "_", which WSGI could not tell from "-" (servers drop such headers).
HEADER_NAME = re.compile(r"[!#$%&'*+.^`|~0-9A-Za-z-]+")
# Framing comes from the outer request; so does every header in CARRIED (credentials, origin,
# the proxy's): a sub-request cannot name its own.
FRAMING = {"content-type", "content-length", "x-request-id"}
# What a sub-request carries over from the outer request besides the server's own variables:
# the credentials, the CSRF token and the origin it is checked against, and the proxy's headers.
CARRIED = {
    "HTTP_HOST",
    "HTTP_AUTHORIZATION",
    "HTTP_COOKIE",
    "HTTP_ORIGIN",
    "HTTP_REFERER",
    "HTTP_USER_AGENT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
}
PER_REQUEST = {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH"}
PER_REQUEST |= {"RAW_URI", "REQUEST_URI", "wsgi.input"}


@dataclass(frozen=True)
class SubRequest:
    position: int
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    name: str | None = None

    @property
    def pointer(self) -> str:
        return f"/{self.position}"


# --- the shape, checked whole before anything runs ---------------------------------------------


def parse(body: Any) -> list[SubRequest]:
    body = batch.array(body, MIN_ITEMS, MAX_ITEMS, "sub-requests", "composite request")
    problems: list[errors.ApiError] = []
    defined: set[str] = set()
    parsed = []
    for position, item in enumerate(body):
        found = _parse_item(position, item, defined, problems)
        if found is not None:
            parsed.append(found)
        name = item.get("resultReference") if isinstance(item, dict) else None
        if isinstance(name, str) and NAME.fullmatch(name):
            defined.add(name)  # also after a problem: later references to it are not wrong
    if problems:
        raise errors.ApiError(errors.PAYLOAD_ERRORS, details=problems)
    return parsed


def _parse_item(position, item, defined, problems) -> SubRequest | None:
    at = f"/{position}"
    before = len(problems)
    if not isinstance(item, dict):
        problems.append(batch.problem(at, "must be a JSON object"))
        return None
    for member in item:
        if member not in MEMBERS:
            pointer = f"{at}/{_escape(member)}"
            problems.append(errors.not_a_field(pointer))
    method, path = item.get("method"), item.get("path")
    if method not in METHODS:
        problems.append(batch.problem(f"{at}/method", f"must be one of {', '.join(METHODS)}"))
    if not isinstance(path, str) or not ROUTABLE.fullmatch(path.partition("?")[0]):
        problems.append(batch.problem(f"{at}/path", f"must be a path to {PLACES}"))
    headers = item.get("headers", {})
    if not isinstance(headers, dict):
        problems.append(batch.problem(f"{at}/headers", "must be an object of header values"))
        headers = {}
    for header, value in headers.items():
        problem = _header_problem(header, value)
        if problem:
            problems.append(batch.problem(f"{at}/headers/{_escape(header)}", problem))
    name = item.get("resultReference")
    if name is not None:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            reason = "must be 1 to 64 letters, digits, _ or -"
            problems.append(batch.problem(f"{at}/resultReference", reason))
        elif name in defined:
            reason = f"{name} already names an earlier result"
            problems.append(batch.problem(f"{at}/resultReference", reason))
    for pointer, text in _strings(item, at):
        for match in REFERENCE.finditer(text):
            reason = _reference_problem(match.group(1), defined)
            if reason:
                problems.append(batch.problem(pointer, f"{match.group(0)} {reason}"))
    if len(problems) > before:
        return None
    return SubRequest(position, method, path, dict(headers), item.get("body"), "body" in item, name)


def _header_problem(header: str, value: Any) -> str | None:
    if not HEADER_NAME.fullmatch(header):
        return "is not a header name"
    if header.lower() in FRAMING or _wsgi_name(header) in _carried():
        return "comes from the composite request itself"
    if not isinstance(value, str) or not value.isprintable() or not value.isascii():
        return "must be a string of printable ASCII characters"
    return None


def _wsgi_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _carried() -> set[str]:
    """The outer request's headers every sub-request carries (WSGI names): CARRIED, the CSRF
    token's and the proxy's TLS header."""
    carried = CARRIED | {settings.CSRF_HEADER_NAME}
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        carried.add(proxy[0])
    return carried


def _reference_problem(text: str, defined: set[str]) -> str | None:
    name, *path = text.split(".")
    if not NAME.fullmatch(name) or not all(path):
        return "is not a reference of the form @{name.member.…}"
    if name not in defined:
        return f"names no earlier resultReference ({name})"
    return None


def _strings(item: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    """Every string of a sub-request that may hold references, with its JSON pointer: the path,
    the header values and the strings anywhere in the body."""
    if isinstance(item.get("path"), str):
        yield f"{at}/path", item["path"]
    headers = item.get("headers")
    if isinstance(headers, dict):
        for header, value in headers.items():
            if isinstance(value, str):
                yield f"{at}/headers/{_escape(header)}", value
    stack = [(f"{at}/body", item.get("body"))]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            yield pointer, value
        elif isinstance(value, dict):
            stack.extend((f"{pointer}/{_escape(k)}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))


def _escape(name: str) -> str:
    """A member name in a JSON pointer (RFC 6901)."""
    return str(name).replace("~", "~0").replace("/", "~1")


# --- references --------------------------------------------------------------------------------

_NO_BODY = object()


def resolved(sub: SubRequest, results: dict[str, Any]) -> SubRequest:
    """The sub-request with its references replaced by what earlier results hold: a string that
    is one reference takes the value with its JSON type, a reference inside a longer string (and
    any in the path or a header) its text. 400 for this sub-request where one does not resolve."""
    at = sub.pointer

    def text_of(pointer: str, text: str, *, in_path: bool = False) -> str:
        def replace(match: re.Match) -> str:
            value = _value(match, pointer, results)
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = json.dumps(value)
            elif not isinstance(value, str):
                raise _unresolved(match, pointer, "it is not a text, a number or a boolean")
            return quote(value, safe="") if in_path else value

        return REFERENCE.sub(replace, text)

    def body_of(pointer: str, value: Any) -> Any:
        if isinstance(value, str):
            whole = REFERENCE.fullmatch(value)
            return _value(whole, pointer, results) if whole else text_of(pointer, value)
        if isinstance(value, dict):
            return {k: body_of(f"{pointer}/{_escape(k)}", v) for k, v in value.items()}
        if isinstance(value, list):
            return [body_of(f"{pointer}/{i}", v) for i, v in enumerate(value)]
        return value

    return SubRequest(
        sub.position,
        sub.method,
        text_of(f"{at}/path", sub.path, in_path=True),
        {h: text_of(f"{at}/headers/{_escape(h)}", v) for h, v in sub.headers.items()},
        body_of(f"{at}/body", sub.body),
        sub.has_body,
        sub.name,
    )


def _value(match: re.Match, pointer: str, results: dict[str, Any]) -> Any:
    name, *path = match.group(1).split(".")
    value = results.get(name, _NO_BODY)
    if value is _NO_BODY:
        raise _unresolved(match, pointer, f"the answer to {name} has no ia::result")
    for member in path:
        if isinstance(value, list):
            if not (member.isascii() and member.isdigit() and 1 <= int(member) <= len(value)):
                raise _unresolved(match, pointer, f"{member} is not a position 1 to {len(value)}")
            value = value[int(member) - 1]
        elif isinstance(value, dict) and member in value:
            value = value[member]
        else:
            raise _unresolved(match, pointer, f"there is no {member} there")
    return value


def _unresolved(match: re.Match, pointer: str, reason: str) -> errors.ApiError:
    return errors.error(
        errors.REFERENCE_UNRESOLVED, pointer, REFERENCE=match.group(0), REASON=reason
    )


# --- running them ------------------------------------------------------------------------------


def run(outer: Request, subrequests: list[SubRequest], *, atomic: bool) -> list[batch.Outcome]:
    """In order, stopping at the first failure; all in one transaction when `atomic`."""
    support_id = getattr(outer, "request_id", None)
    results: dict[str, Any] = {}

    def run_one(sub: SubRequest) -> batch.Outcome:
        try:
            ready = resolved(sub, results)
        except errors.ApiError as err:
            return batch.refused(err, support_id)
        with batch.item_transaction(sub.method != "GET"):
            response = dispatch(outer, ready)
        outcome = _outcome(response)
        if sub.name is not None:
            results[sub.name] = _NO_BODY if outcome.result is None else outcome.result
        return outcome

    return batch.run_in_order(
        subrequests,
        run_one,
        atomic=atomic,
        stop_at_failure=True,
        writes=any(sub.method != "GET" for sub in subrequests),
        support_id=support_id,
    )


def dispatch(outer: Request, sub: SubRequest) -> HttpResponse:
    """The sub-request as a real request to the view its path routes to."""
    request = _request(outer, sub)
    try:
        refuse_undecodable_query(request)  # the middleware's check of a single request
        match = resolve(request.path_info)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
    except Exception as exc:  # what the error middleware answers for a single request
        response = exception_response(request, exc)
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "composite %s: %s %s %s", sub.pointer, sub.method, sub.path, response.status_code
        )
    return response


def _request(outer: Request, sub: SubRequest) -> WSGIRequest:
    raw_path, _, query = sub.path.partition("?")
    data = json.dumps(sub.body).encode() if sub.has_body else b""
    carried = _carried()
    environ = {
        name: value
        for name, value in outer.META.items()
        if name not in PER_REQUEST and (not name.startswith("HTTP_") or name in carried)
    }
    environ.update(
        {
            "REQUEST_METHOD": sub.method,
            # As a WSGI server hands the path on: percent-decoded, bytes as latin-1.
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            # Likewise raw: the text's UTF-8 bytes as latin-1 (surrogatepass: a lone surrogate
            # reaches refuse_undecodable_query as the bytes that are no UTF-8, not a crash).
            "QUERY_STRING": query.encode("utf-8", "surrogatepass").decode("latin-1"),
            "CONTENT_TYPE": "application/json" if sub.has_body else "",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
        }
    )
    for header, value in sub.headers.items():
        environ[_wsgi_name(header)] = value
    request = WSGIRequest(environ)
    # What the middleware put on the outer request for these same credentials and cookies.
    request.request_id = getattr(outer, "request_id", None)
    for attribute in ("session", "user"):
        if hasattr(outer, attribute):
            setattr(request, attribute, getattr(outer, attribute))
    return request


def _outcome(response: HttpResponse) -> batch.Outcome:
    """The answer as the client would have read it: the rendered JSON."""
    if isinstance(response, SimpleTemplateResponse):
        response.render()
    content = response.content
    body = json.loads(content) if content else None
    return batch.Outcome(response.status_code, body, response.headers.get("Retry-After"))


# --- the view ----------------------------------------------------------------------------------

_SUBREQUEST = {
    "type": "object",
    "properties": {
        "method": {"type": "string", "enum": list(METHODS)},
        "path": {"type": "string", "example": "/objects/inventory-control/item/@{item.key}"},
        "body": {"description": "The JSON body, as the single request takes it"},
        "headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "example": {"If-Match": '"1"', "Idempotency-Key": "create-kit-1"},
        },
        "resultReference": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    },
    "required": ["method", "path"],
    "additionalProperties": False,
}
_ITEM = {
    "type": "object",
    "description": "The single request's answer (ia::result and ia::meta) or its ia::error",
    "properties": {
        "ia::result": {},
        "ia::meta": {"type": "object"},
        "ia::error": schema.ERROR_OBJECT,
        "ia::status": {"type": "integer", "example": 201},
    },
    "required": ["ia::status"],
}
_ANSWER = schema.multi_envelope(_ITEM)
_EXAMPLE = [
    {
        "method": "POST",
        "path": "/objects/inventory-control/item",
        "body": {"id": "Kit_9", "name": "Kit 9", "itemType": "kit"},
        "resultReference": "kit",
    },
    {
        "method": "POST",
        "path": "/objects/inventory-control/kit-component",
        "body": {"kit": {"key": "@{kit.key}"}, "component": {"id": "Prnt_Ink"}, "numberOfUnits": 2},
    },
]


def _created(key: str, ident: str, name: str) -> dict:
    return {
        "ia::result": {"key": key, "id": ident, "href": f"/objects/inventory-control/{name}/{key}"},
        "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0},
        "ia::status": 201,
    }


# The answer on the demo data after the other examples (tests/test_schema_examples.py).
_EXAMPLE_ANSWER = {
    "ia::result": [_created("8", "Kit_9", "item"), _created("10", "10", "kit-component")],
    "ia::meta": {"totalCount": 2, "totalSuccess": 2, "totalError": 0},
}


class CompositeView(APIView):
    # Any signed-in user; each sub-request checks its own object's permissions.
    required_permissions: list[str] = []

    @extend_schema(
        operation_id="composite",
        summary="Run 2 to 10 requests in one",
        description=(
            "Each sub-request runs in order exactly as if sent alone, with this request's"
            " credentials and its own `headers` (`If-Match`, `Idempotency-Key`); `path` is under"
            " /objects, /workflows, /services/core/query or /services/core/model, with or without"
            " /ia/api/v1. `@{name.member.…}` in a later path, header or body string is replaced by"
            " that member of the `ia::result` of the sub-request whose `resultReference` is"
            " `name` (array positions count from 1): a string that is exactly one reference takes"
            " the value with its JSON type. The run stops at the first failure (later items are"
            " `unprocessed`, 422) and earlier writes stay; with `X-IA-API-Param-Transaction: true`"
            " everything is one transaction, rolled back at the first failure. A malformed body"
            " is 400 and nothing runs (details name the position: `/2/method`). The answer is 200"
            " when every item succeeded, else 207."
        ),
        tags=["services"],
        request={
            "application/json": {
                "type": "array",
                "minItems": MIN_ITEMS,
                "maxItems": MAX_ITEMS,
                "items": _SUBREQUEST,
            }
        },
        responses={
            200: OpenApiResponse(_ANSWER, description="Every sub-request succeeded"),
            207: OpenApiResponse(_ANSWER, description="One failed: its error, the rest skipped"),
        },
        examples=[
            OpenApiExample("Create a kit, then a line of it", value=_EXAMPLE, request_only=True),
            OpenApiExample(
                "Create a kit, then a line of it",
                value=_EXAMPLE_ANSWER,
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        subrequests = parse(request_body(request))
        outcomes = run(request, subrequests, atomic=batch.atomic_requested(request))
        code = 207 if any(outcome.failed for outcome in outcomes) else 200
        items = [batch.item(outcome, envelope=True) for outcome in outcomes]
        return batch.multi_status(items, outcomes, code)
