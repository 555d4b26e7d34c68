"""The published Intacct Python SDK (PyPI sageintacctrestsdk 1.9.0) as a client of a live server.

The SDK is used as released. Its one assumption about where Intacct lives is the module constant
`BASE_URL` (`https://api.intacct.com/ia/api/v1`), which `intacctsdk.intacctsdk` and
`intacctsdk.apis.api_base` each import by name; neither the SDK nor ApiBase takes a base URL, so
the `sdk_base` fixture sets that constant in those two modules to the live server's
`/ia/api/v1`. Nothing else of the SDK is changed."""

import importlib
import json

import pytest
from intacctsdk import BadRequestError, IntacctRESTSDK
from intacctsdk.apis import ApiBase
from oauth2_provider.models import AccessToken

from config.api.oauth import api_client_create
from inventory.models import Item, Warehouse
from kitcomponents.models import KitComponent
from tests.support.factories import part, warehouse
from tests.support.refs import ONE, created, href

SDK_MODULES = ("intacctsdk.intacctsdk", "intacctsdk.apis.api_base")
KIT_COMPONENT = "/objects/inventory-control/kit-component"


@pytest.fixture
def sdk_base(live_server, monkeypatch):
    base = f"{live_server.url}/ia/api/v1"
    for module in SDK_MODULES:
        monkeypatch.setattr(importlib.import_module(module), "BASE_URL", base)
    return base


@pytest.fixture
def credentials(sdk_base, admin_user):
    return api_client_create(user=admin_user, name="sdk")


def connect(credentials, **kwargs) -> IntacctRESTSDK:
    client_id, client_secret = credentials
    return IntacctRESTSDK(client_id=client_id, client_secret=client_secret, **kwargs)


def object_api(sdk: IntacctRESTSDK, path: str, **kwargs) -> ApiBase:
    """An SDK object API for a path the SDK has no class for, as its README shows."""
    api = ApiBase(sdk, object_path=path, **kwargs)
    api.update_access_token(sdk.access_token)
    return api


def test_client_credentials_token_with_username(credentials, admin_user):
    sdk = connect(credentials, username="admin")
    assert sdk.access_token and sdk.refresh_token
    assert sdk.access_token_expires_in == 3600
    assert AccessToken.objects.get(token=sdk.access_token).user == admin_user
    with pytest.raises(BadRequestError) as refused:
        connect(credentials, username="someone-else")
    assert refused.value.message == "Something wrong with the request body, status code: 400"
    assert json.loads(refused.value.response)["error"] == "unauthorized_client"


def test_refresh_grant_and_the_first_instance_keeps_working(credentials, admin_user):
    first = connect(credentials, username="admin")
    item = part(admin_user, "Widget")
    # Another worker starts from the first one's refresh token.
    second = connect(
        credentials, refresh_token=first.refresh_token, use_client_credentials_auth=False
    )
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    for sdk in (first, second):
        assert sdk.items.get_by_key(str(item.pk))["ia::result"]["id"] == "Widget"
    # A third, within the grace period, with the same old refresh token: the second's pair.
    third = connect(
        credentials, refresh_token=first.refresh_token, use_client_credentials_auth=False
    )
    assert (third.access_token, third.refresh_token) == (second.access_token, second.refresh_token)
    assert first.items.get_by_key(str(item.pk))["ia::result"]["key"] == str(item.pk)


def test_items_post_and_get_by_key(credentials, admin_user):
    sdk = connect(credentials, username="admin")
    answer = sdk.items.post({"id": "SDK-1", "name": "From the SDK", "itemType": "inventory"})
    item = Item.objects.get()
    assert answer == created(item)
    assert (item.code, item.name, item.item_type, item.created_by) == (
        "SDK-1",
        "From the SDK",
        "inventory",
        admin_user,
    )
    body = sdk.items.get_by_key(str(item.pk))
    assert body["ia::meta"] == ONE
    assert {name: body["ia::result"][name] for name in ("key", "id", "name", "href")} == {
        "key": str(item.pk),
        "id": "SDK-1",
        "name": "From the SDK",
        "href": href(item),
    }


def test_kit_component_post_get_update_delete_through_api_base(credentials, admin_user):
    kit = part(admin_user, "Kit_1", item_type="kit")
    ink = part(admin_user, "Prnt_Ink")
    sdk = connect(credentials, username="admin")
    lines = object_api(sdk, KIT_COMPONENT)
    answer = lines.post(
        {"kit": {"id": "Kit_1"}, "component": {"id": "Prnt_Ink"}, "numberOfUnits": 2}
    )
    line = KitComponent.objects.get()
    assert answer == created(line)
    assert (line.kit, line.component, line.number_of_units, line.version) == (kit, ink, 2, 1)
    got = lines.get_by_key(str(line.pk))["ia::result"]
    assert (got["kit"]["id"], got["component"]["id"], got["numberOfUnits"]) == (
        "Kit_1",
        "Prnt_Ink",
        2,
    )
    assert lines.update(str(line.pk), {"numberOfUnits": 3}) == created(line)
    line.refresh_from_db()
    assert (line.number_of_units, line.version) == (3, 2)
    # The SDK's delete sends a `{}` body with Content-Type application/json: 204, no body.
    assert lines.delete(str(line.pk)) is None
    assert not KitComponent.objects.exists()


def test_get_all_generator_pages_the_query_service(credentials, admin_user):
    for code in ("WH-E", "WH-A", "WH-D", "WH-B", "WH-C"):
        warehouse(admin_user, code)
    warehouse(admin_user, "WH-X", status="inactive")
    sdk = connect(credentials, username="admin")
    shelves = object_api(sdk, "/objects/inventory-control/warehouse", page_size=2)
    pages = list(
        shelves.get_all_generator(
            fields=["id", "status"],
            filters=[{"$eq": {"status": "active"}}],
            order_by=[{"id": "asc"}],
        )
    )
    assert pages == [
        [{"id": "WH-A", "status": "active"}, {"id": "WH-B", "status": "active"}],
        [{"id": "WH-C", "status": "active"}, {"id": "WH-D", "status": "active"}],
        [{"id": "WH-E", "status": "active"}],
    ]
    # Without filters or order: every row, by key, in pages of two.
    everything = [row["id"] for page in shelves.get_all_generator(fields=["id"]) for row in page]
    assert everything == list(Warehouse.objects.order_by("pk").values_list("code", flat=True))


def test_count(credentials, admin_user):
    for code in ("A", "B", "C"):
        part(admin_user, code)
    part(admin_user, "K", item_type="kit")
    sdk = connect(credentials, username="admin")
    assert sdk.items.count() == 4
    assert sdk.items.count(filters=[{"$eq": {"itemType": "inventory"}}]) == 3
    assert sdk.items.count(filters=[{"$eq": {"itemType": "kit"}}]) == 1


def test_get_model(credentials):
    sdk = connect(credentials, username="admin")
    model = sdk.items.get_model()["ia::result"]
    assert model["apiObject"] == "objects/inventory-control/item"
    assert model["type"] == "rootObject"
    assert model["idempotenceSupported"] is True
    assert model["fields"]["id"]["mutable"] is False
    assert model["fields"]["itemType"]["mutable"] is False


def test_post_with_idempotent_key_twice_gives_one_object(credentials):
    sdk = connect(credentials, username="admin")
    body = {"id": "SDK-IDEM", "name": "Once", "itemType": "inventory"}
    first = sdk.items.post(body, idempotent_key="sdk-item-SDK-IDEM")
    again = sdk.items.post(body, idempotent_key="sdk-item-SDK-IDEM")
    item = Item.objects.get()
    assert first == again == created(item)
