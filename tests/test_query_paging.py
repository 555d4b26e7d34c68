"""POST /services/core/query (contract 9): row order, orderBy and the paging meta."""

from tests.support.query import ALL_IDS, ITEM, item_ids, line_names, post


# --- ordering and paging ----------------------------------------------------------------------
def test_rows_come_by_key_unless_ordered(forced_api, catalogue):
    assert item_ids(forced_api) == ALL_IDS
    by_name = item_ids(forced_api, orderBy=[{"name": "asc"}])
    assert by_name == [
        "NonInv",  # Consulting hour
        "Kit_1",  # Office kit
        "Prnt_Paper",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
        "Tape",
        "Ink",  # ink Cartridge: lower case sorts after upper case
    ]
    assert item_ids(forced_api, orderBy=[{"name": "DESC"}]) == by_name[::-1]
    assert item_ids(
        forced_api, orderBy=[{"itemType": "asc"}, {"purchasing.standardCost": "desc"}]
    ) == [
        "Prnt_Paper",
        "Ink",
        "Tape",
        "Kit_1",
        "NonInv",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
    ]
    # Ties break by key.
    assert item_ids(forced_api, orderBy=[{"trackingType": "desc"}]) == [
        "Kit_1",
        "Ink",
        "NonInv",
        "Tape",
        "PurchOnly",
        "SalesOnly",
        "SKit_1",
        "Prnt_Paper",
    ]


def test_order_by_reference_paths_and_nulls(forced_api, catalogue):
    def lines(*order):
        return line_names(catalogue, forced_api, orderBy=list(order))

    assert lines({"component.name": "asc"}, {"lineNumber": "desc"}) == [
        "L2",
        "L5",
        "L1",
        "L3",
        "L4",
    ]
    assert lines({"kit.id": "desc"}, {"numberOfUnits": "asc"}) == ["L5", "L4", "L3", "L2", "L1"]
    # A null is the lowest value: first ascending, last descending.
    assert lines({"revenuePercentage": "asc"}) == ["L2", "L5", "L3", "L1", "L4"]
    assert lines({"revenuePercentage": "desc"}) == ["L4", "L1", "L3", "L2", "L5"]


def test_paging_meta_at_the_edges(forced_api, catalogue):
    def page(**body):
        return post(forced_api, {"object": ITEM, "fields": ["id"], **body}).json()

    def meta(total, start, size, next_, previous):
        return {
            "totalCount": total,
            "start": start,
            "pageSize": size,
            "next": next_,
            "previous": previous,
        }

    assert page(filters=[{"$eq": {"id": "none"}}]) == {
        "ia::result": [],
        "ia::meta": meta(0, 1, 100, None, None),
    }
    first = page(size=3)
    assert first == {
        "ia::result": [{"id": "Kit_1"}, {"id": "SKit_1"}, {"id": "Prnt_Paper"}],
        "ia::meta": meta(8, 1, 3, 4, None),
    }
    assert page(start=4, size=3)["ia::meta"] == meta(8, 4, 3, 7, 1)
    last = page(start=7, size=3)
    assert last == {
        "ia::result": [{"id": "PurchOnly"}, {"id": "SalesOnly"}],
        "ia::meta": meta(8, 7, 3, None, 4),
    }
    exact = page(start=6, size=3)
    assert exact["ia::result"] == [{"id": "Tape"}, {"id": "PurchOnly"}, {"id": "SalesOnly"}]
    assert exact["ia::meta"] == meta(8, 6, 3, None, 3)
    assert page(start=20, size=3) == {"ia::result": [], "ia::meta": meta(8, 20, 3, None, 17)}
    assert page(size=4000) == {
        "ia::result": [{"id": code} for code in ALL_IDS],
        "ia::meta": meta(8, 1, 4000, None, None),
    }
    # What clients send for "nothing": null, [] and {} mean the defaults.
    defaults = page(
        filters=[], filterExpression=None, orderBy=[], filterParameters={}, start=None, size=None
    )
    assert defaults == {
        "ia::result": [{"id": code} for code in ALL_IDS],
        "ia::meta": meta(8, 1, 100, None, None),
    }
    assert page(filters=None, orderBy=None, filterParameters=None, filterExpression="")[
        "ia::meta"
    ] == meta(8, 1, 100, None, None)
