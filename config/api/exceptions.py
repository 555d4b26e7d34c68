"""Turns every exception raised in an API view into the ia::error body of contract section 10."""

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config.api import errors

logger = logging.getLogger("kitsmith.api")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    err = to_api_error(exc, request)
    if err.status >= 500:
        logger.error("Unhandled exception", exc_info=exc)
    support_id = getattr(request, "request_id", None) if request is not None else None
    response = Response(errors.error_body(err, support_id), status=err.status)
    for name, value in err.headers.items():
        response[name] = value
    return response


def to_api_error(exc: Exception, request: Any = None) -> errors.ApiError:
    path = request.path if request is not None else ""
    method = request.method if request is not None else ""
    if isinstance(exc, errors.ApiError):
        return exc
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
        wait = math.ceil(exc.wait or 1)
        err = errors.error(errors.THROTTLED, SECONDS=wait)
        err.headers["Retry-After"] = str(wait)
        return err
    if isinstance(exc, RequestDataTooBig):
        return errors.error(errors.BAD_REQUEST, REASON="the body is too large")
    if isinstance(exc, SuspiciousOperation):
        # Django answers these with 400 (too many fields, a bad multipart body...), so do we.
        return errors.error(errors.BAD_REQUEST, REASON="the request is invalid")
    if isinstance(exc, IntegrityError):
        # Services check every rule first; a constraint tripping here means a concurrent writer
        # got there between our check and our write. Say so instead of crashing.
        return integrity_error(exc)
    if isinstance(exc, OperationalError) and _is_contention(exc):
        # A deadlock or lock timeout between concurrent writers: nothing was written; retry.
        return errors.error(
            errors.CONFLICT, REASON="a concurrent request was changing the same rows; retry"
        )
    if isinstance(exc, DataError):
        # A value the database cannot store (out of range, NUL in text) that no check caught.
        return errors.error(errors.BAD_REQUEST, REASON="a value is out of range or not storable")
    if isinstance(exc, drf.APIException):
        return errors.error(errors.BAD_REQUEST, REASON=str(exc.detail))
    return errors.error(errors.INTERNAL_ERROR)


def _is_contention(exc: OperationalError) -> bool:
    # PostgreSQL: deadlock_detected, serialization_failure, lock_not_available; SQLite: locked.
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in {"40P01", "40001", "55P03"} or "database is locked" in str(exc)


def integrity_error(exc: IntegrityError) -> errors.ApiError:
    text = str(exc).lower()
    if "unique" in text or "duplicate" in text:
        return errors.error(errors.CONFLICT, REASON="a record with the same unique values exists")
    if "foreign key" in text:
        return errors.error(errors.CONFLICT, REASON="a referenced record changed meanwhile")
    return errors.rule_violations(
        [errors.error(errors.CONSTRAINT_VIOLATED, CONSTRAINT=_constraint_name(text))]
    )


def _constraint_name(text: str) -> str:
    # PostgreSQL: 'violates check constraint "name"'; SQLite: 'CHECK constraint failed: name'.
    if 'constraint "' in text:
        return text.split('constraint "', 1)[1].split('"', 1)[0]
    if "failed:" in text:
        return text.split("failed:", 1)[1].strip()
    return "a database constraint"


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
