"""Contract 11 and 16: the RateLimit headers of throttled answers, the token endpoint throttled
per client id and per address before any client lookup (so before any secret is hashed), and the
client's address taken from X-Forwarded-For only behind TRUSTED_PROXIES. Shared counting across
processes is tests/test_scale_out.py's."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from config.api.oauth import api_client_create
from ops.middleware import ClientAddressMiddleware, client_address, trusted_networks
from tests.support.errors import assert_error, err
from tests.support.protocol import WAREHOUSES
from tests.support.server import free_port
from tests.support.users import make_user

TOKEN = "/oauth2/token"


def throttled(seconds: int) -> dict:
    return err("KS-4291", f"Too many requests: retry in {seconds} seconds", SECONDS=seconds)


def rate_limit(response) -> tuple[str, str, str]:
    return (
        response["RateLimit-Limit"],
        response["RateLimit-Remaining"],
        response["RateLimit-Reset"],
    )


def assert_client_id_throttled(response) -> None:
    """A 429 refused by a client id's bucket, whose count the headers do not show."""
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    assert response["RateLimit-Limit"] == "60"  # the address's window (THROTTLE_RATE_TOKEN_ADDRESS)
    assert_error(response, 429, throttled(seconds))


def assert_throttled(response, limit: int) -> None:
    """A 429 whose Retry-After is its window's RateLimit-Reset."""
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    assert rate_limit(response) == (str(limit), "0", str(seconds))
    assert_error(response, 429, throttled(seconds))


# --- RateLimit headers -------------------------------------------------------------------------


def test_throttled_answers_report_their_window(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "3/min", "anon": "3/min"},
    }
    first = api.get(WAREHOUSES)
    # The request opening the window: all of it is ahead.
    assert (first.status_code, rate_limit(first)) == (200, ("3", "2", "60"))
    answers = [api.get(WAREHOUSES), api.post(WAREHOUSES, {"id": "W1", "name": "x"}, format="json")]
    assert [a.status_code for a in answers] == [200, 201]
    assert [a["RateLimit-Remaining"] for a in answers] == ["1", "0"]
    assert all(
        a["RateLimit-Limit"] == "3" and 1 <= int(a["RateLimit-Reset"]) <= 60 for a in answers
    )
    assert_throttled(api.get(WAREHOUSES), 3)
    assert "RateLimit-Limit" not in api.get("/healthz")  # not throttled, nothing to report


def test_graphql_answers_report_the_same_window(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "2/min", "anon": "2/min"},
    }
    assert api.get(WAREHOUSES)["RateLimit-Remaining"] == "1"
    answered = api.post("/graphql", {"query": "{ __typename }"}, format="json")
    assert (answered.status_code, rate_limit(answered)[:2]) == (200, ("2", "0"))
    assert_throttled(api.post("/graphql", {"query": "{ __typename }"}, format="json"), 2)


# --- the token endpoint ------------------------------------------------------------------------


@pytest.fixture
def service_user(db):
    return make_user("svc", "inventory.view_warehouse")


def grant(client_id: str, secret: str) -> dict:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_token_requests_are_throttled_per_client_id(
    client, service_user, settings, django_assert_num_queries
):
    settings.THROTTLE_RATE_TOKEN_CLIENT = "3/min"
    client_id, secret = api_client_create(user=service_user, name="integration")
    # Form field, HTTP Basic and JSON body all count for the client id they name, right or wrong.
    assert client.post(TOKEN, grant(client_id, secret)).status_code == 200
    wrong = client.post(
        TOKEN, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client_id, "wrong")
    )
    assert wrong.status_code == 401
    json_body = APIClient().post(TOKEN, grant(client_id, secret), format="json")
    assert (json_body.status_code, rate_limit(json_body)[:2]) == (200, ("60", "57"))
    tokens = AccessToken.objects.count()

    # Refused before the client is looked up: no statement, so no secret hashed.
    with django_assert_num_queries(0):
        refused = client.post(TOKEN, grant(client_id, secret))

    assert_client_id_throttled(refused)
    assert AccessToken.objects.count() == tokens
    assert_client_id_throttled(client.post(TOKEN, grant(client_id, "wrong")))
    other_id, other_secret = api_client_create(user=service_user, name="other")
    assert client.post(TOKEN, grant(other_id, other_secret)).status_code == 200


def test_a_flood_naming_a_client_id_does_not_lock_it_out_elsewhere(client, service_user, settings):
    settings.THROTTLE_RATE_TOKEN_CLIENT = "2/min"
    client_id, secret = api_client_create(user=service_user, name="integration")
    flood = [
        client.post(TOKEN, grant(client_id, "guess"), REMOTE_ADDR="192.0.2.66") for _ in range(3)
    ]
    assert [answer.status_code for answer in flood] == [401, 401, 429]
    assert (
        client.post(TOKEN, grant(client_id, secret), REMOTE_ADDR="198.51.100.7").status_code == 200
    )


def test_unknown_client_ids_are_throttled_as_known_ones(client, db, settings):
    settings.THROTTLE_RATE_TOKEN_CLIENT = "2/min"
    answers = [client.post(TOKEN, grant("no-such-client", "guess")) for _ in range(2)]
    assert [a.status_code for a in answers] == [401, 401]
    assert_client_id_throttled(client.post(TOKEN, grant("no-such-client", "guess")))


def test_the_headers_do_not_tell_a_used_client_id_from_an_unused_one(client, service_user):
    client_id, secret = api_client_create(user=service_user, name="integration")
    for _ in range(3):
        client.post(TOKEN, grant(client_id, secret), REMOTE_ADDR="192.0.2.1")
    used = client.post(TOKEN, grant(client_id, "guess"), REMOTE_ADDR="192.0.2.2")
    unused = client.post(TOKEN, grant("no-such-client", "guess"), REMOTE_ADDR="192.0.2.3")
    assert used.status_code == unused.status_code == 401
    # Each shows its address's fresh window only.
    assert rate_limit(used)[:2] == rate_limit(unused)[:2] == ("60", "59")


def test_token_requests_are_throttled_per_address(client, service_user, settings):
    settings.THROTTLE_RATE_TOKEN_ADDRESS = "2/min"
    clients = [api_client_create(user=service_user, name=f"client {n}") for n in range(4)]
    statuses = [
        client.post(TOKEN, grant(*c), REMOTE_ADDR="192.0.2.1").status_code for c in clients[:2]
    ]
    assert statuses == [200, 200]

    refused = client.post(TOKEN, grant(*clients[2]), REMOTE_ADDR="192.0.2.1")

    assert_throttled(refused, 2)
    assert client.post(TOKEN, grant(*clients[3]), REMOTE_ADDR="192.0.2.2").status_code == 200


def anonymous_rate(settings, rate: str) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_ipv6_addresses_are_counted_by_their_64(client, db, settings):
    settings.THROTTLE_RATE_TOKEN_ADDRESS = "1/min"
    anonymous_rate(settings, "1/min")
    # Two addresses of one /64, then one of the next /64.
    addresses = ("2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "2001:db8:0:2::1")
    tokens = [
        client.post(TOKEN, grant("no-such-client", "guess"), REMOTE_ADDR=a) for a in addresses
    ]
    assert [answer.status_code for answer in tokens] == [401, 429, 401]
    anonymous = [APIClient().get("/api/docs/", REMOTE_ADDR=a) for a in addresses]
    assert [answer.status_code for answer in anonymous] == [200, 429, 200]


def test_windows_of_many_callers_do_not_evict_each_other(client, db, settings):
    anonymous_rate(settings, "1/min")
    assert client.get("/api/docs/", REMOTE_ADDR="192.0.2.1").status_code == 200
    for n in range(200):  # 400 cache entries of other addresses' windows
        client.get("/api/docs/", REMOTE_ADDR=f"198.51.100.{n}")
    assert client.get("/api/docs/", REMOTE_ADDR="192.0.2.1").status_code == 429


def test_a_redis_that_does_not_answer_is_a_503_with_retry_after(api, client, settings):
    """Fail closed: a throttle that cannot count refuses rather than admit without limit."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    unavailable = err("KS-5035", "The shared cache is unavailable: retry in 1 seconds", SECONDS=1)
    for response in (api.get(WAREHOUSES), client.post(TOKEN, grant("no-such-client", "guess"))):
        assert_error(response, 503, unavailable)
        assert response["Retry-After"] == "1"


# --- X-Forwarded-For and TRUSTED_PROXIES -------------------------------------------------------


def token_statuses(client, *requests: tuple[str, str]) -> list[int]:
    """Statuses of wrong token requests, each from (peer address, X-Forwarded-For), under a
    limit of one a minute per address: 401 where the address is new, 429 where it is not."""
    return [
        client.post(
            TOKEN,
            grant("no-such-client", "guess"),
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code
        for peer, forwarded in requests
    ]


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client, db, settings):
    settings.THROTTLE_RATE_TOKEN_ADDRESS = "1/min"
    settings.TRUSTED_PROXIES = []
    # A client naming a new address each time is still its peer address.
    assert token_statuses(client, ("127.0.0.1", "198.51.100.1"), ("127.0.0.1", "198.51.100.2")) == [
        401,
        429,
    ]


def test_x_forwarded_for_is_believed_from_a_trusted_proxy_only(client, db, settings):
    settings.THROTTLE_RATE_TOKEN_ADDRESS = "1/min"
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert token_statuses(
        client,
        ("127.0.0.1", "198.51.100.1"),  # the proxy says who it serves
        ("127.0.0.1", "198.51.100.2"),  # another client behind it
        # What the client wrote itself (left of what the proxies appended) changes nothing.
        ("127.0.0.1", "203.0.113.66, 198.51.100.1"),
        # A chain of trusted proxies: the right-most address that is none of them.
        ("127.0.0.1", "203.0.113.67, 198.51.100.2, 10.1.2.3"),
        # An untrusted peer's X-Forwarded-For is not believed: it is 192.0.2.9 (new), then again.
        ("192.0.2.9", "198.51.100.3"),
        ("192.0.2.9", "198.51.100.4"),
    ) == [401, 401, 429, 429, 401, 429]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.9", "198.51.100.1", "192.0.2.9"),
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", " 203.0.113.1 ,198.51.100.1 , 10.0.0.2", "198.51.100.1"),
        ("::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"),  # a dual-stack socket's peer
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "[2001:db8::2]", "2001:db8::2"),
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all trusted: the first hop
        ("127.0.0.1", "unknown, 10.0.0.2", "10.0.0.2"),  # not an address: the last one believed
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_client_address(peer, forwarded, client):
    trusted = trusted_networks(("127.0.0.1", "10.0.0.0/8"))
    assert client_address(peer, forwarded, trusted) == client


def test_a_wrong_trusted_proxy_fails_at_start(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured) as raised:
        ClientAddressMiddleware(lambda request: None)
    assert str(raised.value) == (
        "TRUSTED_PROXIES: 'proxy.internal' does not appear to be an IPv4 or IPv6 network"
    )
