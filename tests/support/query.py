"""What the POST /services/core/query tests (tests/test_query_*.py) share: the catalogue of
items and kit lines they query (the `catalogue` fixture, registered by tests/conftest.py) and the
request helpers."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from inventory import services as inventory_services
from inventory.models import Item

QUERY = "/services/core/query"
ITEM = "inventory-control/item"
LINE = "inventory-control/kit-component"
ALL_IDS = ["Kit_1", "SKit_1", "Prnt_Paper", "Ink", "NonInv", "Tape", "PurchOnly", "SalesOnly"]


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


# id, name, type, standard cost, created at, extra fields
ITEMS = [
    ("Kit_1", "Office kit", "kit", "10", utc(2024, 5, 15, 9, 30, 0, 250000), {}),
    (
        "SKit_1",
        "Stockable kit",
        "stockableKit",
        "25.5",
        utc(2024, 5, 14, 23, 59, 59, 900000),
        {"enable_serial_no": True, "serial_mask": "SN-####"},
    ),
    (
        "Prnt_Paper",
        "Paper for Printer",
        "inventory",
        "125.67",
        utc(2024, 5, 13),
        {"enable_lot_category": True, "lot_category": "Paper", "unit_of_measure": "10 Pack"},
    ),
    (
        "Ink",
        "ink Cartridge",
        "inventory",
        "30",
        utc(2024, 5, 12, 23, 59, 59),
        {"status": "inactive"},
    ),
    (
        "NonInv",
        "Consulting hour",
        "nonInventory",
        "0",
        utc(2024, 5, 1),
        {"unit_of_measure": "hour"},
    ),
    ("Tape", "Tape", "inventory", "1.23", utc(2024, 4, 10, 8), {}),
    (
        "PurchOnly",
        "Purchase only",
        "purchaseOnlyNonInventory",
        "2.5",
        utc(2024, 3, 31, 23, 59, 59),
        {},
    ),
    (
        "SalesOnly",
        "Sales only",
        "salesOnlyNonInventory",
        "99.99",
        utc(2023, 12, 31, 23, 59, 59),
        {},
    ),
]


@pytest.fixture
def catalogue(admin_user, add_line):
    items = {}
    for code, name, item_type, cost, created, extra in ITEMS:
        item = inventory_services.item_create(
            user=admin_user,
            code=code,
            name=name,
            item_type=item_type,
            standard_cost=Decimal(cost),
            **extra,
        )
        Item.objects.filter(pk=item.pk).update(created_at=created)
        items[code] = item
    lines = {
        "L1": add_line(items["Kit_1"], items["Prnt_Paper"], Decimal("2"), revenue_percentage=50),
        "L2": add_line(
            items["Kit_1"],
            items["NonInv"],
            Decimal("1.5"),
            default_delivery_status="undelivered",
        ),
        "L3": add_line(items["Kit_1"], items["SKit_1"], Decimal("1"), revenue_percentage=20),
        "L4": add_line(
            items["SKit_1"],
            items["Ink"],
            Decimal("3"),
            revenue_percentage=80,
            default_delivery_status="undelivered",
        ),
        "L5": add_line(items["SKit_1"], items["Prnt_Paper"], Decimal("0.25")),
    }
    return SimpleNamespace(items=items, lines=lines, key=lambda code: str(items[code].pk))


def post(client, body):
    return client.post(QUERY, body, format="json")


def result(client, **body):
    response = post(client, body)
    assert response.status_code == 200, response.json()
    return response.json()["ia::result"]


def item_ids(client, *filters, **body):
    rows = result(client, object=ITEM, fields=["id"], filters=list(filters), **body)
    return [row["id"] for row in rows]


def line_names(catalogue, client, *filters, **body):
    """Kit-component keys matched, as the line names of the catalogue (L1...)."""
    names = {str(line.pk): name for name, line in catalogue.lines.items()}
    rows = result(client, object=LINE, fields=["key"], filters=list(filters), **body)
    return [names[row["key"]] for row in rows]


def error(response):
    assert response["Content-Type"].startswith("application/json")
    body = response.json()["ia::result"]["ia::error"]
    return response.status_code, body["errorId"], body.get("target"), body["message"]


def but(*excluded):
    return [code for code in ALL_IDS if code not in excluded]


KIT_1 = {"$eq": {"id": "Kit_1"}}
INK = {"$eq": {"id": "Ink"}}
INACTIVE = {"$eq": {"status": "inactive"}}


def base(**body):
    return {"object": ITEM, "fields": ["id"], **body}
