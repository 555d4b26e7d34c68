"""Reads cost a fixed number of queries, whatever they return: items, warehouses, kit components.

Each request through the `api` client (a real bearer token) costs one query for the token; the
rest is the endpoint's own work."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import identity
from inventory import services as inventory_services
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent
from tests.support.users import make_user

TOKEN = 1  # the access-token lookup, with its user


def count_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def make_items(user, n: int, *, start: int = 0, item_type: str = "inventory"):
    return [
        inventory_services.item_create(
            user=user, code=f"I{i:03d}", name=f"Item {i}", item_type=item_type
        )
        for i in range(start, start + n)
    ]


def make_warehouses(user, n: int, *, start: int = 0):
    return [
        inventory_services.warehouse_create(user=user, code=f"W{i:03d}", name=f"Warehouse {i}")
        for i in range(start, start + n)
    ]


def add_lines(kit, components, users):
    for i, component in enumerate(components):
        kit_services.kit_component_create(
            user=users[i % len(users)], kit=kit, component=component, number_of_units=i + 1
        )


# --- lists: token, count, one page of (key, id) -------------------------------------------


def test_item_list(api, admin_user):
    make_items(admin_user, 1)
    one = count_queries(api, "/objects/inventory-control/item")
    make_items(admin_user, 29, start=1)
    thirty = count_queries(api, "/objects/inventory-control/item")
    filtered = count_queries(
        api, "/objects/inventory-control/item?itemType=inventory&status=active"
    )
    assert one == thirty == filtered == TOKEN + 2


def test_warehouse_list(api, admin_user):
    make_warehouses(admin_user, 1)
    one = count_queries(api, "/objects/inventory-control/warehouse")
    make_warehouses(admin_user, 29, start=1)
    thirty = count_queries(api, "/objects/inventory-control/warehouse")
    assert one == thirty == TOKEN + 2


def test_kit_component_list(api, admin_user):
    kit = inventory_services.item_create(user=admin_user, code="K", name="K", item_type="kit")
    parts = make_items(admin_user, 30)
    add_lines(kit, parts[:1], [admin_user])
    one = count_queries(api, "/objects/inventory-control/kit-component")
    add_lines(kit, parts[1:], [admin_user])
    assert KitComponent.objects.count() == 30
    thirty = count_queries(api, "/objects/inventory-control/kit-component")
    filtered = count_queries(api, f"/objects/inventory-control/kit-component?kit={kit.pk}")
    assert one == thirty == filtered == TOKEN + 2


# --- details ------------------------------------------------------------------------------


def test_item_detail_with_1_or_20_kit_components(api, admin_user):
    """Item with its audit users (1 query), its lines with kit, component and their audit users
    (1 query), whoever created them."""
    other = make_user("other")
    small = inventory_services.item_create(user=admin_user, code="K1", name="K1", item_type="kit")
    big = inventory_services.item_create(user=other, code="K20", name="K20", item_type="kit")
    parts = make_items(admin_user, 20)
    add_lines(small, parts[:1], [admin_user])
    add_lines(big, parts, [admin_user, other])

    assert len(api.get(identity.href(big)).json()["ia::result"]["kitComponents"]) == 20
    one = count_queries(api, identity.href(small))
    twenty = count_queries(api, identity.href(big))
    plain = count_queries(api, identity.href(parts[0]))
    assert one == twenty == plain == TOKEN + 2


def test_warehouse_detail(api, admin_user):
    warehouse = make_warehouses(admin_user, 1)[0]
    assert count_queries(api, identity.href(warehouse)) == TOKEN + 1


def test_kit_component_detail(api, admin_user):
    other = make_user("other")
    kit = inventory_services.item_create(user=admin_user, code="K", name="K", item_type="kit")
    first, second = make_items(admin_user, 2)
    add_lines(kit, [first], [admin_user])
    add_lines(kit, [second], [other])
    lines = list(KitComponent.objects.order_by("pk"))
    assert [count_queries(api, identity.href(line)) for line in lines] == [TOKEN + 1, TOKEN + 1]
