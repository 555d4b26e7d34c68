"""Real users with real model permissions, and the two kinds of API client: one through a real
bearer token from /oauth2/token, one with DRF's force_authenticate (no OAuth round trip)."""

from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from config.api.oauth import api_client_create


def make_user(username: str, *perms: str) -> User:
    """A user holding exactly these model permissions ("app_label.codename")."""
    user = User.objects.create_user(username, password="pw-" + username)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def bearer_token(user, name: str = "tests") -> str:
    """A bearer token the token endpoint issued to a new client of `user`."""
    client_id, secret = api_client_create(user=user, name=name)
    response = APIClient().post(
        "/oauth2/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def bearer_client(user, name: str = "tests") -> APIClient:
    """An APIClient sending a bearer token the token endpoint issued to a new client of `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(user, name)}")
    return client


def forced_client(user) -> APIClient:
    """An APIClient authenticated as `user` with force_authenticate: no token, no session."""
    client = APIClient()
    client.force_authenticate(user)
    return client
