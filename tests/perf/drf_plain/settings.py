"""The service's settings (database, apps, models, password hashers, production switches) with a
plain DRF configuration in place of the service's protocol layer."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.perf.drf_plain.urls"

# `startproject`'s middleware (Django's own, from the service's list), and one line of
# measurement: X-Queries, as the floor answers.
MIDDLEWARE = [
    *(name for name in MIDDLEWARE if name.startswith("django.")),  # noqa: F405
    "tests.perf.drf_plain.views.QueryCountMiddleware",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.DjangoModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
}

# django-oauth-toolkit's own server and validator. Client secrets stay verified by
# PASSWORD_HASHERS (the service's hasher included), so the benchmark's client works on both.
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES": {"read": "Read", "write": "Write"},
    "DEFAULT_SCOPES": ["read", "write"],
    "CLIENT_SECRET_HASHER": "hmac_sha256",
}
