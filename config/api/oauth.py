"""OAuth2 as Intacct speaks it, on top of django-oauth-toolkit.

Differences from DOT's defaults, each because Intacct clients and SDKs rely on it:
- a client-credentials token acts as the user the application is bound to;
- every grant, client credentials included, answers with a refresh token;
- the token endpoint takes JSON bodies as well as form bodies, and the `username` field on
  client credentials (it must then name the client's user);
- errors carry the ia::error body next to RFC 6749's `error` and `error_description`;
- a refresh grant leaves the access token issued before valid until it expires, and the previous
  refresh token works for REFRESH_TOKEN_GRACE_SECONDS (DOT's grace period), so workers sharing a
  token, or refreshing it at once, do not lock each other out;
- only the client-credentials, authorization-code (PKCE for public clients) and refresh-token
  grants exist: the implicit, password and device grants answer unsupported_grant_type or
  unsupported_response_type whatever a client was registered for;
- a client authenticates at one cost whatever the outcome (unknown client id, wrong secret, right
  secret): one verification with the client-secret hasher (config.api.hashers), so timing tells
  no client id apart and a flood of wrong secrets stays cheap. Exception: a secret still stored
  with PBKDF2 (stored before that hasher, until its first right use or create_api_client
  --rotate) is checked with PBKDF2; no new secret can be (config.api.application_admin);
- token requests are throttled per address and per client id from each address before any
  client lookup or secret hashing (config.api.throttling's throttles, in ops.ratelimit's windows).
"""

import base64
import functools
import hashlib
import io
import json
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.crypto import constant_time_compare, get_random_string
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_application_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749.grant_types import ClientCredentialsGrant
from rest_framework.exceptions import Throttled

from config.api import errors
from config.api.exceptions import to_api_error
from config.api.hashers import is_generated
from config.api.parsers import is_utf8_form, parse_json
from config.api.responses import error_response
from config.api.throttling import WindowThrottle

_BOUND_CLIENT_CREDENTIALS = "client_credentials+user"


class _AlwaysIssueRefreshToken:
    def __init__(self, handler):
        self.handler = handler

    def create_token(self, request, refresh_token=False, **kwargs):
        return self.handler.create_token(request, refresh_token=True, **kwargs)

    def __getattr__(self, name):
        return getattr(self.handler, name)


class IntacctClientCredentialsGrant(ClientCredentialsGrant):
    def create_token_response(self, request, token_handler):
        return super().create_token_response(request, _AlwaysIssueRefreshToken(token_handler))


# What oauthlib's all-grants server offers beyond contract 11's three grants.
_REFUSED_GRANTS = ("password", "urn:ietf:params:oauth:grant-type:device_code")
_REFUSED_RESPONSE_TYPES = ("token",)  # the implicit grant


class IntacctOAuth2Server(Server):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        credentials = IntacctClientCredentialsGrant(request_validator)
        self.client_credentials_grant = credentials
        self.grant_types["client_credentials"] = credentials
        for grant_type in _REFUSED_GRANTS:
            self.grant_types.pop(grant_type)
        for response_type in _REFUSED_RESPONSE_TYPES:
            self.response_types.pop(response_type)


class IntacctOAuth2Validator(OAuth2Validator):
    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if not super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs):
            return False
        if grant_type == "client_credentials":
            user = request.client.user
            if user is None or not user.is_active:
                return False
            username = getattr(request, "username", None)
            if username and username != user.get_username():
                return False
            request.user = user
        return True

    def authenticate_client(self, request, *args, **kwargs):
        """DOT's client authentication (HTTP Basic, else the body's client_id and client_secret),
        with exactly one secret verification whatever the outcome: an unknown client id is
        verified against a stand-in hash of the same algorithm, as Django's ModelBackend does for
        unknown users. DOT's skips the hash for an unknown id, so timing told ids apart."""
        client_id, secret = _client_credentials(request)
        client = _usable_client(client_id, request)
        stored = client.client_secret if client is not None else ""
        if client is not None and _is_hashed(stored):
            matches = check_password(
                secret,
                stored,
                setter=functools.partial(_store_secret, client),
                preferred=oauth2_settings.CLIENT_SECRET_HASHER,
            )
        else:
            check_password(secret, _stand_in_hash(oauth2_settings.CLIENT_SECRET_HASHER))
            # A secret stored in the clear (DOT's hash_client_secret off) compares as in DOT.
            matches = client is not None and constant_time_compare(secret, stored)
        if matches:
            request.client = client
        return matches

    def save_bearer_token(self, token, request, *args, **kwargs):
        if request.grant_type == "refresh_token":
            with transaction.atomic():
                _keep_access_token_of(getattr(request, "refresh_token_instance", None))
                return super().save_bearer_token(token, request, *args, **kwargs)
        # DOT drops the user from client-credentials tokens and could not store their refresh
        # token without one; the application's user is who the token acts as.
        if request.grant_type == "client_credentials":
            request.grant_type = _BOUND_CLIENT_CREDENTIALS
            try:
                return super().save_bearer_token(token, request, *args, **kwargs)
            finally:
                request.grant_type = "client_credentials"
        return super().save_bearer_token(token, request, *args, **kwargs)


def _client_credentials(request) -> tuple[str | None, str]:
    """The client id and secret a token request authenticates with: HTTP Basic (RFC 6749 2.3.1,
    form-encoded id and secret) when the header is one, else the body's fields."""
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()  # UTF-8: RFC 6749 B
            client_id, secret = map(unquote_plus, decoded.split(":", 1))
        except ValueError:  # not base64, not text, or no colon: as DOT, try the body
            pass
        else:
            return client_id, secret
    return getattr(request, "client_id", None), getattr(request, "client_secret", None) or ""


def _usable_client(client_id: str | None, request):
    if not client_id or "\x00" in client_id:  # no id holds a NUL, which PostgreSQL refuses
        return None
    client = get_application_model().objects.filter(client_id=client_id).first()
    return client if client is not None and client.is_usable(request) else None


def _is_hashed(stored: str) -> bool:
    try:
        identify_hasher(stored)
    except ValueError:
        return False
    return True


@functools.cache
def _stand_in_hash(algorithm: str) -> str:
    """A hash no secret matches, verified in place of an unknown client's."""
    return make_password(get_random_string(64), hasher=algorithm)


def _store_secret(client, secret: str) -> None:
    """A generated secret stored by another hasher (DOT's default, PBKDF2, before
    CLIENT_SECRET_HASHER) is stored again once presented right, so its next check is as cheap
    as any other. One a person chose keeps the slow hasher it has."""
    if is_generated(secret):
        client.client_secret = make_password(secret, hasher=oauth2_settings.CLIENT_SECRET_HASHER)
        client.save(update_fields=["client_secret"])


def _keep_access_token_of(refresh_token) -> None:
    """Rotating a refresh token revokes it, and DOT's revoke deletes the access token bound to
    it. Unbound first, that access token lives on until it expires (contract 11). The update
    also locks the refresh token: a concurrent refresh of it waits, then finds it rotated and
    gets the same new pair (DOT's grace period)."""
    if refresh_token is not None and refresh_token.revoked is None:
        get_refresh_token_model().objects.filter(pk=refresh_token.pk, revoked=None).update(
            access_token=None
        )


def pkce_required(client_id: str) -> bool:
    """PKCE for public clients, which hold no secret; a confidential client authenticates."""
    application_model = get_application_model()
    client_type = (
        application_model.objects.filter(client_id=client_id)
        .values_list("client_type", flat=True)
        .first()
    )
    return client_type != application_model.CLIENT_CONFIDENTIAL


def _accept_json_body(request: HttpRequest) -> HttpRequest | HttpResponse:
    """The request DOT reads: a JSON body becomes the same request with that body as a form
    (DOT parses form bodies only), or the error answering a malformed one. Either is read as
    the REST API reads bodies (config.api.parsers): nested too deeply, a lone surrogate or not
    UTF-8 is a 400."""
    if request.content_type != "application/json":
        if request.content_type == "application/x-www-form-urlencoded" and not is_utf8_form(
            request.body
        ):
            reason = "the form body is not UTF-8 text"
            return error_response(request, errors.error(errors.BAD_REQUEST, REASON=reason))
        return request
    try:
        payload = parse_json(request.body or b"{}")
    except errors.ApiError as err:
        return error_response(request, err)
    if not isinstance(payload, dict):
        return error_response(request, errors.error(errors.PAYLOAD_NOT_OBJECT))
    form = QueryDict(mutable=True)
    for name, value in payload.items():
        form[name] = value if isinstance(value, str) else json.dumps(value)
    body = form.urlencode().encode()
    # A new WSGI request over a copy of the environ, so that Django parses the form itself.
    environ = {
        **request.META,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
    }
    return WSGIRequest(environ)


def _with_error_body(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code < 400:
        return response
    try:
        oauth_error = json.loads(response.content or b"{}")
    except ValueError:
        oauth_error = {}
    code = oauth_error.get("error", "invalid_request")
    spec = errors.OAUTH_ERROR if response.status_code == 401 else errors.OAUTH_INVALID_REQUEST
    err = errors.error(spec, ERROR=oauth_error.get("error_description") or code)
    body = errors.error_body(err, getattr(request, "request_id", None))
    body.update({k: v for k, v in oauth_error.items() if k in ("error", "error_description")})
    out = HttpResponse(json.dumps(body), status=err.status, content_type="application/json")
    for header in ("WWW-Authenticate", "Cache-Control", "Pragma"):
        if header in response:
            out[header] = response[header]
    return out


# --- the token endpoint's throttles (checked before any client lookup or secret hashing) --------


class _TokenThrottle(WindowThrottle):
    """The token endpoint is no DRF view: its rates are settings of their own."""

    rate_setting = ""

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)


class TokenAddressThrottle(_TokenThrottle):
    """Token requests per caller address (THROTTLE_RATE_TOKEN_ADDRESS)."""

    scope = "token_address"
    rate_setting = "THROTTLE_RATE_TOKEN_ADDRESS"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenClientThrottle(_TokenThrottle):
    """Token requests per client id from one address, known or not (THROTTLE_RATE_TOKEN_CLIENT).
    Per address too: counted from anywhere, a flood naming an id would lock its real
    integration out; the address's own limit still bounds what one address tries."""

    scope = "token_client"
    rate_setting = "THROTTLE_RATE_TOKEN_CLIENT"
    # The headers show the address's window only: a client id's count would tell a caller which
    # ids are in use. A refusal by this bucket still answers 429 with its Retry-After.
    reported = False

    def __init__(self, client_id: str):
        super().__init__()
        self.client_id = client_id

    def get_cache_key(self, request, view):
        # Any text a caller sends: hashed, the key stays short and safe for every cache.
        client_id = hashlib.sha256(self.client_id.encode("utf-8", "surrogatepass")).hexdigest()
        ident = f"{client_id}:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def token_client_ids(request: HttpRequest) -> list[str]:
    """The client ids a token request names: by HTTP Basic (RFC 6749 2.3.1: form-encoded, then
    base64, decoded as DOT does) and as the form field; DOT tries the one, then the other."""
    named = []
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            decoded = ""
        named.append(unquote_plus(decoded.partition(":")[0]))
    named.append(request.POST.get("client_id", ""))
    return [client_id for client_id in dict.fromkeys(named) if client_id]


def refused_token_request(request: HttpRequest) -> WindowThrottle | None:
    """The throttle refusing this token request, if one does: its address's, else a client id's.
    Checked before any client lookup or secret hashing, so a refused flood costs little."""
    throttles = [TokenAddressThrottle()]
    throttles += [TokenClientThrottle(client_id) for client_id in token_client_ids(request)]
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            return throttle
    return None


class IntacctTokenView(oauth_views.TokenView):
    def post(self, request, *args, **kwargs):
        # DOT answers the device grant itself, before oauthlib: every grant goes to the server,
        # which has no device grant (unsupported_grant_type, as for any other).
        return self.authorization_flow_token_response(request)


@csrf_exempt
def token_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(
            request,
            errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path),
        )
    form_request = _accept_json_body(request)
    if isinstance(form_request, HttpResponse):
        return form_request
    refusing = refused_token_request(form_request)
    if refusing is not None:
        return error_response(request, to_api_error(Throttled(refusing.wait()), request))
    return _with_error_body(request, IntacctTokenView.as_view()(form_request))


authorize_view = oauth_views.AuthorizationView.as_view()


def api_client_create(*, user, name: str) -> tuple[str, str]:
    """A confidential client bound to `user` for the client-credentials and authorization-code
    grants. Returns (client_id, client_secret); the secret is stored hashed, so only now is it
    known in the clear."""
    application_model = get_application_model()
    secret = generate_client_secret()
    application = application_model.objects.create(
        name=name,
        user=user,
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        redirect_uris="",
    )
    return application.client_id, secret


def api_client_rotate(*, client_id: str) -> tuple[str, str]:
    """A new generated secret for the client `client_id`, stored with CLIENT_SECRET_HASHER (the
    old one stops working). Returns (client_id, client_secret); raises LookupError for an
    unknown client."""
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        application = application_model.objects.select_for_update().filter(client_id=client_id)
        client = application.first()
        if client is None:
            raise LookupError(client_id)
        client.client_secret = secret
        client.save(update_fields=["client_secret"])
    return client.client_id, secret
