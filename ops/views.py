"""/healthz (liveness), /readyz (readiness) and /metrics (Prometheus), contract 16."""

import ipaddress
import uuid

from django.conf import settings
from django.core.cache import cache as default_cache
from django.db import Error, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from config.api import errors, responses


@responses.get_or_head_only
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. It asks nothing of the database, so a stuck or lost
    database never gets a healthy worker restarted (that is /readyz's question)."""
    return JsonResponse({"status": "ok"})


@responses.get_or_head_only
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the cache answer; 503 naming the one that does not."""
    down = [
        name for name, reachable in (("database", _database), ("cache", _cache)) if not reachable()
    ]
    if down:
        return responses.error_response(
            request, errors.error(errors.NOT_READY, COMPONENTS=" and ".join(down))
        )
    return JsonResponse({"status": "ok", "database": "ok", "cache": "ok"})


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:
        return False
    return True


def _cache() -> bool:
    # A key of its own per call: workers and servers sharing one cache never read each other's.
    key, value = f"kitsmith:readyz:{uuid.uuid4().hex}", "ok"
    try:
        default_cache.set(key, value, timeout=10)
        found = default_cache.get(key)
        default_cache.delete(key)
    except Exception:  # any backend's failure to answer (Redis raises its own errors)
        return False
    return found == value


def allowed_address(address: str) -> bool:
    """Whether `address` is in METRICS_ALLOWED_CIDRS (settings.py validated them)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr) for cidr in settings.METRICS_ALLOWED_CIDRS)


class StaffOrScraper(BasePermission):
    """Staff (a session or a bearer token of a staff user), or a scraper calling from
    METRICS_ALLOWED_CIDRS (REMOTE_ADDR: the client's address as the server trusts it)."""

    def has_permission(self, request, view) -> bool:
        if allowed_address(request.META.get("REMOTE_ADDR", "")):
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class MetricsView(APIView):
    """Prometheus text format, summed over every worker process in multi-process mode."""

    permission_classes = [StaffOrScraper]
    throttle_classes = []  # a scraper polls on its own schedule
    schema = None  # not part of the Intacct API's OpenAPI document

    def get(self, request, *args, **kwargs) -> HttpResponse:
        return ExportToDjangoView(request)
