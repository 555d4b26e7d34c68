"""inventory-control/part-inventory (contract 6): list, detail, the kitting fields and the
query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import PartInventory
from kitting.models import PartKit, Run
from tests.support.graphql import data, graphql
from tests.support.part_inventory import PI, get_result, install, issue, make
from tests.support.refs import ref

pytestmark = pytest.mark.django_db

# --- reads ---------------------------------------------------------------------------------


def test_list_and_filters(forced_api, admin_user, parts, shelf):
    a = make(admin_user, parts["serial"], serial_number="S1", location=shelf)
    b = make(admin_user, parts["lot"], lot_number="L1", quantity=2)
    c = make(admin_user, parts["lot"], lot_number="L2", location=shelf)

    def keys(query=""):
        response = forced_api.get(f"{PI}{query}")
        assert response.status_code == 200, response.content
        return [row["key"] for row in response.json()["ia::result"]]

    listed = forced_api.get(PI).json()
    assert listed == {
        "ia::result": [
            {"key": str(x.pk), "id": str(x.pk), "href": f"{PI}/{x.pk}"} for x in (a, b, c)
        ],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert keys(f"?part={parts['lot'].pk}") == [str(b.pk), str(c.pk)]
    assert keys(f"?location={shelf.pk}") == [str(a.pk), str(c.pk)]
    assert keys("?serialNumber=S1") == [str(a.pk)]
    assert keys("?lotNumber=L2") == [str(c.pk)]
    assert keys(f"?part={parts['lot'].pk}&lotNumber=L1") == [str(b.pk)]
    assert keys("?serialNumber=nope") == []
    response = forced_api.get(f"{PI}?part=abc")
    assert response.status_code == 400
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-4003"


def test_kitting_fields(forced_api, api, admin_user, parts):
    serial = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    bulk = make(admin_user, parts["untracked"], quantity=10)
    run_a = Run.objects.create(code="R-A", part=parts["skit"])
    run_b = Run.objects.create(code="R-B")
    kit_a, kit_b = PartKit.objects.create(run=run_a), PartKit.objects.create(run=run_b)

    issue(bulk, kit_b, 3, admin_user)
    issue(bulk, kit_a, 2, admin_user)
    result = get_result(forced_api, bulk)
    assert {k: result[k] for k in ("quantity", "kittedQuantity", "installedQuantity")} == {
        "quantity": 5,
        "kittedQuantity": 5,
        "installedQuantity": 0,
    }
    assert (result["kitted"], result["installed"]) == (False, False)
    assert result["runs"] == [ref(run_a), ref(run_b)]
    assert result["etag"] == '"3"'

    issue(serial, kit_a, 1, admin_user)
    result = get_result(forced_api, serial)
    assert (
        result["quantity"],
        result["kittedQuantity"],
        result["kitted"],
        result["installed"],
    ) == (
        0,
        1,
        True,
        False,
    )
    install(serial, kit_a, 1, admin_user)
    output = make(
        admin_user,
        parts["skit"],
        serial_number="ASM-1",
        quantity=1,
        transaction_type="build",
        run=run_a,
    )
    result = get_result(forced_api, serial)
    assert (result["kittedQuantity"], result["installedQuantity"]) == (0, 1)
    assert (result["kitted"], result["installed"]) == (False, True)
    assert result["runs"] == [ref(run_a)]
    assert result["builtBy"] is None
    assert get_result(forced_api, output)["builtBy"] == ref(run_a)
    # GraphQL's runs are the same rule (kitting.selectors.part_inventory_runs).
    for inventory, runs in ((bulk, [run_a, run_b]), (serial, [run_a])):
        query = "query($id: ID!) { partInventory(id: $id) { runs { id } } }"
        read = graphql(api, query, id=str(inventory.pk))
        assert data(read)["partInventory"]["runs"] == [{"id": str(run.pk)} for run in runs]


def test_list_and_detail_query_counts_do_not_grow(forced_api, admin_user, parts, shelf):
    def populate(n: int) -> PartInventory:
        first = None
        for i in range(n):
            inventory = make(
                admin_user, parts["untracked"], quantity=10, location=shelf, cost=Decimal(i)
            )
            for j in range(n):
                kit = PartKit.objects.create(run=Run.objects.create(code=f"R-{n}-{i}-{j}"))
                issue(inventory, kit, 1, admin_user)
            make(
                admin_user,
                parts["skit"],
                serial_number=f"A-{n}-{i}",
                run=Run.objects.get(code=f"R-{n}-{i}-0"),
                transaction_type="build",
            )
            first = first or inventory
        return first

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = forced_api.get(url)
        assert response.status_code == 200, response.content
        return len(queries)

    one = populate(1)
    list_one, detail_one = count(PI), count(f"{PI}/{one.pk}")
    many = populate(6)
    assert PartInventory.objects.count() == 14
    assert count(PI) == list_one
    assert count(f"{PI}/{many.pk}") == detail_one
    assert len(get_result(forced_api, many)["runs"]) == 6
