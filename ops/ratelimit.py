"""Rate-limit windows counted in the shared cache and the headers that report them: operations,
the same for REST, GraphQL and the token endpoint. Which callers are counted together, and the
DRF throttles counting in these windows, are the protocol's (config.api.throttling; the token
endpoint's throttles in config.api.oauth).

A window opens at a bucket's first request and admits `rate` requests until it closes. Both steps
are single atomic cache operations (`add`, `incr`: atomic in Redis and under the memory cache's
lock), so with REDIS_URL a limit of N per window admits at most N across every worker of every
server.

Every throttled answer reports the caller's bucket in the three headers of the IETF draft
(draft-ietf-httpapi-ratelimit-headers-06): `RateLimit-Limit` (requests per window),
`RateLimit-Remaining` (left in this window after this request) and `RateLimit-Reset` (seconds
until it closes); a 429 also carries `Retry-After`, the same number of seconds."""

import contextvars
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase


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


def report(window: Window) -> None:
    """Keeps the window the response will report: of several in one request (the token
    endpoint's two buckets, a composite's sub-requests), the one with the fewest left."""
    kept = _window.get()
    if kept is None or (window.remaining, -window.reset) <= (kept.remaining, -kept.reset):
        _window.set(window)


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
