"""Contract 15.1 as far as GraphQL needs it: part inventory's read-only `status` (installed,
kitted, unavailable, available: the first that applies) and the warehouse's `inventoryAvailable`,
in REST, in the query service and in GraphQL, the Python property and the SQL expression alike."""

import pytest

from inventory.models import PartInventory, Warehouse
from inventory.selectors import part_inventory_expressions
from tests.support.factories import kit, part, run, stock, warehouse
from tests.support.graphql import data, graphql
from tests.support.part_inventory import PI, install, issue

pytestmark = pytest.mark.django_db
WAREHOUSES = "/objects/inventory-control/warehouse"


@pytest.fixture
def every_status(admin_user):
    """One inventory per status, and one per reason to be unavailable."""
    paper = part(admin_user, "Paper")
    shelf = warehouse(admin_user, "WH-1")
    quarantine = warehouse(admin_user, "WH-Q", inventory_available=False)
    made = {
        "available": stock(admin_user, paper, 4, location=shelf),
        "nowhere is available": stock(admin_user, paper, 4),
        "empty": stock(admin_user, paper, 0, location=shelf),
        "quarantined": stock(admin_user, paper, 4, location=quarantine),
        "kitted": stock(admin_user, paper, 2, location=quarantine),
        "installed": stock(admin_user, paper, 3),
    }
    issue(made["kitted"], kit(admin_user, run(admin_user, "RUN-K")), 2, admin_user)
    build = kit(admin_user, run(admin_user, "RUN-I"))
    issue(made["installed"], build, 3, admin_user)
    install(made["installed"], build, 3, admin_user)
    return made


EXPECTED = {
    "available": "available",
    "nowhere is available": "available",
    "empty": "unavailable",
    "quarantined": "unavailable",
    "kitted": "kitted",
    "installed": "installed",
}


def test_the_status_in_rest_python_and_sql(forced_api, every_status):
    annotated = dict(
        PartInventory.objects.annotate(sql=part_inventory_expressions()["status"]).values_list(
            "pk", "sql"
        )
    )
    for name, inventory in every_status.items():
        body = forced_api.get(f"{PI}/{inventory.pk}").json()["ia::result"]
        python = PartInventory.objects.select_related("location").get(pk=inventory.pk).status
        assert (body["status"], python, annotated[inventory.pk]) == (EXPECTED[name],) * 3, name


def test_the_query_service_and_graphql_filter_on_it(forced_api, api, every_status):
    unavailable = sorted(every_status[name].pk for name in ("empty", "quarantined"))
    body = {
        "object": "inventory-control/part-inventory",
        "fields": ["key", "status"],
        "filters": [{"$eq": {"status": "unavailable"}}],
    }
    rows = forced_api.post("/services/core/query", body, format="json").json()["ia::result"]
    assert rows == [{"key": str(key), "status": "unavailable"} for key in unavailable]
    found = graphql(
        api,
        "{ partInventories(filters: {status: {eq: UNAVAILABLE}}) "
        "{ edges { node { id status } } } }",
    )
    assert [edge["node"] for edge in data(found)["partInventories"]["edges"]] == [
        {"id": str(key), "status": "UNAVAILABLE"} for key in unavailable
    ]


def test_a_warehouse_says_whether_its_stock_is_available(forced_api, admin_user):
    created = forced_api.post(
        WAREHOUSES, {"id": "WH-Q", "name": "Quarantine", "inventoryAvailable": False}, format="json"
    )
    key = created.json()["ia::result"]["key"]
    assert forced_api.get(f"{WAREHOUSES}/{key}").json()["ia::result"]["inventoryAvailable"] is False
    shelf = Warehouse.objects.get(pk=key)
    inventory = stock(admin_user, part(admin_user, "Paper"), 4, location=shelf)
    assert forced_api.get(f"{PI}/{inventory.pk}").json()["ia::result"]["status"] == "unavailable"
    patched = forced_api.patch(f"{WAREHOUSES}/{key}", {"inventoryAvailable": True}, format="json")
    assert patched.status_code == 200, patched.content
    assert forced_api.get(f"{PI}/{inventory.pk}").json()["ia::result"]["status"] == "available"
    refused = forced_api.patch(f"{WAREHOUSES}/{key}", {"inventoryAvailable": "no"}, format="json")
    assert refused.status_code == 422
    default = forced_api.post(WAREHOUSES, {"id": "WH-2", "name": "Shelf"}, format="json")
    assert default.json()["ia::result"]["key"]
    got = forced_api.get(f"{WAREHOUSES}/{default.json()['ia::result']['key']}")
    assert got.json()["ia::result"]["inventoryAvailable"] is True
