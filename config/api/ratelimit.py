"""Rate-limit windows counted in the shared cache, the headers that report them, and the token
endpoint's throttles (per address, and per client id from each address).

A window opens at a bucket's first request and admits `rate` requests until it closes. Both steps
are single atomic cache operations (`add`, `incr`: atomic in Redis and under the memory cache's
lock), so with REDIS_URL a limit of N per window admits at most N across every worker of every
server. DRF's own SimpleRateThrottle reads the list of request times, appends and writes it back:
processes racing each other overwrite each other's counts (one server admitted 211 at 60/min).

Every throttled answer reports the caller's bucket in the three headers of the IETF draft
(draft-ietf-httpapi-ratelimit-headers-06): `RateLimit-Limit` (requests per window),
`RateLimit-Remaining` (left in this window after this request) and `RateLimit-Reset` (seconds
until it closes); a 429 also carries `Retry-After`, the same number of seconds."""

import base64
import contextvars
import hashlib
import ipaddress
import math
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


@dataclass(frozen=True)
class Window:
    limit: int
    count: int  # requests counted in the window so far, this one included
    reset: int  # whole seconds until the window closes, at least 1

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def count_request(bucket: str, limit: int, duration: int, now: float) -> Window:
    """Counts one request in `bucket`'s current window (opening one if none is open)."""
    opened_key = f"{bucket}:opened"
    opened = cache.get(opened_key)
    if opened is None:
        # The key lives `duration` seconds: when the cache drops it the window is closed, and the
        # next request opens another. Of racing openers the first `add` wins; all read its time.
        cache.add(opened_key, now, duration)
        opened = cache.get(opened_key, now)
    # A counter per window: a request that read the closing window's time still counts in it.
    count_key = f"{bucket}:{opened!r}"
    try:
        count = cache.incr(count_key)
    except ValueError:  # the window's first count (incr needs the key)
        cache.add(count_key, 0, duration)
        count = cache.incr(count_key)
    if count == 1:
        # The window's first request makes sure its counter expires, even one that Redis' INCR
        # created itself after the key expired between the cache's existence check and it.
        cache.touch(count_key, duration)
    reset = max(1, min(duration, math.ceil(opened + duration - now)))
    return Window(limit=limit, count=count, reset=reset)


_window: contextvars.ContextVar[Window | None] = contextvars.ContextVar(
    "rate_limit_window", default=None
)


def _report(window: Window) -> None:
    """Keeps the window the response will report: of several in one request (the token
    endpoint's two buckets, a composite's sub-requests), the one with the fewest left."""
    kept = _window.get()
    if kept is None or (window.remaining, -window.reset) <= (kept.remaining, -kept.reset):
        _window.set(window)


class _CurrentRates:
    """DRF binds THROTTLE_RATES to the class at import; this reads the settings on every access
    (class or instance), so changed settings (tests, reloads) apply to the next request."""

    def __get__(self, instance, owner):
        return api_settings.DEFAULT_THROTTLE_RATES


class WindowThrottle(SimpleRateThrottle):
    """A DRF throttle counting in atomic windows (see the module); subclasses name the bucket."""

    THROTTLE_RATES = _CurrentRates()
    # Whether the response's RateLimit headers may show this bucket (see TokenClientThrottle).
    reported = True

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.window = count_request(self.key, self.num_requests, self.duration, self.timer())
        if self.reported:
            _report(self.window)
        return self.window.allowed

    def wait(self) -> float:
        """Seconds until the window closes (the Retry-After)."""
        return self.window.reset

    def get_ident(self, request) -> str:
        # The client's address as config.api.middleware.ClientAddressMiddleware decided it
        # (X-Forwarded-For only from TRUSTED_PROXIES). DRF's own reads X-Forwarded-For from
        # anyone, so a client could pick its own bucket. An IPv6 address counts as its /64: one
        # subscriber is usually given a whole /64, and would otherwise have 2**64 buckets.
        address = request.META.get("REMOTE_ADDR", "")
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return address
        if parsed.version == 6:
            return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        return address


class _TokenThrottle(WindowThrottle):
    """The token endpoint is no DRF view: its rates are settings of their own."""

    rate_setting = ""

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)


class TokenAddressThrottle(_TokenThrottle):
    """Token requests per caller address (THROTTLE_RATE_TOKEN_ADDRESS)."""

    scope = "token_address"
    rate_setting = "THROTTLE_RATE_TOKEN_ADDRESS"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenClientThrottle(_TokenThrottle):
    """Token requests per client id from one address, known or not (THROTTLE_RATE_TOKEN_CLIENT).
    Per address too: counted from anywhere, a flood naming an id would lock its real
    integration out; the address's own limit still bounds what one address tries."""

    scope = "token_client"
    rate_setting = "THROTTLE_RATE_TOKEN_CLIENT"
    # The headers show the address's window only: a client id's count would tell a caller which
    # ids are in use. A refusal by this bucket still answers 429 with its Retry-After.
    reported = False

    def __init__(self, client_id: str):
        super().__init__()
        self.client_id = client_id

    def get_cache_key(self, request, view):
        # Any text a caller sends: hashed, the key stays short and safe for every cache.
        client_id = hashlib.sha256(self.client_id.encode("utf-8", "surrogatepass")).hexdigest()
        ident = f"{client_id}:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def token_client_ids(request: HttpRequest) -> list[str]:
    """The client ids a token request names: by HTTP Basic (RFC 6749 2.3.1: form-encoded, then
    base64, decoded as DOT does) and as the form field; DOT tries the one, then the other."""
    named = []
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            decoded = ""
        named.append(unquote_plus(decoded.partition(":")[0]))
    named.append(request.POST.get("client_id", ""))
    return [client_id for client_id in dict.fromkeys(named) if client_id]


def refused_token_request(request: HttpRequest) -> WindowThrottle | None:
    """The throttle refusing this token request, if one does: its address's, else a client id's.
    Checked before any client lookup or secret hashing, so a refused flood costs little."""
    throttles = [TokenAddressThrottle()]
    throttles += [TokenClientThrottle(client_id) for client_id in token_client_ids(request)]
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            return throttle
    return None


class RateLimitHeadersMiddleware:
    """Adds the RateLimit headers of the request's window to its response (every window counted
    while it ran; throttles run inside views, the headers go on whatever answers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _window.set(None)
        try:
            response = self.get_response(request)
            window = _window.get()
        finally:
            _window.reset(token)
        if window is not None:
            response["RateLimit-Limit"] = str(window.limit)
            response["RateLimit-Remaining"] = str(window.remaining)
            response["RateLimit-Reset"] = str(window.reset)
        return response
