"""Per-client throttling: an OAuth2 application, else a session user, else the caller's address.

A window opens at a client's first request and admits `rate` requests until it closes. The cache
holds (window start, count) per client: O(1) per request, where DRF's own throttle keeps (and
pickles, on every request) the time of each request in the window, which grows with the rate."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.api.auth import application_id


class _CurrentRates:
    """DRF binds THROTTLE_RATES to the class at import; this reads the settings on every access
    (class or instance), so changed settings (tests, reloads) apply to the next request."""

    def __get__(self, instance, owner):
        return api_settings.DEFAULT_THROTTLE_RATES


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"
    THROTTLE_RATES = _CurrentRates()

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        start, count = self.cache.get(self.key, (self.now, 0))
        if self.now - start >= self.duration:
            start, count = self.now, 0
        self.window_start = start
        if count >= self.num_requests:
            return self.throttle_failure()
        self.cache.set(self.key, (start, count + 1), self.duration)
        return True

    def wait(self) -> float:
        """Seconds until the window closes (the Retry-After)."""
        return max(0.0, self.window_start + self.duration - self.now)

    def get_cache_key(self, request, view):
        client = application_id(request)
        if client is not None:
            ident = f"app:{client}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # Anonymous callers get the stricter anonymous rate.
            self.rate = self.THROTTLE_RATES.get("anon")
            self.num_requests, self.duration = self.parse_rate(self.rate)
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
