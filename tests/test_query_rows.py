"""POST /services/core/query (contract 9): what a row holds, and one rows query plus one count
query per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services as inventory_services
from tests.support.query import ITEM, KIT_1, LINE, post, result


# --- what a row holds -------------------------------------------------------------------------
def flatten(value, prefix=""):
    """A GET result as the query's flat dot paths (lists are not selectable)."""
    out = {}
    for name, member in value.items():
        if isinstance(member, dict):
            out.update(flatten(member, f"{prefix}{name}."))
        elif not isinstance(member, list):
            out[f"{prefix}{name}"] = member
    return out


@pytest.mark.parametrize("object_name", [ITEM, LINE, "inventory-control/warehouse"])
def test_query_rows_equal_the_objects_get(forced_api, catalogue, admin_user, object_name):
    """Every member GET renders is selectable, and renders the same (key/id strings, decimal
    strings, JSON numbers, booleans, UTC date-times, nulls)."""
    inventory_services.warehouse_create(user=admin_user, code="WH1", name="Main")
    listed = forced_api.get(f"/objects/{object_name}?size=4000").json()["ia::result"]
    expected = [flatten(forced_api.get(ref["href"]).json()["ia::result"]) for ref in listed]
    fields = list(expected[0])
    assert "key" in fields and "audit.createdByUser.href" in fields
    assert result(forced_api, object=object_name, fields=fields, size=4000) == expected


def test_rows_are_flat_and_typed(forced_api, catalogue, admin_user):
    line = catalogue.lines["L1"]
    rows = result(
        forced_api,
        object=LINE,
        fields=[
            "key",
            "id",
            "href",
            "kit.key",
            "kit.id",
            "kit.href",
            "component.standardCost",
            "component.trackingType",
            "component.tracking.enableLotCategory",
            "numberOfUnits",
            "revenuePercentage",
            "lineNumber",
            "audit.createdBy",
            "audit.createdByUser.id",
        ],
        filters=[{"$eq": {"key": str(line.pk)}}],
    )
    assert rows == [
        {
            "key": str(line.pk),
            "id": str(line.pk),
            "href": f"/objects/inventory-control/kit-component/{line.pk}",
            "kit.key": catalogue.key("Kit_1"),
            "kit.id": "Kit_1",
            "kit.href": f"/objects/inventory-control/item/{catalogue.key('Kit_1')}",
            "component.standardCost": "125.67",
            "component.trackingType": "lot",
            "component.tracking.enableLotCategory": True,
            "numberOfUnits": 2,
            "revenuePercentage": 50,
            "lineNumber": 1,
            "audit.createdBy": str(admin_user.pk),
            "audit.createdByUser.id": "admin",
        }
    ]


def test_duplicate_fields_are_returned_once_and_the_v1_path_works(forced_api, catalogue):
    response = forced_api.post(
        "/ia/api/v1/services/core/query",
        {"object": ITEM, "fields": ["id", "id", "name"], "filters": [KIT_1]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["ia::result"] == [{"id": "Kit_1", "name": "Office kit"}]


# --- one rows query, one count query ----------------------------------------------------------
MANY_FIELDS = [
    "key",
    "href",
    "kit.id",
    "kit.name",
    "kit.audit.createdDateTime",
    "component.id",
    "component.name",
    "component.standardCost",
    "component.trackingType",
    "component.tracking.enableSerialNo",
    "component.audit.createdByUser.id",
    "numberOfUnits",
    "audit.createdByUser.id",
    "audit.modifiedByUser.href",
]


def _lines(admin_user, add_line, count):
    kit = inventory_services.item_create(user=admin_user, code="Big", name="Big", item_type="kit")
    for n in range(count):
        part = inventory_services.item_create(
            user=admin_user, code=f"P{n}", name=f"Part {n}", item_type="inventory"
        )
        add_line(kit, part, n + 1)


@pytest.mark.parametrize("count", [1, 40])
def test_one_rows_query_and_one_count_query(forced_api, admin_user, add_line, count):
    _lines(admin_user, add_line, count)
    bodies = [
        {"object": LINE, "fields": MANY_FIELDS, "size": 4000},
        {"object": LINE, "fields": ["key"], "size": 1},
        {
            "object": LINE,
            "fields": MANY_FIELDS,
            "filters": [
                {"$eq": {"kit.id": "Big"}},
                {"$has": {"component.kitComponents.component.id": "nothing"}},
                {"$eq": {"component.trackingType": "untracked"}},
                {"$contains": {"component.audit.createdByUser.id": "adm"}},
            ],
            "filterExpression": "1 and (2 or 3 and 4)",
            "orderBy": [{"component.trackingType": "asc"}, {"kit.audit.createdDateTime": "desc"}],
            "size": 4000,
        },
    ]
    for body in bodies:
        with CaptureQueriesContext(connection) as queries:
            response = post(forced_api, body)
        assert response.status_code == 200, response.json()
        assert response.json()["ia::meta"]["totalCount"] >= 1
        sqls = [q["sql"] for q in queries.captured_queries]
        assert len(sqls) == 2, sqls
        assert "COUNT(" in sqls[0].upper()
    # Grouped: the groups are built once, their number counted beside the page's rows.
    grouped = {
        "object": ITEM,
        "fields": ["itemType", "trackingType", "count:key"],
        "filters": [{"$has": {"kitComponents.component.trackingType": "untracked"}}],
        "size": 4000,
    }
    with CaptureQueriesContext(connection) as queries:
        response = post(forced_api, grouped)
    assert response.status_code == 200, response.json()
    assert response.json()["ia::meta"]["totalCount"] == 1
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(*) OVER ()" in sql
    with CaptureQueriesContext(connection) as queries:
        assert (
            post(
                forced_api, {"object": LINE, "fields": ["count:key", "sum:numberOfUnits"]}
            ).status_code
            == 200
        )
    assert len(queries.captured_queries) == 1  # totals: one row, nothing to count


def test_no_rows_query_when_nothing_matches(forced_api, catalogue):
    with CaptureQueriesContext(connection) as queries:
        assert (
            post(
                forced_api, {"object": ITEM, "fields": ["id"], "filters": [{"$eq": {"id": "x"}}]}
            ).json()["ia::result"]
            == []
        )
    assert len(queries.captured_queries) == 1
