"""POST /services/core/query (contract 9): aggregates and grouping."""

from tests.support.query import ITEM, LINE, post, result


# --- aggregates -------------------------------------------------------------------------------
def test_aggregates_group_by_the_plain_fields(forced_api, catalogue):
    rows = result(
        forced_api,
        object=ITEM,
        fields=[
            "itemType",
            "count:key",
            "sum:purchasing.standardCost",
            "avg:purchasing.standardCost",
            "min:name",
            "max:audit.createdDateTime",
        ],
    )
    assert rows == [
        {
            "itemType": "inventory",
            "count:key": 3,
            "sum:purchasing.standardCost": "156.9",
            "avg:purchasing.standardCost": "52.3",
            "min:name": "Paper for Printer",
            "max:audit.createdDateTime": "2024-05-13T00:00:00Z",
        },
        {
            "itemType": "kit",
            "count:key": 1,
            "sum:purchasing.standardCost": "10",
            "avg:purchasing.standardCost": "10",
            "min:name": "Office kit",
            "max:audit.createdDateTime": "2024-05-15T09:30:00Z",
        },
        {
            "itemType": "nonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "0",
            "avg:purchasing.standardCost": "0",
            "min:name": "Consulting hour",
            "max:audit.createdDateTime": "2024-05-01T00:00:00Z",
        },
        {
            "itemType": "purchaseOnlyNonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "2.5",
            "avg:purchasing.standardCost": "2.5",
            "min:name": "Purchase only",
            "max:audit.createdDateTime": "2024-03-31T23:59:59Z",
        },
        {
            "itemType": "salesOnlyNonInventory",
            "count:key": 1,
            "sum:purchasing.standardCost": "99.99",
            "avg:purchasing.standardCost": "99.99",
            "min:name": "Sales only",
            "max:audit.createdDateTime": "2023-12-31T23:59:59Z",
        },
        {
            "itemType": "stockableKit",
            "count:key": 1,
            "sum:purchasing.standardCost": "25.5",
            "avg:purchasing.standardCost": "25.5",
            "min:name": "Stockable kit",
            "max:audit.createdDateTime": "2024-05-14T23:59:59Z",
        },
    ]


def test_aggregates_over_references_with_filters_ordering_and_paging(forced_api, catalogue):
    body = {
        "object": LINE,
        "fields": [
            "kit.id",
            "count:key",
            "sum:numberOfUnits",
            "avg:numberOfUnits",
            "max:lineNumber",
        ],
        "filters": [{"$ne": {"component.id": "Tape"}}],
        "orderBy": [{"count:key": "desc"}],
    }
    rows = result(forced_api, **body)
    assert rows == [
        {
            "kit.id": "Kit_1",
            "count:key": 3,
            "sum:numberOfUnits": 4.5,
            "avg:numberOfUnits": 1.5,
            "max:lineNumber": 3,
        },
        {
            "kit.id": "SKit_1",
            "count:key": 2,
            "sum:numberOfUnits": 3.25,
            "avg:numberOfUnits": 1.625,
            "max:lineNumber": 2,
        },
    ]
    body["orderBy"] = [{"sum:numberOfUnits": "asc"}]
    page = post(forced_api, {**body, "start": 2, "size": 1}).json()
    assert page == {
        "ia::result": [rows[0]],
        "ia::meta": {"totalCount": 2, "start": 2, "pageSize": 1, "next": None, "previous": 1},
    }
    # Grouping by two fields, one of them computed through the reference.
    rows = result(
        forced_api,
        object=LINE,
        fields=["component.trackingType", "defaultDeliveryStatus", "count:key"],
        orderBy=[{"defaultDeliveryStatus": "desc"}],
    )
    assert rows == [
        {
            "component.trackingType": "untracked",
            "defaultDeliveryStatus": "undelivered",
            "count:key": 2,
        },
        {"component.trackingType": "lot", "defaultDeliveryStatus": "delivered", "count:key": 2},
        {"component.trackingType": "serial", "defaultDeliveryStatus": "delivered", "count:key": 1},
    ]


def test_aggregates_without_grouping_answer_one_row(forced_api, catalogue):
    body = {
        "object": LINE,
        "fields": [
            "count:key",
            "count:revenuePercentage",
            "sum:numberOfUnits",
            "min:revenuePercentage",
            "max:revenuePercentage",
            "avg:revenuePercentage",
            "avg:lineNumber",
            "min:kit.id",
        ],
    }
    assert post(forced_api, body).json() == {
        "ia::result": [
            {
                "count:key": 5,
                "count:revenuePercentage": 3,  # nulls are not counted
                "sum:numberOfUnits": 7.75,
                "min:revenuePercentage": 20,
                "max:revenuePercentage": 80,
                "avg:revenuePercentage": 50,
                "avg:lineNumber": 1.8,
                "min:kit.id": "Kit_1",
            }
        ],
        "ia::meta": {"totalCount": 1, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    empty = {**body, "filters": [{"$eq": {"kit.id": "nothing"}}]}
    assert post(forced_api, empty).json()["ia::result"] == [
        {
            "count:key": 0,
            "count:revenuePercentage": 0,
            "sum:numberOfUnits": None,
            "min:revenuePercentage": None,
            "max:revenuePercentage": None,
            "avg:revenuePercentage": None,
            "avg:lineNumber": None,
            "min:kit.id": None,
        }
    ]
    assert post(forced_api, {**body, "start": 2}).json() == {
        "ia::result": [],
        "ia::meta": {"totalCount": 1, "start": 2, "pageSize": 100, "next": None, "previous": 1},
    }


def test_null_is_a_group_of_its_own_and_sorts_first(forced_api, catalogue):
    rows = result(forced_api, object=LINE, fields=["revenuePercentage", "count:key"])
    assert rows == [
        {"revenuePercentage": None, "count:key": 2},
        {"revenuePercentage": 20, "count:key": 1},
        {"revenuePercentage": 50, "count:key": 1},
        {"revenuePercentage": 80, "count:key": 1},
    ]


def test_grouped_pages_count_every_group_even_past_the_end(forced_api, catalogue):
    body = {"object": ITEM, "fields": ["itemType", "count:key"], "orderBy": [{"itemType": "asc"}]}
    groups = result(forced_api, **body)
    total = len(groups)
    assert total >= 2
    meta = {"totalCount": total, "pageSize": 1}
    # The last page: its rows carry the count.
    assert post(forced_api, {**body, "start": total, "size": 1}).json() == {
        "ia::result": [groups[-1]],
        "ia::meta": {**meta, "start": total, "next": None, "previous": total - 1},
    }
    # Past the end, and far past it (an offset no database takes): no rows, the count still true.
    for start in (total + 1, 2**63 + 5):
        page = post(forced_api, {**body, "start": start, "size": 1}).json()
        assert page["ia::result"] == []
        assert page["ia::meta"]["totalCount"] == total
    # No group at all.
    empty = {**body, "filters": [{"$eq": {"id": "no such item"}}]}
    assert post(forced_api, empty).json()["ia::meta"]["totalCount"] == 0
