"""Bearer tokens from django-oauth-toolkit; the 401 challenge names the Bearer scheme."""

from django.http import QueryDict
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed


class BearerAuthentication(OAuth2Authentication):
    www_authenticate_realm = "kitsmith"

    def authenticate(self, request):
        if not _sends_bearer(request):
            return None
        checked = _WithoutBody(request._request)
        result = super().authenticate(checked)
        if result is None:
            # DOT treats an unknown or expired token as no credentials; the client should learn
            # that its token is bad (KS-4012), not that it sent none.
            request.oauth2_error = getattr(checked, "oauth2_error", {})
            raise AuthenticationFailed()
        user = result[0]
        if user is None or not user.is_active:
            # DOT does not look at the user: a deactivated account's tokens end with it.
            raise AuthenticationFailed()
        return result


def _sends_bearer(request) -> bool:
    scheme = get_authorization_header(request).split(b" ", 1)[0]
    return scheme.lower() == b"bearer"


class _WithoutBody:
    """The request as DOT sees it when checking a token: everything but the body. The token is in
    the Authorization header; reading POST would make DRF parse the body during authentication,
    before the view can judge it (missing payload, media type, malformed JSON)."""

    POST = QueryDict()

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)
