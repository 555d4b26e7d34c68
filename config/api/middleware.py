"""JSON error bodies outside DRF views (the client's address and request ids are ops's:
ops.middleware)."""

import logging

from django.http import HttpRequest, HttpResponse

from config.api import errors
from config.api.exceptions import to_api_error
from config.api.parsers import refuse_undecodable_query
from config.api.responses import error_response

logger = logging.getLogger("kitsmith.request")


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
