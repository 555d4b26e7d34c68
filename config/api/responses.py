"""The success envelopes of contract section 1.2 and the error body of section 10, built once."""

import functools
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.api import errors

ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}


def one(result: Any) -> dict[str, Any]:
    """The body of a get, create, update or workflow answer."""
    return {"ia::result": result, "ia::meta": dict(ONE)}


def page(results: list[Any], *, total: int, start: int, size: int) -> dict[str, Any]:
    """The body of a list or query answer, with the page meta."""
    return {
        "ia::result": results,
        "ia::meta": {
            "totalCount": total,
            "start": start,
            "pageSize": size,
            "next": start + size if start + size <= total else None,
            "previous": max(1, start - size) if start > 1 else None,
        },
    }


def error_response(request: HttpRequest | None, err: errors.ApiError) -> JsonResponse:
    """An ia::error answer for code outside DRF (middleware, Django's handlers, OAuth views)."""
    body = errors.error_body(err, getattr(request, "request_id", None))
    return JsonResponse(body, status=err.status, headers=err.headers)


# Django's own error handlers (config.urls wires them), so no path ever answers with HTML.
def get_or_head_only(view):
    """A view answering GET and HEAD; anything else an ia::error 405. csrf_exempt: such a view
    changes nothing, so a POST is its 405, not a CSRF 403."""

    @functools.wraps(view)
    @csrf_exempt
    def only(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = error_response(
                request,
                errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path),
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return only


def handler400(request, exception=None):
    return error_response(
        request, errors.error(errors.BAD_REQUEST, REASON="the request is invalid")
    )


def handler403(request, exception=None):
    return error_response(request, errors.error(errors.FORBIDDEN))


def handler404(request, exception=None):
    return error_response(request, errors.error(errors.ROUTE_NOT_FOUND, PATH=request.path))


# The catch-all route: an unknown path is 404 for every method. CSRF protects views that act on
# a session's behalf; this one does nothing, so the CSRF check must not answer 403 before it.
unknown_route = csrf_exempt(handler404)


def handler500(request):
    return error_response(request, errors.error(errors.INTERNAL_ERROR))


def csrf_failure(request, reason=""):
    return error_response(request, errors.error(errors.FORBIDDEN))
