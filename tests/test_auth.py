"""Contract section 11: the OAuth2 token endpoint as Intacct clients use it, bearer and session
authentication, Django model permissions, and the create_api_client command."""

import base64
import hashlib
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, identify_hasher, make_password
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, RefreshToken, get_application_model
from rest_framework.test import APIClient

from config import settings as project_settings
from config.api import identity
from config.api.hashers import GeneratedSecretHasher
from config.api.oauth import api_client_create
from inventory import services as inventory_services
from inventory.models import Warehouse
from tests.support.errors import FORBIDDEN, NOT_AUTHENTICATED, assert_error, err
from tests.support.parallel import run_together
from tests.support.users import make_user

TOKEN = "/oauth2/token"
WAREHOUSES = "/objects/inventory-control/warehouse"
TOKEN_MEMBERS = {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
Application = get_application_model()


def assert_oauth_error(response, status, error):
    """A token endpoint failure: the ia::error body and RFC 6749's `error` member."""
    if status == 401:
        expected = err(
            "KS-4013",
            f"OAuth2 request failed: {error}",
            ERROR=error,
        )
    else:
        expected = err(
            "KS-4006",
            f"OAuth2 request failed: {error}",
            ERROR=error,
        )
    assert_error(response, status, expected, error=error)


BAD_CREDENTIALS = err("KS-4012", "The credentials are invalid or have expired")


def assert_token(response, user):
    """A successful grant: all four members Intacct SDKs read, and a token acting as `user`."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == TOKEN_MEMBERS
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read write")
    assert body["access_token"] and body["refresh_token"]
    assert AccessToken.objects.get(token=body["access_token"]).user == user
    return body


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def service_user(db):
    return make_user(
        "svc", "inventory.view_warehouse", "inventory.add_warehouse", "inventory.change_warehouse"
    )


@pytest.fixture
def credentials(service_user):
    return api_client_create(user=service_user, name="integration")


# --- the token endpoint ------------------------------------------------------------------------


def test_client_credentials_as_form_fields(client, service_user, credentials):
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    body = assert_token(response, service_user)
    assert bearer(body["access_token"]).get(WAREHOUSES).status_code == 200


def test_client_credentials_by_http_basic(client, service_user, credentials):
    basic = base64.b64encode(":".join(credentials).encode()).decode()
    response = client.post(
        TOKEN, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    body = assert_token(response, service_user)
    assert bearer(body["access_token"]).get(WAREHOUSES).status_code == 200


def test_client_credentials_as_json_body(service_user, credentials):
    client_id, secret = credentials
    response = APIClient().post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        format="json",
    )
    body = assert_token(response, service_user)
    assert bearer(body["access_token"]).get(WAREHOUSES).status_code == 200


def test_username_naming_the_clients_user_is_accepted(client, service_user, credentials):
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "username": "svc",
        },
    )
    assert_token(response, service_user)


@pytest.mark.parametrize("username", ["admin", "SVC", "nobody"])
def test_username_naming_another_user_is_refused(client, admin_user, credentials, username):
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "username": username,
        },
    )
    assert_oauth_error(response, 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_client_of_an_inactive_user_gets_no_token(client, service_user, credentials):
    service_user.is_active = False
    service_user.save()
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert_oauth_error(response, 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def client_credentials_token(credentials) -> dict:
    client_id, secret = credentials
    return (
        APIClient()
        .post(
            TOKEN,
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        .json()
    )


def refresh(credentials, refresh_token):
    client_id, secret = credentials
    return APIClient().post(
        TOKEN,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": secret,
        },
    )


def test_refresh_token_grant(service_user, credentials):
    first = client_credentials_token(credentials)
    refreshed = assert_token(refresh(credentials, first["refresh_token"]), service_user)
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert bearer(refreshed["access_token"]).get(WAREHOUSES).status_code == 200
    # Contract 11: the access token issued before stays valid until it expires...
    assert bearer(first["access_token"]).get(WAREHOUSES).status_code == 200
    assert AccessToken.objects.count() == 2
    AccessToken.objects.filter(token=first["access_token"]).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_error(bearer(first["access_token"]).get(WAREHOUSES), 401, BAD_CREDENTIALS)
    assert bearer(refreshed["access_token"]).get(WAREHOUSES).status_code == 200


def test_previous_refresh_token_works_for_the_grace_period(service_user, credentials):
    first = client_credentials_token(credentials)
    refreshed = assert_token(refresh(credentials, first["refresh_token"]), service_user)
    # Within REFRESH_TOKEN_GRACE_SECONDS a second refresh (another worker) gets the same pair.
    again = assert_token(refresh(credentials, first["refresh_token"]), service_user)
    assert again == refreshed
    assert (AccessToken.objects.count(), RefreshToken.objects.count()) == (2, 2)
    # Once the grace period is over the old refresh token is refused, and its replay revokes
    # the tokens refreshed from it (RFC 9700 reuse protection); the first access token lives on.
    RefreshToken.objects.filter(revoked__isnull=False).update(
        revoked=timezone.now() - timedelta(seconds=121)
    )
    assert_oauth_error(refresh(credentials, first["refresh_token"]), 400, "invalid_grant")
    assert_error(bearer(refreshed["access_token"]).get(WAREHOUSES), 401, BAD_CREDENTIALS)
    assert_oauth_error(refresh(credentials, refreshed["refresh_token"]), 400, "invalid_grant")
    assert bearer(first["access_token"]).get(WAREHOUSES).status_code == 200


def test_grace_period_follows_the_setting(service_user, credentials, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0}
    first = client_credentials_token(credentials)
    assert_token(refresh(credentials, first["refresh_token"]), service_user)
    assert_oauth_error(refresh(credentials, first["refresh_token"]), 400, "invalid_grant")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel requests: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_get_the_same_pair(service_user, credentials):
    first = client_credentials_token(credentials)
    answers = run_together([lambda: refresh(credentials, first["refresh_token"])] * 4)
    bodies = [assert_token(answer, service_user) for answer in answers]
    assert all(body == bodies[0] for body in bodies)
    assert (AccessToken.objects.count(), RefreshToken.objects.count()) == (2, 2)
    for token in (first["access_token"], bodies[0]["access_token"]):
        assert bearer(token).get(WAREHOUSES).status_code == 200


def test_authorization_code_grant_end_to_end(service_user):
    owner = make_user("owner")
    redirect_uri = "https://client.example.com/callback"
    secret = "code-flow-secret-0123456789"
    application = Application.objects.create(
        name="web app",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        client_secret=secret,
    )
    browser = APIClient()
    assert browser.login(username="svc", password="pw-svc")
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": redirect_uri,
        "state": "xyz-state",
        "scope": "read write",
    }
    page = browser.get("/oauth2/authorize", query)
    assert page.status_code == 200
    assert page.context["application"] == application
    form = {name: value for name, value in page.context["form"].initial.items() if value}
    assert form["client_id"] == application.client_id

    approved = browser.post("/oauth2/authorize", {**form, "allow": "Authorize"})
    assert approved.status_code == 302
    location = urlsplit(approved["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == ["xyz-state"]

    exchanged = APIClient().post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": application.client_id,
            "client_secret": secret,
        },
    )
    # The token acts as the user who approved, not the application's owner.
    body = assert_token(exchanged, service_user)
    created = bearer(body["access_token"]).post(
        WAREHOUSES, {"id": "WH1", "name": "Main"}, format="json"
    )
    assert created.status_code == 201
    assert Warehouse.objects.get().created_by == service_user


def authorize(browser, application, redirect_uri, **extra):
    """The user approves the application's request; the redirect back to the client."""
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": redirect_uri,
        "scope": "read write",
        **extra,
    }
    page = browser.get("/oauth2/authorize", query)
    if page.status_code != 200:
        return page
    form = {name: value for name, value in page.context["form"].initial.items() if value}
    return browser.post("/oauth2/authorize", {**form, "allow": "Authorize"})


def test_public_client_needs_pkce(service_user):
    redirect_uri = "https://app.example.com/callback"
    application = Application.objects.create(
        name="mobile app",
        user=make_user("owner"),
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
    )
    browser = APIClient()
    browser.force_login(service_user)
    # Without a code challenge, or with the "plain" method: refused back to the client.
    for extra in ({}, {"code_challenge": "x" * 43, "code_challenge_method": "plain"}):
        refused = authorize(browser, application, redirect_uri, **extra)
        assert refused.status_code == 302
        assert parse_qs(urlsplit(refused["Location"]).query)["error"] == ["invalid_request"]
    verifier = "a-long-enough-code-verifier-0123456789-abcdefghij"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    approved = authorize(
        browser,
        application,
        redirect_uri,
        code_challenge=challenge.decode().rstrip("="),
        code_challenge_method="S256",
    )
    assert approved.status_code == 302
    code = parse_qs(urlsplit(approved["Location"]).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": application.client_id,
    }
    wrong = APIClient().post(TOKEN, {**exchange, "code_verifier": "not-the-verifier" * 3})
    assert_oauth_error(wrong, 400, "invalid_grant")
    # A failed exchange invalidates the code (RFC 6749 4.1.2): authorize again.
    approved = authorize(
        browser,
        application,
        redirect_uri,
        code_challenge=challenge.decode().rstrip("="),
        code_challenge_method="S256",
    )
    exchange["code"] = parse_qs(urlsplit(approved["Location"]).query)["code"][0]
    body = assert_token(
        APIClient().post(TOKEN, {**exchange, "code_verifier": verifier}), service_user
    )
    assert bearer(body["access_token"]).get(WAREHOUSES).status_code == 200


def test_bad_client_secret_is_401(client, credentials):
    client_id, _ = credentials
    response = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"},
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not AccessToken.objects.exists()


def test_bad_client_secret_by_http_basic_is_401(client, credentials):
    basic = base64.b64encode(f"{credentials[0]}:wrong".encode()).decode()
    response = client.post(
        TOKEN, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    ("grant", "error"),
    [("bogus", "unsupported_grant_type"), ("password", "unsupported_grant_type")],
)
def test_grant_the_client_may_not_use_is_400(client, credentials, grant, error):
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {
            "grant_type": grant,
            "client_id": client_id,
            "client_secret": secret,
            "username": "svc",
            "password": "pw-svc",
        },
    )
    assert_oauth_error(response, 400, error)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "grant", ["password", "urn:ietf:params:oauth:grant-type:device_code", "implicit"]
)
def test_only_three_grants_exist_whatever_a_client_is_registered_for(service_user, grant):
    # Contract 11: even an application registered for the grant in the admin gets no token.
    grant_types = {"password": Application.GRANT_PASSWORD, "implicit": Application.GRANT_IMPLICIT}
    application = Application.objects.create(
        name="legacy",
        user=service_user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant_types.get(grant, Application.GRANT_DEVICE_CODE),
        client_secret="legacy-secret-0123456789",
        redirect_uris="https://client.example.com/callback",
    )
    response = APIClient().post(
        TOKEN,
        {
            "grant_type": grant,
            "client_id": application.client_id,
            "client_secret": "legacy-secret-0123456789",
            "username": "svc",
            "password": "pw-svc",
            "device_code": "any",
        },
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert not AccessToken.objects.exists()


def test_implicit_grant_is_refused_at_the_authorization_endpoint(service_user):
    redirect_uri = "https://client.example.com/callback"
    application = Application.objects.create(
        name="spa",
        user=service_user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_IMPLICIT,
        redirect_uris=redirect_uri,
    )
    browser = APIClient()
    browser.force_login(service_user)
    query = {"response_type": "token", "client_id": application.client_id}
    response = browser.get("/oauth2/authorize", {**query, "redirect_uri": redirect_uri})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert parse_qs(location.query)["error"] == ["unsupported_response_type"]
    assert "access_token" not in response["Location"]
    assert not AccessToken.objects.exists()


def test_unknown_refresh_token_is_400(client, credentials):
    client_id, secret = credentials
    response = client.post(
        TOKEN,
        {
            "grant_type": "refresh_token",
            "refresh_token": "not-a-token",
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert_oauth_error(response, 400, "invalid_grant")


def test_token_endpoint_refuses_get(client):
    response = client.get(TOKEN)
    assert_error(
        response,
        405,
        err(
            "KS-4051",
            f"Method GET is not allowed on {TOKEN}",
            METHOD="GET",
            PATH=TOKEN,
        ),
    )


def test_token_endpoint_malformed_json_is_400(client):
    response = client.post(TOKEN, "{", content_type="application/json")
    reason = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert_error(
        response,
        400,
        err(
            "KS-4001",
            f"Request body is not valid JSON: {reason}",
            REASON=reason,
        ),
    )


def test_token_endpoint_multipart_without_a_boundary_is_400(client, db):
    response = client.post(TOKEN, "grant_type=x", content_type="multipart/form-data")
    reason = "the body is not valid multipart/form-data"
    assert_error(response, 400, err("KS-4005", f"Bad request: {reason}", REASON=reason))


# --- client secrets: hashed, cheap to check, one cost whatever the outcome -----------------------

HASHED: list[tuple[str, str]] = []  # (what, algorithm) of each hash computed, in order


class Counted:
    """Records each hash a registered hasher computes, then computes it as the hasher does."""

    def verify(self, password, encoded):
        HASHED.append(("verify", self.algorithm))
        return super().verify(password, encoded)

    def encode(self, password, salt):
        HASHED.append(("encode", self.algorithm))
        return super().encode(password, salt)


class CountedMD5Hasher(Counted, MD5PasswordHasher):
    """The tests' default hasher (cheap in place of PBKDF2)."""


class CountedSecretHasher(Counted, GeneratedSecretHasher):
    """The project's client-secret hasher."""


@pytest.fixture
def hashed(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountedMD5Hasher", f"{__name__}.CountedSecretHasher"]
    HASHED.clear()
    return HASHED


def algorithm_of(client_id: str) -> str:
    return identify_hasher(Application.objects.get(client_id=client_id).client_secret).algorithm


def test_generated_secrets_get_the_cheap_hasher_and_passwords_keep_pbkdf2(settings, db):
    # The project's own hasher list, not the tests' cheap one.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = make_user("svc-pbkdf2")
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256"
    client_id, secret = api_client_create(user=user, name="integration")
    assert algorithm_of(client_id) == "hmac_sha256"
    stored = Application.objects.get(client_id=client_id).client_secret
    assert secret not in stored
    assert make_password(secret, salt=stored.split("$")[1], hasher="hmac_sha256") == stored


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    }


@pytest.mark.parametrize(
    ("client_id", "secret", "by_basic", "status"),
    [
        ("known", "right", False, 200),
        ("known", "right", True, 200),
        ("known", "wrong", False, 401),
        ("known", "wrong", True, 401),
        ("known", "", False, 401),
        ("unknown", "wrong", False, 401),
        ("unknown", "wrong", True, 401),
        ("unknown", "", False, 401),
        ("nul", "wrong", False, 401),  # a client id PostgreSQL cannot even compare
    ],
)
def test_every_outcome_costs_one_check_with_the_secret_hasher(
    client, service_user, hashed, client_id, secret, by_basic, status
):
    # Contract 11: an unknown client id, a wrong and a right secret do the same hashing work, so
    # timing tells no client id apart (DOT hashed nothing for an unknown id).
    known_id, known_secret = api_client_create(user=service_user, name="integration")
    sent_id = {"known": known_id, "unknown": "no-such-client-id", "nul": "bad\x00id"}[client_id]
    sent_secret = {"right": known_secret, "wrong": "x" * len(known_secret), "": ""}[secret]

    def send():
        if by_basic:
            return client.post(
                TOKEN, {"grant_type": "client_credentials"}, **basic(sent_id, sent_secret)
            )
        form = {"grant_type": "client_credentials", "client_id": sent_id}
        return client.post(TOKEN, {**form, "client_secret": sent_secret})

    send()  # a process makes its stand-in hash for unknown clients once, at the first
    hashed.clear()
    response = send()
    if status == 200:
        assert_token(response, service_user)
    else:
        assert_oauth_error(response, 401, "invalid_client")
        assert not AccessToken.objects.exists()
    assert hashed == [("verify", "hmac_sha256")]


def stored_with_pbkdf2(user, secret: str):
    """A client whose secret was stored before the client-secret hasher (DOT hashed it with the
    default, PBKDF2)."""
    return Application.objects.create(
        name="stored before",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=make_password(secret, hasher="pbkdf2_sha256"),
    )


def test_a_secret_stored_with_pbkdf2_keeps_working_and_is_stored_again(settings, service_user):
    # Secrets stored before the client-secret hasher (DOT hashed them with the default, PBKDF2).
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    secret = generate_client_secret()
    application = stored_with_pbkdf2(service_user, secret)
    form = {"grant_type": "client_credentials", "client_id": application.client_id}
    wrong = APIClient().post(TOKEN, {**form, "client_secret": secret[::-1]})
    assert_oauth_error(wrong, 401, "invalid_client")
    assert algorithm_of(application.client_id) == "pbkdf2_sha256"

    assert_token(APIClient().post(TOKEN, {**form, "client_secret": secret}), service_user)
    assert algorithm_of(application.client_id) == "hmac_sha256"
    assert_token(APIClient().post(TOKEN, {**form, "client_secret": secret}), service_user)
    wrong = APIClient().post(TOKEN, {**form, "client_secret": secret[::-1]})
    assert_oauth_error(wrong, 401, "invalid_client")


def test_a_secret_a_person_chose_keeps_the_slow_default_hasher(client, service_user, hashed):
    # The cheap hasher is safe only for generated secrets: a short one may be guessable.
    application = Application.objects.create(
        name="typed in the admin",
        user=service_user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="a-person-chose-this",
    )
    assert algorithm_of(application.client_id) == "md5"  # the tests' default, PBKDF2 in production
    hashed.clear()
    form = {"grant_type": "client_credentials", "client_id": application.client_id}
    assert_token(client.post(TOKEN, {**form, "client_secret": "a-person-chose-this"}), service_user)
    # Checked with the default hasher (MD5's check encodes), and not hashed again.
    assert algorithm_of(application.client_id) == "md5"
    assert hashed == [("verify", "md5"), ("encode", "md5")]


def admin_application_form(client_id: str, user, secret: str) -> dict:
    return {
        "client_id": client_id,
        "user": str(user.pk),
        "redirect_uris": "",
        "post_logout_redirect_uris": "",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "client_secret": secret,
        "hash_client_secret": "on",
        "name": "typed in the admin",
        "algorithm": "",
        "allowed_origins": "",
    }


def test_the_admin_refuses_a_client_secret_too_short_to_be_generated(admin_client, service_user):
    # A short secret would be checked with PBKDF2, an unknown id with one HMAC: timing would
    # tell the client apart. Every secret the admin stores is as long as a generated one.
    add = "/admin/oauth2_provider/application/add/"
    short = admin_application_form("typed-short", service_user, "a-person-chose-this")
    response = admin_client.post(add, short)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "client_secret": [
            "A client secret has at least 32 characters: keep the generated one, or run "
            "manage.py create_api_client --rotate."
        ]
    }
    assert not Application.objects.exists()

    secret = "s" * 32
    response = admin_client.post(add, admin_application_form("typed", service_user, secret))
    assert response.status_code == 302
    assert algorithm_of("typed") == "hmac_sha256"
    # Changed with its stored hash (as the form shows it): the secret stays what it was.
    application = Application.objects.get()
    change = f"/admin/oauth2_provider/application/{application.pk}/change/"
    form = admin_application_form("typed", service_user, application.client_secret)
    assert admin_client.post(change, form).status_code == 302
    form = {"grant_type": "client_credentials", "client_id": "typed", "client_secret": secret}
    assert_token(APIClient().post(TOKEN, form), service_user)


def test_rotate_gives_a_client_stored_with_pbkdf2_a_new_generated_secret(settings, service_user):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    old = generate_client_secret()
    application = stored_with_pbkdf2(service_user, old)
    out = io.StringIO()
    call_command("create_api_client", "--rotate", application.client_id, stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["client_id"] == application.client_id
    assert len(printed["client_secret"]) == len(old)
    assert algorithm_of(application.client_id) == "hmac_sha256"
    form = {"grant_type": "client_credentials", "client_id": application.client_id}
    assert_token(
        APIClient().post(TOKEN, {**form, "client_secret": printed["client_secret"]}), service_user
    )
    wrong = APIClient().post(TOKEN, {**form, "client_secret": old})
    assert_oauth_error(wrong, 401, "invalid_client")


def test_rotate_of_an_unknown_client_changes_nothing(service_user):
    api_client_create(user=service_user, name="integration")
    stored = Application.objects.get().client_secret
    with pytest.raises(CommandError, match="No client with id 'ghost'"):
        call_command("create_api_client", "--rotate", "ghost", stdout=io.StringIO())
    assert Application.objects.get().client_secret == stored


# --- bearer authentication ---------------------------------------------------------------------


def test_no_credentials_is_401_with_bearer_challenge(client):
    response = client.get(WAREHOUSES)
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == 'Bearer realm="kitsmith"'


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer", "bearer nope nope"])
def test_bad_token_is_401_with_bearer_challenge(db, header):
    client = APIClient()
    response = client.get(WAREHOUSES, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, BAD_CREDENTIALS)
    assert response["WWW-Authenticate"].startswith('Bearer realm="kitsmith"')


def test_expired_token_is_401(client, service_user, credentials):
    client_id, secret = credentials
    token = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    AccessToken.objects.filter(token=token).update(expires=timezone.now() - timedelta(seconds=1))
    response = bearer(token).get(WAREHOUSES)
    assert_error(response, 401, BAD_CREDENTIALS)
    assert response["WWW-Authenticate"] == (
        'Bearer realm="kitsmith",error="invalid_token",'
        'error_description="The access token has expired."'
    )


def test_token_of_a_deactivated_user_is_401(client, service_user, credentials):
    client_id, secret = credentials
    token = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    assert bearer(token).get(WAREHOUSES).status_code == 200
    service_user.is_active = False
    service_user.save()
    assert_error(bearer(token).get(WAREHOUSES), 401, BAD_CREDENTIALS)


def test_bad_token_writes_nothing(db):
    response = bearer("not-a-token").post(WAREHOUSES, {"id": "W", "name": "x"}, format="json")
    assert_error(response, 401, BAD_CREDENTIALS)
    assert not Warehouse.objects.exists()


def test_client_credentials_token_acts_as_the_applications_user(client, service_user, credentials):
    client_id, secret = credentials
    token = client.post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    api = bearer(token)
    created = api.post(WAREHOUSES, {"id": "WH1", "name": "Main"}, format="json")
    assert created.status_code == 201
    warehouse = Warehouse.objects.get()
    assert (warehouse.created_by, warehouse.modified_by) == (service_user, service_user)
    user_ref = {
        "key": str(service_user.pk),
        "id": "svc",
        "href": f"/objects/company-config/user/{service_user.pk}",
    }
    audit = api.get(identity.href(warehouse)).json()["ia::result"]["audit"]
    assert (audit["createdByUser"], audit["modifiedByUser"]) == (user_ref, user_ref)


# --- Django model permissions ------------------------------------------------------------------


def token_for(user):
    client_id, secret = api_client_create(user=user, name=f"{user.username} client")
    response = APIClient().post(
        TOKEN,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return bearer(response.json()["access_token"])


@pytest.fixture
def warehouse(admin_user):
    return inventory_services.warehouse_create(user=admin_user, code="WH1", name="Main")


def test_view_permission_reads_but_cannot_write(warehouse):
    reader = token_for(make_user("reader", "inventory.view_warehouse"))
    before = list(Warehouse.objects.values())
    assert reader.get(WAREHOUSES).status_code == 200
    assert reader.get(identity.href(warehouse)).status_code == 200
    assert_error(reader.post(WAREHOUSES, {"id": "W2", "name": "x"}, format="json"), 403, FORBIDDEN)
    assert_error(
        reader.patch(identity.href(warehouse), {"name": "x"}, format="json"), 403, FORBIDDEN
    )
    assert_error(reader.delete(identity.href(warehouse)), 403, FORBIDDEN)
    assert list(Warehouse.objects.values()) == before


def test_no_permission_cannot_even_read(warehouse):
    nobody = token_for(make_user("nobody"))
    assert_error(nobody.get(WAREHOUSES), 403, FORBIDDEN)
    assert_error(nobody.get(identity.href(warehouse)), 403, FORBIDDEN)


def test_each_write_needs_its_own_permission(warehouse):
    adder = token_for(make_user("adder", "inventory.view_warehouse", "inventory.add_warehouse"))
    assert adder.post(WAREHOUSES, {"id": "W2", "name": "x"}, format="json").status_code == 201
    assert_error(
        adder.patch(identity.href(warehouse), {"name": "x"}, format="json"), 403, FORBIDDEN
    )
    assert_error(adder.delete(identity.href(warehouse)), 403, FORBIDDEN)
    deleter = token_for(make_user("deleter", "inventory.delete_warehouse"))
    assert deleter.delete(identity.href(warehouse)).status_code == 204


# --- session authentication --------------------------------------------------------------------


CSRF_TOKEN = "abcdefghijklmnopqrstuvwxyz012345"


def test_session_login_reads_and_csrf_protects_writes(service_user, warehouse):
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="svc", password="pw-svc")
    assert browser.get(WAREHOUSES).status_code == 200

    refused = browser.post(WAREHOUSES, {"id": "W2", "name": "x"}, format="json")
    assert_error(refused, 403, FORBIDDEN)
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["WH1"]

    browser.cookies["csrftoken"] = CSRF_TOKEN
    accepted = browser.post(
        WAREHOUSES, {"id": "W2", "name": "x"}, format="json", HTTP_X_CSRFTOKEN=CSRF_TOKEN
    )
    assert accepted.status_code == 201
    assert Warehouse.objects.get(code="W2").created_by == service_user


# --- create_api_client -------------------------------------------------------------------------


def test_create_api_client_prints_working_credentials(client, service_user):
    out = io.StringIO()
    call_command("create_api_client", "--user", "svc", "--name", "Integration", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    printed = json.loads(lines[0])
    assert set(printed) == {"client_id", "client_secret"}
    application = Application.objects.get()
    assert (application.name, application.user, application.client_id) == (
        "Integration",
        service_user,
        printed["client_id"],
    )
    # Stored hashed: the printed secret is the only clear copy.
    assert application.client_secret != printed["client_secret"]
    response = client.post(TOKEN, {"grant_type": "client_credentials", **printed})
    assert_token(response, service_user)


def test_create_api_client_default_name(service_user):
    call_command("create_api_client", "--user", "svc", stdout=io.StringIO())
    assert Application.objects.get().name == "svc API client"


def test_create_api_client_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_client", "--user", "ghost", stdout=io.StringIO())
    assert not Application.objects.exists()


def create_api_client(*args) -> dict:
    out = io.StringIO()
    call_command("create_api_client", "--user", "svc", "--name", "Integration", *args, stdout=out)
    return json.loads(out.getvalue())


def test_create_api_client_keep_reuses_the_named_client(client, service_user):
    first = create_api_client("--keep")  # none yet: made
    stored = list(Application.objects.values_list("pk", "client_id", "client_secret"))
    # The secret was printed once, when made: it is stored hashed and not known again.
    assert create_api_client("--keep") == {"client_id": first["client_id"], "client_secret": None}
    assert list(Application.objects.values_list("pk", "client_id", "client_secret")) == stored
    response = client.post(TOKEN, {"grant_type": "client_credentials", **first})
    assert_token(response, service_user)


def test_create_api_client_replace_deletes_the_named_clients(client, service_user):
    old = create_api_client()
    other = create_api_client("--name", "Other")
    new = create_api_client("--replace")
    assert new["client_id"] != old["client_id"]
    assert sorted(Application.objects.values_list("client_id", flat=True)) == sorted(
        [other["client_id"], new["client_id"]]
    )
    refused = client.post(TOKEN, {"grant_type": "client_credentials", **old})
    assert refused.status_code == 401
    accepted = client.post(TOKEN, {"grant_type": "client_credentials", **new})
    assert_token(accepted, service_user)


def test_create_api_client_keep_or_replace_only_for_a_new_client(service_user):
    with pytest.raises(CommandError):
        call_command("create_api_client", "--rotate", "x", "--keep", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_client", "--user", "svc", "--keep", "--replace")
