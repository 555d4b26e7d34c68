"""The shared fixtures (registered by tests/conftest.py). Two clients, two names: `api` goes
through a real bearer token, `forced_api` uses force_authenticate (cheaper: no secret hashing,
no token lookup), both as the superuser `admin_user`."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.support.factories import kit_line, part
from tests.support.users import bearer_client, forced_client


@pytest.fixture(autouse=True)
def _clear_throttle_cache(settings):
    # Every test starts with empty throttle windows. On Redis, clear() is FLUSHDB: every key of
    # everyone sharing that Redis. The suite's own process keeps its cache in memory; the servers
    # it starts get REDIS_URL where a test needs them to share (tests/test_scale_out.py).
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend.endswith("LocMemCache"), f"run the tests without REDIS_URL (cache: {backend})"
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Passwords are hashed with PBKDF2 (about a second each on this machine); tests create
    # hundreds. The hashing code path stays the same, only the algorithm is cheap. Generated
    # client secrets keep their own hasher, which is cheap already.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "config.api.hashers.GeneratedSecretHasher",
    ]


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("admin", "admin@example.com", "admin-password")


@pytest.fixture
def api(admin_user):
    """An APIClient acting as the superuser through a real bearer token."""
    return bearer_client(admin_user)


@pytest.fixture
def forced_api(admin_user):
    """An APIClient acting as the superuser through force_authenticate (no token)."""
    return forced_client(admin_user)


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated as that user (forced, session-less)."""
    return forced_client


@pytest.fixture
def items(admin_user):
    """A kit, a stockable kit and one item of every other type, keyed by their id."""
    specs = [
        ("Kit_1", "kit"),
        ("SKit_1", "stockableKit"),
        ("Prnt_Paper", "inventory"),
        ("NonInv", "nonInventory"),
        ("PurchOnly", "purchaseOnlyNonInventory"),
        ("SalesOnly", "salesOnlyNonInventory"),
        ("Kit_2", "kit"),
        ("SKit_2", "stockableKit"),
    ]
    return {code: part(admin_user, code, item_type) for code, item_type in specs}


@pytest.fixture
def add_line(admin_user):
    def add(kit, component, units=1, **fields):
        return kit_line(admin_user, kit, component, units, **fields)

    return add
