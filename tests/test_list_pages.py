"""Unfiltered list pages of a whole table run plain SQL (core.sql.reference_page); a
viewset whose queryset keeps some rows out must never be served from it."""

from rest_framework.test import APIRequestFactory, force_authenticate

from inventory import services
from inventory.api.views import WarehouseViewSet
from inventory.models import Warehouse


class ActiveWarehouseViewSet(WarehouseViewSet):
    queryset = Warehouse.objects.filter(status="active")


def page(viewset, user) -> dict:
    request = APIRequestFactory().get("/objects/inventory-control/warehouse?size=10")
    force_authenticate(request, user=user)
    response = viewset.as_view({"get": "list"})(request)
    assert response.status_code == 200, response.data
    return response.data


def test_a_narrowed_queryset_is_listed_through_it_not_the_whole_table(admin_user):
    for code, status in (("WH-A", "active"), ("WH-B", "inactive"), ("WH-C", "active")):
        services.warehouse_create(user=admin_user, code=code, name=code, status=status)
    assert WarehouseViewSet().lists_whole_table()
    assert not ActiveWarehouseViewSet().lists_whole_table()

    everything = page(WarehouseViewSet, admin_user)
    active = page(ActiveWarehouseViewSet, admin_user)
    assert [ref["id"] for ref in everything["ia::result"]] == ["WH-A", "WH-B", "WH-C"]
    assert everything["ia::meta"]["totalCount"] == 3
    assert [ref["id"] for ref in active["ia::result"]] == ["WH-A", "WH-C"]
    assert active["ia::meta"] == {
        "totalCount": 2,
        "start": 1,
        "pageSize": 10,
        "next": None,
        "previous": None,
    }
