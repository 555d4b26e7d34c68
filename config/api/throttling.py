"""Per-client throttling: an OAuth2 application, else a session user, else the caller's address."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _CurrentRates:
    """DRF binds THROTTLE_RATES to the class at import; this reads the settings on every access
    (class or instance), so changed settings (tests, reloads) apply to the next request."""

    def __get__(self, instance, owner):
        return api_settings.DEFAULT_THROTTLE_RATES


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"
    THROTTLE_RATES = _CurrentRates()

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        application_id = getattr(token, "application_id", None)
        if application_id is not None:
            ident = f"app:{application_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # Anonymous callers get the stricter anonymous rate.
            self.rate = self.THROTTLE_RATES.get("anon")
            self.num_requests, self.duration = self.parse_rate(self.rate)
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
