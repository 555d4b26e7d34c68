"""Items' stock figures (contract 15.1, 15.7): onHandQuantity, availableQuantity, kittedQuantity
and buildableQuantity, nested `kit` components exploded at any depth, through the GET of an item
and the query service."""

import pytest

from inventory.models import Warehouse
from tests.support.factories import issue, kit, kit_line, part, run, stock, warehouse
from tests.support.refs import href

QUERY = "/services/core/query"
FIGURES = ["onHandQuantity", "availableQuantity", "kittedQuantity", "buildableQuantity"]


@pytest.fixture
def catalogue(admin_user):
    """Bolt: 10 without a location (2 of them issued), 4 in a closed warehouse, 6 on an open
    shelf. Top (kit) = 3 x Sub (kit) + 1 Nut + 1 Spare (stockableKit) + a service; Sub (kit) = 2.5
    Bolt + a service. Pack (stockableKit) = 4 Nut. Services (kit) holds only a service."""
    user = admin_user
    closed = warehouse(user, "CLOSED", inventory_available=False)
    shelf = warehouse(user, "SHELF")
    made = {code: part(user, code) for code in ("Bolt", "Nut")}
    made["Service"] = part(user, "Service", "nonInventory")
    for code, item_type in (("Sub", "kit"), ("Top", "kit"), ("Services", "kit")):
        made[code] = part(user, code, item_type)
    made["Spare"] = part(user, "Spare", "stockableKit")
    made["Pack"] = part(user, "Pack", "stockableKit")
    loose = stock(user, made["Bolt"], 10)
    stock(user, made["Bolt"], 4, location=closed)
    stock(user, made["Bolt"], 6, location=shelf)
    issue(user, kit(user, run(user, "RUN-1")), loose, 2)
    stock(user, made["Nut"], 9)
    stock(user, made["Spare"], 5)
    kit_line(user, made["Sub"], made["Bolt"], "2.5")
    kit_line(user, made["Sub"], made["Service"], 1)
    kit_line(user, made["Top"], made["Sub"], 3)
    kit_line(user, made["Top"], made["Nut"], 1)
    kit_line(user, made["Top"], made["Spare"], 1)
    kit_line(user, made["Top"], made["Service"], 2)
    kit_line(user, made["Pack"], made["Nut"], 4)
    kit_line(user, made["Services"], made["Service"], 1)
    return made


EXPECTED = {
    # 8 + 4 + 6 on hand, the 4 in the closed warehouse unavailable, 2 in a kit.
    "Bolt": [18, 14, 2, None],
    "Nut": [9, 9, 0, None],
    "Service": [0, 0, 0, None],
    # floor(14 / 2.5) = 5; the service is ignored.
    "Sub": [0, 0, 0, 5],
    # Sub exploded: 7.5 Bolt (14 / 7.5 -> 1), Nut 9, Spare counted as itself (5): 1.
    "Top": [0, 0, 0, 1],
    "Services": [0, 0, 0, None],  # no stocked component
    "Spare": [5, 5, 0, None],  # a stockable kit without components
    "Pack": [0, 0, 0, 2],  # floor(9 / 4)
}


def test_item_detail_shows_stock_figures(api, catalogue):
    for code, figures in EXPECTED.items():
        body = api.get(href(catalogue[code])).json()["ia::result"]
        assert [body[name] for name in FIGURES] == figures, code


def test_query_service_reads_filters_and_sorts_stock_figures(api, catalogue):
    body = {
        "object": "inventory-control/item",
        "fields": ["id", *FIGURES],
        "filters": [{"$gte": {"buildableQuantity": 1}}],
        "orderBy": [{"buildableQuantity": "desc"}],
    }
    response = api.post(QUERY, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ia::result"] == [
        {"id": code, **dict(zip(FIGURES, EXPECTED[code], strict=True))}
        for code in ("Sub", "Pack", "Top")
    ]
    total = {"object": "inventory-control/item", "fields": ["sum:onHandQuantity"]}
    response = api.post(QUERY, total, format="json")
    assert response.json()["ia::result"] == [{"sum:onHandQuantity": 32}]


def test_stock_figures_follow_the_available_flag(api, catalogue):
    closed = Warehouse.objects.get(code="CLOSED")
    response = api.patch(href(closed), {"inventoryAvailable": True}, format="json")
    assert response.status_code == 200, response.json()
    body = api.get(href(catalogue["Sub"])).json()["ia::result"]
    assert body["buildableQuantity"] == 7  # floor(18 / 2.5)
    assert api.get(href(catalogue["Bolt"])).json()["ia::result"]["availableQuantity"] == 18
