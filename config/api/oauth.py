"""OAuth2 as Intacct speaks it, on top of django-oauth-toolkit.

Differences from DOT's defaults, each because Intacct clients and SDKs rely on it:
- a client-credentials token acts as the user the application is bound to;
- every grant, client credentials included, answers with a refresh token;
- the token endpoint takes JSON bodies as well as form bodies, and the `username` field on
  client credentials (it must then name the client's user);
- errors carry the ia::error body next to RFC 6749's `error` and `error_description`.
"""

import functools
import hashlib
import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749.grant_types import ClientCredentialsGrant

from config.api import errors
from config.api.compiled import CompiledQuery
from config.api.responses import error_response

_BOUND_CLIENT_CREDENTIALS = "client_credentials+user"
# What validate_bearer_token, our authentication and the client throttle read of a token; its
# application's key and user, and all of each user (it becomes request.user) come with it.
_TOKEN_FIELDS = ("token", "user", "application", "expires", "scope", "resource")


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


class IntacctOAuth2Server(Server):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        credentials = IntacctClientCredentialsGrant(request_validator)
        self.client_credentials_grant = credentials
        self.grant_types["client_credentials"] = credentials


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

    def save_bearer_token(self, token, request, *args, **kwargs):
        # DOT drops the user from client-credentials tokens and could not store their refresh
        # token without one; the application's user is who the token acts as.
        if request.grant_type == "client_credentials":
            request.grant_type = _BOUND_CLIENT_CREDENTIALS
            try:
                return super().save_bearer_token(token, request, *args, **kwargs)
            finally:
                request.grant_type = "client_credentials"
        return super().save_bearer_token(token, request, *args, **kwargs)

    def _load_access_token(self, token):
        return load_access_token(token)


def load_access_token(token: str):
    """The access token with this value, its application and its user, in one query.

    DOT's own lookup joins every column of the token and its application; a bearer check reads
    only these (the user stays whole: it becomes request.user). A client-credentials token acts
    as its application's user. Every request runs it, so it is compiled once (CompiledQuery)."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    rows = _TOKEN_QUERY.rows(checksum=checksum)
    if not rows:
        return None
    row = rows[0]
    token_model, application_model, user_model = _token_models()
    names = _token_names()
    access_token = _instance(token_model, names["token"], row, 0)
    width = len(names["token"])
    application = _instance(application_model, names["application"], row, width)
    width += len(names["application"])
    users = [
        _instance(user_model, names["user"], row, width),
        _instance(user_model, names["user"], row, width + len(names["user"])),
    ]
    if application is not None:
        application.user = users[1]
        access_token.application = application
    access_token.user = users[0] or (application.user if application is not None else None)
    return access_token


@functools.cache
def _token_models():
    return get_access_token_model(), get_application_model(), get_user_model()


@functools.cache
def _token_names() -> dict[str, list[str]]:
    """The attnames loaded of each model, in the order _token_lookup selects them."""
    token_model, _, user_model = _token_models()
    user_fields = [f.attname for f in user_model._meta.concrete_fields]
    token_fields = [token_model._meta.get_field(name).attname for name in _TOKEN_FIELDS]
    return {
        "token": ["id", *token_fields],
        "application": ["id", "user_id"],
        "user": user_fields,
    }


def _token_lookup(checksum):
    token_model, _, user_model = _token_models()
    names = _token_names()
    user = [f.name for f in user_model._meta.concrete_fields]
    columns = [
        *names["token"],
        "application__id",
        "application__user_id",
        *(f"user__{name}" for name in user),
        *(f"application__user__{name}" for name in user),
    ]
    return token_model.objects.filter(token_checksum=checksum).values_list(*columns)[:1]


_TOKEN_QUERY = CompiledQuery(_token_lookup, checksum=str)


def _instance(model, names: list[str], row: tuple, offset: int):
    """A model instance from its columns in `row` (only those loaded); None if its key is null."""
    values = row[offset : offset + len(names)]
    if values[0] is None:
        return None
    return model.from_db(connection.alias, names, values)


def _accept_json_body(request: HttpRequest) -> HttpResponse | None:
    if request.content_type != "application/json":
        return None
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError as exc:
        return error_response(request, errors.error(errors.MALFORMED_JSON, REASON=str(exc)))
    if not isinstance(payload, dict):
        return error_response(request, errors.error(errors.PAYLOAD_NOT_OBJECT))
    form = QueryDict(mutable=True)
    for name, value in payload.items():
        form[name] = value if isinstance(value, str) else json.dumps(value)
    request._post, request._files = form, MultiValueDict()
    return None


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
    wrapped = error_response(request, err)
    body = json.loads(wrapped.content)
    body.update({k: v for k, v in oauth_error.items() if k in ("error", "error_description")})
    out = HttpResponse(json.dumps(body), status=err.status, content_type="application/json")
    for header in ("WWW-Authenticate", "Cache-Control", "Pragma"):
        if header in response:
            out[header] = response[header]
    return out


@csrf_exempt
def token_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(
            request,
            errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path),
        )
    rejected = _accept_json_body(request)
    if rejected is not None:
        return rejected
    return _with_error_body(request, oauth_views.TokenView.as_view()(request))


authorize_view = oauth_views.AuthorizationView.as_view()


def api_client_create(*, user, name: str) -> tuple[str, str]:
    """A confidential client bound to `user` for the client-credentials and authorization-code
    grants. Returns (client_id, client_secret); the secret is stored hashed, so only now is it
    known in the clear."""
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_application_model

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
