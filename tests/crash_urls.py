"""Test-only urlconf: the real routes plus views that crash (or race), to see what a client gets.

Used with `@pytest.mark.urls("tests.crash_urls")`. Nothing here is mocked: the DRF views run on our
authentication, permissions, renderers and exception handler; the plain view on our middleware.
"""

from django.db import OperationalError, connection, transaction
from django.urls import include, path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.views import APIView

from config import urls as config_urls
from config.api.auth import application_id
from config.api.models import IdempotencyKey
from config.api.routers import ObjectRouter
from inventory.services import warehouse_create
from kitcomponents.api.views import KitComponentViewSet
from kitcomponents.models import KitComponent
from kitting.api.views import WorkflowView

SECRET = "secret-detail-7f3a"


class CrashingView(APIView):
    required_permissions: list[str] = []  # any authenticated user: the crash is the point

    def get(self, request):
        raise RuntimeError(f"unexpected {SECRET}")


def delete_then_crash(*, kit_component_key, user, expected_version):
    KitComponent.objects.filter(pk=kit_component_key).delete()
    raise RuntimeError(f"after deleting {SECRET}")


class CrashingKitComponentViewSet(KitComponentViewSet):
    """The real kit-component endpoint whose delete service fails after deleting."""

    delete_service = delete_then_crash


class WarehouseCodeSerializer(serializers.Serializer):
    code = serializers.CharField()


class WarehouseWorkflow(WorkflowView):
    required_permissions: list[str] = []
    input_serializer = WarehouseCodeSerializer
    result_serializer = WarehouseCodeSerializer


class WriteThenCrashWorkflow(WarehouseWorkflow):
    """A workflow that writes a warehouse, then fails: what a 500 leaves behind."""

    def perform(self, user, *, code):
        warehouse_create(user=user, code=code, name=code)
        raise RuntimeError(f"after writing {SECRET}")


class ContendedWorkflow(WarehouseWorkflow):
    """A workflow that writes a warehouse, then loses a race for a lock (SQLite's wording)."""

    def perform(self, user, *, code):
        warehouse_create(user=user, code=code, name=code)
        raise OperationalError("database is locked")


class SlowWorkflow(WarehouseWorkflow):
    """A workflow that writes a warehouse, then runs a statement longer than the statement
    timeout (PostgreSQL's statement_timeout, as STATEMENT_TIMEOUT_MS sets it on every connection;
    cut to 50 ms here so that the test stays quick)."""

    def perform(self, user, *, code):
        # One transaction, as a service is.
        with transaction.atomic(), connection.cursor() as cursor:
            warehouse_create(user=user, code=code, name=code)
            cursor.execute("SET LOCAL statement_timeout = '50ms'")
            cursor.execute("SELECT pg_sleep(2)")
        return {"code": code}


class KeyStoredMeanwhileWorkflow(WarehouseWorkflow):
    """A workflow that writes a warehouse while another request stores an answer under its
    Idempotency-Key: what SQLite, which has no advisory lock, can see under concurrency."""

    def perform(self, user, *, code):
        warehouse_create(user=user, code=code, name=code)
        IdempotencyKey.objects.create(
            application_id=application_id(self.request),
            user=user,
            key=self.idempotency_key,
            fingerprint="0" * 64,
            status=200,
            created_at=timezone.now(),
        )
        return {"code": code}


def crashing_plain_view(request):
    raise RuntimeError(f"plain {SECRET}")


router = ObjectRouter()
router.register(CrashingKitComponentViewSet, basename="crash-kit-component")

urlpatterns = [
    path("crash/drf", CrashingView.as_view()),
    path("crash/plain", crashing_plain_view),
    path("crash/workflow", WriteThenCrashWorkflow.as_view()),
    path("crash/contended", ContendedWorkflow.as_view()),
    path("crash/slow", SlowWorkflow.as_view()),
    path("crash/key-stored-meanwhile", KeyStoredMeanwhileWorkflow.as_view()),
    path("crash/", include(router.urls)),
    # Last, because it ends with the catch-all 404.
    *config_urls.urlpatterns,
]

handler400 = config_urls.handler400
handler403 = config_urls.handler403
handler404 = config_urls.handler404
handler500 = config_urls.handler500
