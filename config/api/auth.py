"""Bearer tokens from django-oauth-toolkit, looked up with one plain statement; the 401 challenge
names the Bearer scheme. Here, not beside the token endpoint (config.api.oauth): the endpoint's
throttles read a request's client from this module."""

import functools
import hashlib

from django.contrib.auth import get_user_model
from django.db import connection
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from core import sql


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


# What our bearer authentication and the client throttle read of a token; its
# application's key and user, and all of each user (it becomes request.user) come with it.
_TOKEN_FIELDS = ("token", "user", "application", "expires", "scope", "resource")


def load_access_token(token: str):
    """The access token with this value, its application and its user, in one statement.

    DOT's own lookup joins every column of the token and its application; a bearer check reads
    only these (the user stays whole: it becomes request.user). A client-credentials token acts
    as its application's user. Every request runs it: plain SQL, built once (core.sql)."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    statement, layout = _token_statement()
    found = sql.rows(statement, [checksum])
    if not found:
        return None
    row, instances, offset = found[0], [], 0
    for model, names in layout:
        values = row[offset : offset + len(names)]
        offset += len(names)
        # from_db: the documented way to build an instance from loaded values.
        instances.append(
            None if values[0] is None else model.from_db(connection.alias, names, values)
        )
    access_token, application, user, application_user = instances
    if application is not None:
        application.user = application_user
        access_token.application = application
    access_token.user = user or application_user
    return access_token


@functools.cache
def _token_statement() -> tuple[str, list[tuple[type, list[str]]]]:
    """The lookup's SQL, and for each instance it loads (token, application, user, application
    user) its model and the attnames of its columns, in order."""
    token_model = get_access_token_model()
    application_model = get_application_model()
    user_model = get_user_model()
    token, application, user = token_model._meta, application_model._meta, user_model._meta
    token_fields = [token.pk, *(token.get_field(name) for name in _TOKEN_FIELDS)]
    # client_id: the access log names the client (ops.middleware). In the model's field order,
    # as from_db takes them.
    loaded = {application.pk.name, "user", "client_id"}
    application_fields = [f for f in application.concrete_fields if f.name in loaded]
    user_fields = list(user.concrete_fields)
    parts = [
        ("t", token_fields),
        ("a", application_fields),
        ("u", user_fields),
        ("au", user_fields),
    ]
    q = sql.quoted
    columns = ", ".join(f"{alias}.{q(f.column)}" for alias, fields in parts for f in fields)
    user_key = q(user.pk.column)
    application_user = q(application.get_field("user").column)
    statement = (
        f"SELECT {columns} FROM {q(token.db_table)} t"
        f" LEFT JOIN {q(application.db_table)} a ON a.{q(application.pk.column)}"
        f" = t.{q(token.get_field('application').column)}"
        f" LEFT JOIN {q(user.db_table)} u ON u.{user_key} = t.{q(token.get_field('user').column)}"
        f" LEFT JOIN {q(user.db_table)} au ON au.{user_key} = a.{application_user}"
        f" WHERE t.{q(token.get_field('token_checksum').column)} = %s"
    )
    models = [token_model, application_model, user_model, user_model]
    layout = [
        (model, [f.attname for f in fields])
        for model, (_, fields) in zip(models, parts, strict=True)
    ]
    return statement, layout
