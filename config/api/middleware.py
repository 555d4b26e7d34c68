"""The client's address behind trusted proxies, request ids on every response and in every log
line, and JSON error bodies outside DRF views."""

import contextvars
import functools
import ipaddress
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from config.api import errors
from config.api.exceptions import to_api_error
from config.api.parsers import refuse_undecodable_query
from config.api.responses import error_response

logger = logging.getLogger("kitsmith.request")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
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
        try:
            # The access line is ops.middleware's, inside this one (it carries the id).
            response = self.get_response(request)
            response["X-Request-Id"] = request_id
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
