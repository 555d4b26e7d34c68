"""One access line per request, and the time its statements took."""

import logging
import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from ops.metrics import StatementTimer, observe_request

logger = logging.getLogger("kitsmith.request")


class AccessLogMiddleware:
    """Logs each request once, after it was answered: method, path, route (the view's name, not
    the path), status, duration, user, OAuth2 client and client address (REMOTE_ADDR as
    ClientAddressMiddleware resolved it from TRUSTED_PROXIES). Inside RequestIdMiddleware, so
    the line carries the request id. Gunicorn's own access log stays off: this line is the one."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.timer = StatementTimer(connection.alias, connection.vendor)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with connection.execute_wrapper(self.timer):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = match.view_name if match else None
        observe_request(route, request.method, response.status_code, elapsed)
        # The level first: LOG_LEVEL=WARNING still logs a 5xx (ERROR) line.
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if logger.isEnabledFor(level):
            duration_ms = round(elapsed * 1000, 1)
            user, client = caller(request)
            logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user": user,
                    "client": client,
                    "address": request.META.get("REMOTE_ADDR"),
                },
            )
        return response


def caller(request: HttpRequest) -> tuple[str | None, str | None]:
    """The user's name and the OAuth2 client id the request was authenticated as, without a
    statement of its own: a user the request never looked up (AuthenticationMiddleware's lazy
    one, its session unread, as on /healthz) is not looked up for the log."""
    user = getattr(request, "user", None)
    if user is None or (type(user) is SimpleLazyObject and not request.session.accessed):
        return None, None
    if not user.is_authenticated:
        return None, None
    application = getattr(getattr(request, "auth", None), "application", None)
    return user.get_username(), application.client_id if application is not None else None
