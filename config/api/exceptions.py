"""Turns every exception raised in an API view into the ia::error body of contract section 10."""

import logging
import math
from typing import Any

import redis
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import (
    DataError,
    IntegrityError,
    models,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config.api import errors, identity, spec
from core.errors import (
    DatabaseFault,
    DomainError,
    DomainErrors,
    FieldNamer,
    database_fault,
    verbose_name,
)
from core.errors import integrity_error as core_integrity_error
from core.versions import etag

# Seconds a client waits before retrying after a lost database connection or a canceled statement.
RETRY_UNAVAILABLE = 1

logger = logging.getLogger("kitsmith.api")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    err = to_api_error(exc, request, context.get("view"))
    if err.status >= 500:
        logger.error("Unhandled exception", exc_info=exc)
    body = errors.error_body(err, getattr(request, "request_id", None))
    return Response(body, status=err.status, headers=err.headers)


def to_api_error(exc: Exception, request: Any = None, view: Any = None) -> errors.ApiError:
    path = request.path if request is not None else ""
    method = request.method if request is not None else ""
    if isinstance(exc, errors.ApiError):
        return exc
    if isinstance(exc, DomainError | DomainErrors):
        if_match = request.headers.get("If-Match") if request is not None else None
        return domain_error(exc, input_serializer(view), if_match=if_match)
    if isinstance(exc, drf.ValidationError):
        return validation_error(exc.detail)
    if isinstance(exc, drf.UnsupportedMediaType):
        # The media type alone: parameters (a multipart boundary) only clutter the message.
        content_type = request.content_type.split(";")[0].strip() if request is not None else ""
        return errors.error(errors.UNSUPPORTED_MEDIA_TYPE, TYPE=content_type or "(none)")
    if isinstance(exc, drf.ParseError):
        return errors.error(errors.MALFORMED_JSON, REASON=str(exc.detail))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        spec = errors.NOT_AUTHENTICATED
        if isinstance(exc, drf.AuthenticationFailed):
            spec = errors.BAD_CREDENTIALS
        err = errors.error(spec)
        # DRF puts the challenge of the view's first authenticator here (RFC 9110: a 401 has one).
        if getattr(exc, "auth_header", None):
            err.headers["WWW-Authenticate"] = exc.auth_header
        return err
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return errors.error(errors.FORBIDDEN)
    if isinstance(exc, drf.NotFound | Http404):
        return errors.error(errors.ROUTE_NOT_FOUND, PATH=path)
    if isinstance(exc, drf.MethodNotAllowed):
        return errors.error(errors.METHOD_NOT_ALLOWED, METHOD=method, PATH=path)
    if isinstance(exc, drf.Throttled):
        return errors.error(errors.THROTTLED, SECONDS=math.ceil(exc.wait or 1))
    if isinstance(exc, RequestDataTooBig):
        return errors.error(errors.BAD_REQUEST, REASON="the body is too large")
    if isinstance(exc, MultiPartParserError):
        # Django's handler would make it a bare 400 (a boundary missing or malformed).
        return errors.error(errors.BAD_REQUEST, REASON="the body is not valid multipart/form-data")
    if isinstance(exc, SuspiciousOperation | BadRequest):
        # Django answers these with 400 (too many fields, a bad multipart body, a form charset
        # other than UTF-8...), so do we.
        return errors.error(errors.BAD_REQUEST, REASON="the request is invalid")
    if isinstance(exc, IntegrityError):
        # Services check every rule first; a constraint tripping here means a concurrent writer
        # got there between our check and our write. Say so instead of crashing.
        return integrity_error(exc)
    fault = database_fault(exc)
    if fault == DatabaseFault.CONTENTION:
        # Between concurrent writers: nothing was written; retry.
        err = errors.error(
            errors.CONFLICT, REASON="a concurrent request was changing the same rows; retry"
        )
        err.headers["Retry-After"] = "1"
        return err
    if fault == DatabaseFault.CANCELED:
        # STATEMENT_TIMEOUT_MS cut a statement: the service is slow, not broken.
        return errors.error(errors.STATEMENT_CANCELED, SECONDS=RETRY_UNAVAILABLE)
    if fault == DatabaseFault.CONNECTION_LOST:
        # A database restart, a failover, an administrator's terminate: an open transaction died
        # with it; a retry is safe (an Idempotency-Key makes a retried write once). Django
        # closes the broken connection at the end of the request.
        return errors.error(errors.DATABASE_UNAVAILABLE, SECONDS=RETRY_UNAVAILABLE)
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        # REDIS_URL's server is down or slow: the throttles cannot count, and a limit nobody
        # counts is none, so the request is refused (fail closed), not let through.
        return errors.error(errors.CACHE_UNAVAILABLE, SECONDS=RETRY_UNAVAILABLE)
    if isinstance(exc, DataError):
        # A value the database cannot store (out of range, NUL in text) that no check caught.
        return errors.error(errors.BAD_REQUEST, REASON="a value is out of range or not storable")
    if isinstance(exc, drf.APIException):
        return errors.error(errors.BAD_REQUEST, REASON=str(exc.detail))
    return errors.error(errors.INTERNAL_ERROR)


def input_serializer(view: Any) -> type | None:
    """The serializer whose members a request names: a workflow's input, else the object's."""
    if view is None:
        return None
    found = getattr(view, "input_serializer", None)
    if found is None and hasattr(view, "get_serializer_class"):
        found = view.get_serializer_class()
    return found


def domain_error(
    exc: DomainError | DomainErrors,
    serializer_class: type | None,
    *,
    if_match: str | None = None,
    field_name: FieldNamer | None = None,
) -> errors.ApiError:
    """A service's refusal in the catalogue's terms: its code picks the entry, its model field
    becomes the member of `serializer_class` that renders it (or what `field_name` calls it: the
    GraphQL input's name). Rules broken (422) answer as one operationFailed with a detail each;
    anything else (404, 409, 412) answers alone."""
    details = [
        _detail(err, field_name or _member_namer(serializer_class, err), if_match)
        for err in exc.errors
    ]
    if isinstance(exc, DomainError) and details[0].status != 422:
        return details[0]
    return errors.rule_violations(details)


def _member_namer(serializer_class: type | None, err: DomainError) -> FieldNamer:
    """A field by the member of the request's serializer that renders it; a field the request
    does not carry (a duplicate's, of the object it clashes with) by the member of the object the
    error names; else by its model name: the spec alone names members."""
    readers = [serializer_class, _declared_serializer(err.params.get("OBJECT"))]
    specs = [spec.describe(reader) for reader in readers if reader is not None]

    def name(field: str) -> str:
        return next((s.model_to_api[field] for s in specs if field in s.model_to_api), field)

    return name


def _declared_serializer(model: Any) -> type | None:
    """The serializer of the declared object over `model` (None: not a declared object's model)."""
    if not (isinstance(model, type) and issubclass(model, models.Model)):
        return None
    if not identity.is_object(model):
        return None
    declared = spec.get(identity.object_name(model))
    return declared.serializer_class if declared is not None else None


def _detail(err: DomainError, name: FieldNamer, if_match: str | None):
    target = name(err.field) if err.field is not None else None
    placeholders = err.placeholders(name, _api_object)
    if err.code == "stale":
        placeholders = {"GIVEN": if_match or "", "CURRENT": etag(err.params["CURRENT"])}
    return errors.ApiError(errors.DOMAIN_CODES[err.code], target=target, placeholders=placeholders)


def _api_object(model: type) -> str:
    return identity.object_name(model) if identity.is_object(model) else verbose_name(model)


def integrity_error(exc: IntegrityError) -> errors.ApiError:
    return domain_error(core_integrity_error(exc), None)


_DRF_CODES = {
    "required": errors.REQUIRED,
    "null": errors.REQUIRED,
    "blank": errors.REQUIRED,
}


def validation_error(detail: Any) -> errors.ApiError:
    """A serializer's field errors become one 422 with a detail per field, target = field path."""
    violations: list[errors.ApiError] = []
    _collect(detail, "", violations)
    return errors.rule_violations(violations)


def _collect(detail: Any, prefix: str, out: list[errors.ApiError]) -> None:
    if isinstance(detail, errors.ApiError):
        out.extend(detail.details or [detail])
    elif isinstance(detail, dict):
        for name, value in detail.items():
            path = prefix if name == "non_field_errors" else _join(prefix, str(name))
            _collect(value, path, out)
    elif isinstance(detail, list):
        for item in detail:
            _collect(item, prefix, out)
    else:
        code = getattr(detail, "code", "invalid")
        field = prefix or "payload"
        spec = _DRF_CODES.get(code)
        if spec is not None:
            out.append(errors.error(spec, field, FIELD=field))
        else:
            out.append(errors.error(errors.INVALID_VALUE, field, FIELD=field, REASON=str(detail)))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
