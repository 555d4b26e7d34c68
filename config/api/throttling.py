"""Per-client throttling: an OAuth2 application, else a session user, else the caller's address,
counted in atomic windows shared by every process through the cache (ops.ratelimit)."""

from config.api.auth import application_id
from ops.ratelimit import WindowThrottle


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
