"""Bearer tokens from django-oauth-toolkit; the 401 challenge names the Bearer scheme."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from config.api.oauth import load_access_token


class BearerAuthentication(OAuth2Authentication):
    """Checks a bearer token with one indexed lookup, without oauthlib's request machinery
    (which cost more than the rest of a small GET). The same rules as DOT's check: the token
    exists, is not expired, and its user (the application's, for client credentials) is active.
    Looked up on every request, never cached, so a revoked token stops working at once."""

    www_authenticate_realm = "kitsmith"

    def authenticate(self, request):
        if not _sends_bearer(request):
            return None
        parts = get_authorization_header(request).split(b" ", 1)
        raw = parts[1].strip().decode("latin-1") if len(parts) == 2 else ""
        token = load_access_token(raw) if raw else None
        if token is None:
            description = "The access token is invalid."
        elif token.is_expired():
            description = "The access token has expired."
        else:
            user = token.user
            if user is None or not user.is_active:
                # DOT does not look at the user: a deactivated account's tokens end with it.
                raise AuthenticationFailed()
            return user, token
        # The client should learn that its token is bad (KS-4012), not that it sent none.
        request.oauth2_error = {"error": "invalid_token", "error_description": description}
        raise AuthenticationFailed()


def application_id(request) -> int | None:
    """The API client a request comes from: its bearer token's OAuth2 application (None for a
    session or a forced authentication)."""
    return getattr(getattr(request, "auth", None), "application_id", None)


def _sends_bearer(request) -> bool:
    scheme = get_authorization_header(request).split(b" ", 1)[0]
    return scheme.lower() == b"bearer"
