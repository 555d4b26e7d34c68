"""Shared fixtures: real users with real model permissions, API clients, and the demo objects."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from rest_framework.test import APIClient

from inventory import services as inventory_services
from kitcomponents import services as kit_services


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Client secrets and passwords are hashed with PBKDF2 (about a second each on this machine);
    # tests create hundreds. The hashing code path stays the same, only the algorithm is cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("admin", "admin@example.com", "admin-password")


@pytest.fixture
def api(admin_user):
    """An APIClient acting as a superuser through a real bearer token."""
    from config.api.oauth import api_client_create

    client_id, secret = api_client_create(user=admin_user, name="tests")
    client = APIClient()
    response = client.post(
        "/oauth2/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return client


def make_user(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="pw-" + username)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated as that user (session-less, forced)."""

    def build(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return build


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
    return {
        code: inventory_services.item_create(
            user=admin_user, code=code, name=f"{code} name", item_type=item_type
        )
        for code, item_type in specs
    }


@pytest.fixture
def add_line(admin_user):
    def add(kit, component, units=1, **fields):
        return kit_services.kit_component_create(
            user=admin_user, kit=kit, component=component, number_of_units=units, **fields
        )

    return add
