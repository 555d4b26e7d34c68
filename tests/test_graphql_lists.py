"""Contract 14's lists: `<Plural>InputFilters` (per field eq, neq, in, notIn, lt, lte, gt, gte,
like, ilike, isNull; several fields combine with and), `sort` enums, Relay pages in both
directions with ION's pageInfo, and the page-size limit."""

import pytest
from django.db.models import F

from inventory.models import PartInventory
from tests.support.factories import issue, kit, part, run, stock, warehouse
from tests.support.graphql import data, error_entry, errors_of, graphql

pytestmark = pytest.mark.django_db

INVENTORY_IDS = """
query($filters: PartInventoriesInputFilters, $sort: [PartInventorySortEnum!],
      $first: Int, $after: String, $last: Int, $before: String) {
  partInventories(filters: $filters, sort: $sort, first: $first, after: $after,
                  last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { endCursor hasNextPage totalCount count hasPreviousPage startCursor }
  }
}
"""


def ids(response) -> list[int]:
    edges = data(response)["partInventories"]["edges"]
    return [int(edge["node"]["id"]) for edge in edges]


@pytest.fixture
def stock_room(admin_user):
    """Six inventories: serials, lots and untracked, on two shelves (one unavailable), one of
    them kitted; keyed by a name."""
    widget = part(admin_user, "Widget", enable_serial_no=True)
    resin = part(admin_user, "Resin", enable_lot_category=True)
    paper = part(admin_user, "Paper")
    main = warehouse(admin_user, "WH-1", "Main shelf")
    quarantine = warehouse(admin_user, "WH-Q", "Quarantine", inventory_available=False)
    made = {
        "sn1": stock(admin_user, widget, 1, serial_number="SN-abc", location=main),
        "sn2": stock(admin_user, widget, 0, serial_number="sn-ABD"),
        "lot1": stock(admin_user, resin, 5, lot_number="LOT_1", location=main, cost="2.5"),
        "lot2": stock(admin_user, resin, 7, lot_number="LOT-2", location=quarantine),
        "paper": stock(admin_user, paper, 12, usage_type="office"),
        "kitted": stock(admin_user, paper, 3),
    }
    issue(admin_user, kit(admin_user, run(admin_user, "RUN-1")), made["kitted"], 3)
    return made


def keys(stock_room, *names) -> list[int]:
    return [stock_room[name].pk for name in names]


# (filters, the inventories they match) for test_filters: each case is one request.
FILTER_CASES = [
    ({"id": {"eq": "KEY:lot1"}}, ["lot1"]),
    ({"id": {"neq": "KEY:lot1"}}, ["sn1", "sn2", "lot2", "paper", "kitted"]),
    ({"id": {"in": ["KEY:sn2", "KEY:paper"]}}, ["sn2", "paper"]),
    ({"id": {"notIn": ["KEY:sn2", "KEY:paper"]}}, ["sn1", "lot1", "lot2", "kitted"]),
    ({"quantity": {"gt": 5}}, ["lot2", "paper"]),
    ({"quantity": {"gte": 5, "lt": 12}}, ["lot1", "lot2"]),
    ({"quantity": {"lte": 0}}, ["sn2", "kitted"]),
    ({"serialNumber": {"like": "SN-%"}}, ["sn1"]),
    ({"serialNumber": {"ilike": "sn-ab%"}}, ["sn1", "sn2"]),
    ({"serialNumber": {"like": "%AB_"}}, ["sn2"]),
    ({"lotNumber": {"like": "LOT\\_%"}}, ["lot1"]),
    ({"lotNumber": {"like": "LOT_%"}}, ["lot1", "lot2"]),
    ({"serialNumber": {"isNull": True}, "lotNumber": {"isNull": True}}, ["paper", "kitted"]),
    ({"serialNumber": {"isNull": False}}, ["sn1", "sn2"]),
    ({"lotNumber": {"gt": "LOT-2"}}, ["lot1"]),
    ({"trackingType": {"eq": "LOT"}}, ["lot1", "lot2"]),
    ({"trackingType": {"isNull": True}}, ["paper", "kitted"]),
    ({"trackingType": {"in": ["SERIAL", "LOT"]}, "quantity": {"gt": 0}}, ["sn1", "lot1", "lot2"]),
    ({"status": {"eq": "UNAVAILABLE"}}, ["sn2", "lot2"]),
    ({"status": {"notIn": ["AVAILABLE", "UNAVAILABLE"]}}, ["kitted"]),
    ({"kitted": {"eq": True}}, ["kitted"]),
    ({"installed": {"neq": True}}, ["sn1", "sn2", "lot1", "lot2", "paper", "kitted"]),
    ({"cost": {"eq": "2.50"}}, ["lot1"]),
    ({"cost": {"isNull": False}}, ["lot1"]),
    ({"usageType": {"ilike": "OFF%"}}, ["paper"]),
    ({"locationId": {"isNull": True}}, ["sn2", "paper", "kitted"]),
    ({"unitOfMeasure": {"eq": "each"}, "kittedQuantity": {"gt": 0}}, ["kitted"]),
    ({"_etag": {"eq": '"2"'}}, ["kitted"]),
    ({"_etag": {"in": ["1"]}, "partId": {"eq": "PART:Paper"}}, ["paper"]),
]


def test_filters(api, stock_room):
    """Every operator, on every kind of field (one scene, one request per case)."""

    def resolve(value):
        if isinstance(value, str) and value.startswith("KEY:"):
            return str(stock_room[value[4:]].pk)
        if isinstance(value, str) and value.startswith("PART:"):
            return str(next(s for s in stock_room.values() if s.part.code == value[5:]).part_id)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    for filters, expected in FILTER_CASES:
        response = graphql(api, INVENTORY_IDS, filters=resolve(filters))
        assert ids(response) == keys(stock_room, *expected), filters
        assert data(response)["partInventories"]["pageInfo"]["totalCount"] == len(expected)


def test_a_filter_value_that_is_no_key_is_an_argument_error(api, stock_room):
    response = graphql(api, INVENTORY_IDS, filters={"partId": {"eq": "Widget"}})
    assert errors_of(response) == [
        error_entry(
            "KS-4020",
            "Argument filters is invalid: partId.eq: Widget is not a key",
            ["partInventories"],
            "filters",
        )
    ]
    assert response.json()["data"] is None


def test_sorting_by_several_fields_then_by_key(api, stock_room):
    response = graphql(api, INVENTORY_IDS, sort=["STATUS_DESC", "QUANTITY_ASC"])
    # unavailable: sn2 (0), lot2 (7); kitted; available: sn1 (1), lot1 (5), paper (12)
    assert ids(response) == keys(stock_room, "sn2", "lot2", "kitted", "sn1", "lot1", "paper")
    nulls_first = graphql(api, INVENTORY_IDS, sort=["SERIAL_NUMBER_ASC"])
    assert ids(nulls_first) == keys(stock_room, "lot1", "lot2", "paper", "kitted", "sn1", "sn2")
    nulls_last = graphql(api, INVENTORY_IDS, sort=["SERIAL_NUMBER_DESC", "ID_DESC"])
    assert ids(nulls_last) == keys(stock_room, "sn2", "sn1", "kitted", "paper", "lot2", "lot1")
    described = graphql(api, '{ __type(name: "PartInventorySortEnum") { description } }')
    assert data(described)["__type"]["description"].endswith(
        "Nulls sort first in _ASC and last in _DESC."
    )


def test_every_list_sorts_and_filters_its_computed_fields(api, admin_user, stock_room):
    PartInventory.objects.filter(pk=stock_room["paper"].pk).update(quantity=F("quantity") + 1)
    parts = graphql(
        api,
        "{ parts(sort: [QUANTITY_DESC], filters: {trackingType: {isNull: false}}) "
        "{ edges { node { partNumber quantity trackingType } } } }",
    )
    assert [edge["node"] for edge in data(parts)["parts"]["edges"]] == [
        {"partNumber": "Resin", "quantity": 12.0, "trackingType": "LOT"},
        {"partNumber": "Widget", "quantity": 1.0, "trackingType": "SERIAL"},
    ]
    locations = graphql(
        api, "{ locations(filters: {inventoryAvailable: {eq: false}}) { edges { node { name } } } }"
    )
    assert data(locations)["locations"]["edges"] == [{"node": {"name": "Quarantine"}}]
    runs = graphql(
        api, '{ runs(filters: {status: {eq: TODO}, title: {like: ""}}) { edges { node { id } } } }'
    )
    assert len(data(runs)["runs"]["edges"]) == 1
    kits = graphql(api, "{ partKits(filters: {status: {neq: DRAFT}}) { edges { node { id } } } }")
    assert data(kits)["partKits"]["edges"] == []


def test_each_status_filtered_on_is_the_status_shown(api, stock_room):
    # The status shown is the SQL its filter reads (a quarantined lot, an empty serial…).
    for status in ("AVAILABLE", "UNAVAILABLE", "KITTED", "INSTALLED"):
        query = "query($s: PartInventoryStatus) { partInventories(filters: {status: {eq: $s}}) "
        shown = data(graphql(api, query + "{ edges { node { status } } } }", s=status))
        statuses = {edge["node"]["status"] for edge in shown["partInventories"]["edges"]}
        assert statuses <= {status}, status
    everything = "{ partInventories(sort: [STATUS_ASC]) { edges { node { id status } } } }"
    edges = data(graphql(api, everything))["partInventories"]["edges"]
    assert {int(edge["node"]["id"]): edge["node"]["status"] for edge in edges} == {
        stock_room["sn1"].pk: "AVAILABLE",
        stock_room["sn2"].pk: "UNAVAILABLE",
        stock_room["lot1"].pk: "AVAILABLE",
        stock_room["lot2"].pk: "UNAVAILABLE",
        stock_room["paper"].pk: "AVAILABLE",
        stock_room["kitted"].pk: "KITTED",
    }


def test_paging_forward_and_back_with_cursors(api, stock_room):
    everything = keys(stock_room, "sn1", "sn2", "lot1", "lot2", "paper", "kitted")
    seen, after = [], None
    pages = []
    while True:
        page = data(graphql(api, INVENTORY_IDS, first=4, after=after))["partInventories"]
        pages.append(page["pageInfo"])
        seen += [int(edge["node"]["id"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    assert [(p["count"], p["totalCount"], p["hasPreviousPage"]) for p in pages] == [
        (4, 6, False),
        (2, 6, True),
    ]

    back, before = [], None
    while True:
        page = data(graphql(api, INVENTORY_IDS, last=4, before=before))["partInventories"]
        back = [int(edge["node"]["id"]) for edge in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == everything

    last_two = data(graphql(api, INVENTORY_IDS, last=2))["partInventories"]
    assert [int(e["node"]["id"]) for e in last_two["edges"]] == everything[-2:]
    assert last_two["pageInfo"]["hasNextPage"] is False
    middle = data(graphql(api, INVENTORY_IDS, after=pages[0]["endCursor"], first=1))
    assert ids_of(middle) == everything[4:5]
    # The cursor is a position in the list as filtered and sorted.
    window = graphql(
        api,
        INVENTORY_IDS,
        after=last_two["edges"][0]["cursor"],
        before=last_two["edges"][1]["cursor"],
    )
    assert ids(window) == []


def ids_of(answer) -> list[int]:
    return [int(edge["node"]["id"]) for edge in answer["partInventories"]["edges"]]


def test_the_default_page_is_100_and_1000_the_most(api, admin_user):
    paper = part(admin_user, "Paper")
    PartInventory.objects.bulk_create(
        PartInventory(part=paper, quantity=1, created_by=admin_user) for _ in range(1001)
    )
    page = data(graphql(api, INVENTORY_IDS))["partInventories"]
    assert (page["pageInfo"]["count"], page["pageInfo"]["totalCount"]) == (100, 1001)
    assert page["pageInfo"]["hasNextPage"] is True
    full = data(graphql(api, INVENTORY_IDS, first=1000))["partInventories"]["pageInfo"]
    assert (full["count"], full["hasNextPage"]) == (1000, True)
    for argument in ("first", "last"):
        response = graphql(api, INVENTORY_IDS, **{argument: 1001})
        assert errors_of(response) == [
            error_entry(
                "KS-4020",
                f"Argument {argument} is invalid: must be between 0 and 1000",
                ["partInventories"],
                argument,
            )
        ]


@pytest.mark.parametrize("cursor", ["bm9wZQ==", "not base64!", "YXJyYXljb25uZWN0aW9uOi0x"])
def test_a_cursor_not_of_the_list_is_an_argument_error(api, stock_room, cursor):
    response = graphql(api, INVENTORY_IDS, after=cursor)
    assert errors_of(response) == [
        error_entry(
            "KS-4020",
            "Argument after is invalid: not a cursor of this list",
            ["partInventories"],
            "after",
        )
    ]
