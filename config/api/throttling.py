"""DRF throttles counting in ops.ratelimit's atomic windows (shared by every process through the
cache), and the per-client throttle: an OAuth2 application, else a session user, else the
caller's address.

DRF's own SimpleRateThrottle reads the list of request times, appends and writes it back:
processes racing each other overwrite each other's counts (one server admitted 211 at 60/min)."""

import ipaddress

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.api.auth import application_id
from ops.ratelimit import count_request, report


class _CurrentRates:
    """DRF binds THROTTLE_RATES to the class at import; this reads the settings on every access
    (class or instance), so changed settings (tests, reloads) apply to the next request."""

    def __get__(self, instance, owner):
        return api_settings.DEFAULT_THROTTLE_RATES


class WindowThrottle(SimpleRateThrottle):
    """A DRF throttle counting in atomic windows (ops.ratelimit); subclasses name the bucket."""

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
            report(self.window)
        return self.window.allowed

    def wait(self) -> float:
        """Seconds until the window closes (the Retry-After)."""
        return self.window.reset

    def get_ident(self, request) -> str:
        # The client's address as ops.middleware.ClientAddressMiddleware decided it
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


class ClientRateThrottle(WindowThrottle):
    scope = "client"

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
