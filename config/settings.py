"""Kitsmith settings, read from the environment (see README "Configuration")."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_milliseconds(name: str, default: int) -> int:
    """A database timeout: 0 (none) or more milliseconds."""
    try:
        value = int(os.environ.get(name) or default)
    except ValueError:
        value = -1
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 (no limit) or more milliseconds")
    return value


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "kitsmith-development-only-secret-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "config.api.responses.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "import_export",
    "core",
    "config.api",
    "config.graphql",
    "inventory",
    "kitcomponents",
    "kitting",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.ClientAddressMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.AccessLogMiddleware",
    "ops.ratelimit.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.api.middleware.ErrorBodyMiddleware",
    # Last: it reads the view each request resolved to (metrics by route, not by path).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # config/templates overrides third-party pages (Redoc without Google Fonts).
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A persistent connection is checked (SELECT 1) before its first use in each request.
        conn_health_checks=os.environ.get("CONN_HEALTH_CHECKS", "1") == "1",
    )
}


LOCK_TIMEOUT_MS = env_milliseconds("LOCK_TIMEOUT_MS", 3000)
STATEMENT_TIMEOUT_MS = env_milliseconds("STATEMENT_TIMEOUT_MS", 30000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the write lock instead of failing at once when two requests write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    # Values are bound server-side, so psycopg prepares a statement after it has run this many
    # times on a connection and PostgreSQL stops planning it each time. Empty: never prepare
    # (needed behind a pooler in transaction mode, such as PgBouncer before 1.21).
    _threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=int(_threshold) if _threshold else None,
    )
    # No JIT compilation: the planner's estimates for the requirement view (a recursive walk per
    # open run) pass jit_above_cost, and compiling then cost 1.3-2.2 s for a read that runs in
    # 22 ms (the requirements of one part, 1,000,000-row benchmark data). Short reads gain
    # nothing from it.
    # A request waits at most LOCK_TIMEOUT_MS for a row lock, then gives up with 409 and
    # Retry-After (contract 12.3): one stuck transaction costs the requests that need its rows a
    # retry, not every worker of the service. 0 waits for ever.
    # A statement that runs longer than STATEMENT_TIMEOUT_MS is canceled and answers 503 with
    # Retry-After (its transaction rolls back): a runaway read cannot hold a worker and a
    # connection for ever. 0: no limit.
    # A DATABASE_URL that sets `options` itself keeps its own.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options",
        f"-c jit=off -c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The query service runs a request from the SQL of the first request of its shape (PostgreSQL;
# config/api/query/shapes.py). Off, every request builds and compiles its querysets.
QUERY_SHAPE_CACHE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Django's hashers (its own list: a new Django's defaults carry over), and last the one of
# generated OAuth2 client secrets (CLIENT_SECRET_HASHER below): fast, so a wrong secret costs
# little, and safe only for secrets nobody chose.
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "config.api.hashers.GeneratedSecretHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# 1 where static files are collected (the image): collectstatic names each file by its content's
# hash (admin/css/base.3f1c….css, cached for ever by browsers and proxies) and writes the
# manifest that {% static %} then reads. 0 (make run, tests): served from the apps as they are.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Without collected files, serve static files straight from the apps (make run, tests).
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

LOGIN_URL = "/admin/login/"

# Spreadsheets in the admin (core.spreadsheets): importing needs the model's add permission,
# exporting its view permission; each import is one transaction. No admin log entry per row:
# the audit stamps and the ledger say who created what.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# An XLSX export replaces a control character openpyxl refuses (a name holding \x01) with U+FFFD
# instead of failing the whole export.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
# The largest upload an import takes (bytes); a 100,000-row part inventory CSV is about 5 MB.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES") or 50_000_000)

THROTTLE_RATE_CLIENT = os.environ.get("THROTTLE_RATE_CLIENT", "6000/min")
THROTTLE_RATE_ANON = os.environ.get("THROTTLE_RATE_ANON", "600/min")
# The token endpoint, checked before a secret is hashed. An integration asks for a token every
# few minutes; 30 a minute lets a fleet of workers starting at once each get one.
THROTTLE_RATE_TOKEN_CLIENT = os.environ.get("THROTTLE_RATE_TOKEN_CLIENT", "30/min")
THROTTLE_RATE_TOKEN_ADDRESS = os.environ.get("THROTTLE_RATE_TOKEN_ADDRESS", "60/min")

# Addresses or networks of the reverse proxies in front (comma-separated): only from them is
# X-Forwarded-For believed (ops/middleware.py ClientAddressMiddleware).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

# REDIS_URL set: the cache (and so the throttles) is Redis, shared by every worker and server;
# unset: each process's own memory (make run needs nothing). CACHE_KEY_PREFIX keeps the keys of
# several deployments (or test runs) on one Redis apart.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "kitsmith"),
            # A Redis that stops answering fails a request in a second instead of hanging it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Two keys per open throttle window: at the default 300 entries a caller rotating client ids
    # or addresses would evict everyone's windows (and so reset their counts).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# GraphQL (config/graphql/limits.py): the most an operation may cost before it runs.
GRAPHQL_MAX_COST = int(os.environ.get("GRAPHQL_MAX_COST", "1000000"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.auth.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["config.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.renderers.AlwaysJSONNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": THROTTLE_RATE_CLIENT, "anon": THROTTLE_RATE_ANON},
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.IntacctAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "config.api.exceptions.exception_handler",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("ACCESS_TOKEN_EXPIRE_SECONDS", "3600")),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(os.environ.get("REFRESH_TOKEN_EXPIRE_SECONDS", "1209600")),
    # A rotated refresh token keeps working this long: two workers refreshing at once both get
    # the new pair. A replay after it revokes the whole family of tokens (RFC 9700 4.14.2).
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": int(os.environ.get("REFRESH_TOKEN_GRACE_SECONDS", "120")),
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Client secrets are generated (create_api_client, DOT's admin): config.api.hashers.
    "CLIENT_SECRET_HASHER": "hmac_sha256",
    # Refuses a client secret too short to be generated (config.api.application_admin).
    "APPLICATION_ADMIN_CLASS": "config.api.application_admin.ApplicationAdmin",
    "OAUTH2_SERVER_CLASS": "config.api.oauth.IntacctOAuth2Server",
    "OAUTH2_VALIDATOR_CLASS": "config.api.oauth.IntacctOAuth2Validator",
    # Per client: public clients need PKCE (imported when called: the app registry is ready).
    "PKCE_REQUIRED": lambda client_id: import_string("config.api.oauth.pkce_required")(client_id),
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # RFC 9700: no implicit or password grant (the server offers neither anyway), PKCE by S256
    # only, bearer tokens in the Authorization header only, `iss` in authorization responses.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "SCOPES": {"read": "Read", "write": "Write"},
    "DEFAULT_SCOPES": ["read", "write"],
}
SILENCED_SYSTEM_CHECKS = [
    # Tokens are stored in plaintext next to their checksum: the refresh grace period above
    # answers a second refresh with the pair issued by the first, which DOT can only read back
    # from plaintext (it refuses hashed storage with a grace period: oauth2_provider.E001).
    "oauth2_provider.W006",
]

# django-oauth-toolkit's default, named so that a foreign key to it (the stored Idempotency-Key
# answers') migrates as DOT's own models do.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

SPECTACULAR_SETTINGS = {
    "TITLE": "Kitsmith API",
    "DESCRIPTION": (
        "Kit components, items, warehouses, part inventory and kitting, in the Sage Intacct REST "
        "dialect. Every path is also served under `/ia/api/v1`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["config.api.schema.only_root_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.objects_as_documented",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "inventory.models.Status",
        "RunStatusEnum": "kitting.models.RunStatus",
        "PartKitStatusEnum": "kitting.models.PartKitStatus",
        "InventoryStatusEnum": "inventory.models.InventoryStatus",
    },
    # The schemes Swagger UI can use (config.api.schema.BearerScheme); not the session cookie.
    "AUTHENTICATION_WHITELIST": ["config.api.auth.BearerAuthentication"],
}

# /metrics answers staff, and without credentials any address in these networks (a scraper's).
METRICS_ALLOWED_CIDRS = env_list("METRICS_ALLOWED_CIDRS", "")
try:
    for _cidr in METRICS_ALLOWED_CIDRS:
        ipaddress.ip_network(_cidr)
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_CIDRS: {exc}") from exc

# plain: one line of text per record; json: one JSON object per line (ops.logs).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    # Served over HTTPS: plain HTTP is redirected (but /healthz and /readyz, which health checks
    # ask over plain HTTP) and browsers are told to come back over HTTPS only (HSTS).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # /metrics too: a scraper in METRICS_ALLOWED_CIDRS asks a replica directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        # The proxy terminates TLS and says so in X-Forwarded-Proto (overwriting a client's).
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
