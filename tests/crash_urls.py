"""Test-only urlconf: the real routes plus views that crash, to see what a client gets from a bug.

Used with `@pytest.mark.urls("tests.crash_urls")`. Nothing here is mocked: the DRF views run on our
authentication, permissions, renderers and exception handler; the plain view on our middleware.
"""

from django.urls import include, path
from rest_framework.views import APIView

from config import urls as config_urls
from config.api.routers import ObjectRouter
from kitcomponents.api.views import KitComponentViewSet
from kitcomponents.models import KitComponent

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


def crashing_plain_view(request):
    raise RuntimeError(f"plain {SECRET}")


router = ObjectRouter()
router.register(CrashingKitComponentViewSet, basename="crash-kit-component")

urlpatterns = [
    path("crash/drf", CrashingView.as_view()),
    path("crash/plain", crashing_plain_view),
    path("crash/", include(router.urls)),
    # Last, because it ends with the catch-all 404.
    *config_urls.urlpatterns,
]

handler400 = config_urls.handler400
handler403 = config_urls.handler403
handler404 = config_urls.handler404
handler500 = config_urls.handler500
