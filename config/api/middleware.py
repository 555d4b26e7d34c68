"""Request ids on every response and in every log line, and JSON error bodies outside DRF views."""

import contextvars
import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from config.api import errors
from config.api.exceptions import to_api_error
from config.api.parsers import refuse_undecodable_query
from config.api.responses import error_response

logger = logging.getLogger("kitsmith.request")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._~-]{8,128}$")


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Takes a well-formed incoming X-Request-Id (a proxy's) or makes one, and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-Id"] = request_id
            if logger.isEnabledFor(logging.INFO):
                logger.log(
                    logging.ERROR if response.status_code >= 500 else logging.INFO,
                    "%s %s %s %.1fms",
                    request.method,
                    request.path,
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                )
        finally:
            _request_id.reset(token)
        return response


class ErrorBodyMiddleware:
    """Last line: an exception escaping any non-DRF view (admin, OAuth) still gets an ia::error;
    and a query string that is not UTF-8 text is refused before any view reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refuse_undecodable_query(request)
        except errors.ApiError as err:
            return error_response(request, err)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception)


def exception_response(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The answer to an exception no view answered (also a composite's sub-request's)."""
    # The same mapping as in DRF views: a 404, 403 or 400 stays one; the rest is a 500.
    err = to_api_error(exception, request)
    if err.status >= 500:
        logger.error(
            "Unhandled exception on %s %s", request.method, request.path, exc_info=exception
        )
    return error_response(request, err)
