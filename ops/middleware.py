"""The client's address behind trusted proxies, request ids on every response and in every log
line, one access line per request and the time its statements took."""

import functools
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from ops import logs
from ops.metrics import StatementTimer, observe_request

logger = logging.getLogger("kitsmith.request")

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._~-]{8,128}$")


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(proxies: tuple[str, ...]) -> tuple[_Network, ...]:
    try:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; proxies are listed as IPv4.
    return getattr(address, "ipv4_mapped", None) or address


class ClientAddressMiddleware:
    """First of all: REMOTE_ADDR becomes the client's address, for the throttles, the logs and the
    metrics' CIDR check alike. X-Forwarded-For is believed only from a peer in TRUSTED_PROXIES,
    and only as far as it was written by trusted proxies: each appends the address it received
    from, so the right-most address that is not a trusted proxy is the client (what is left of it
    anyone could have written)."""

    def __init__(self, get_response):
        self.get_response = get_response
        trusted_networks(tuple(settings.TRUSTED_PROXIES))  # a wrong value fails at start

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        if forwarded and settings.TRUSTED_PROXIES:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""),
                forwarded,
                trusted_networks(tuple(settings.TRUSTED_PROXIES)),
            )
        return self.get_response(request)


def client_address(peer: str, forwarded: str, trusted: tuple[_Network, ...]) -> str:
    """The client's address: `peer` unless it is a trusted proxy, else the right-most address
    of X-Forwarded-For that is not one (or the left-most, when every hop is trusted)."""
    client = peer
    for hop in [peer, *reversed(forwarded.split(","))]:
        address = _address(hop)
        if address is None:
            # Not an address: no trusted proxy wrote it; the last address believed stands.
            break
        if hop is not peer:
            client = str(address)
        if not any(address in network for network in trusted):
            break
    return client


class RequestIdMiddleware:
    """Takes a well-formed incoming X-Request-Id (a proxy's) or makes one, and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = logs.request_id.set(request_id)
        try:
            # The access line (AccessLogMiddleware) is written inside this one: it carries the id.
            response = self.get_response(request)
            response["X-Request-Id"] = request_id
        finally:
            logs.request_id.reset(token)
        return response


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
