"""Contract 14: every operation of ION's document (seeds/part-inventory-and-kitting.txt), completed
into well-formed GraphQL and sent with variables over real HTTP with a bearer token, then read
back through the REST API: the same keys, quantities, versions (`_etag` = the ETag without its
quotes) and ledger rows."""

import pytest

from inventory.models import PartInventory
from tests.support.factories import kit, part, run, stock, warehouse
from tests.support.graphql import data, graphql
from tests.support.kitting import ledger
from tests.support.refs import href

pytestmark = pytest.mark.django_db

# The document's operations, completed: the selections it leaves open are closed, the `$sort`
# it uses is declared, and issueItemToKit's payload selects `partInventory` (the document's
# `partInventoryId { … }` selects into an id, and `partsInventory` is the part's).
QUERY_PART_INVENTORIES = """
query PartInventories($filters: PartInventoriesInputFilters, $sort: [PartInventorySortEnum!]) {
    partInventories(sort: $sort, filters: $filters) {
        edges {
            node {
                id cost quantity usageType
                part { partNumber }
                location { id }
            }
        }
    }
}
"""
CREATE_PART_INVENTORY = """
mutation CreatePartInventory($input: CreatePartInventoryInput!) {
    createPartInventory(input: $input) {
        partInventory {
            id quantity cost usageType createdById
            trackingType locationId supplierId _etag
            serialNumber lotNumber
        }
    }
}
"""
UPDATE_PART_INVENTORY = """
mutation UpdatePartInventory($input: UpdatePartInventoryInput!) {
    updatePartInventory(input: $input) {
        partInventory {
            id quantity cost locationId serialNumber lotNumber _etag
        }
    }
}
"""
DELETE_PART_INVENTORY = """
mutation DeletePartInventory($id: ID!, $etag: String!) {
    deletePartInventory(id: $id, etag: $etag) {
        id
    }
}
"""
CREATE_PART_KIT = """
mutation CreatePartKit($input: CreatePartKitInput!) {
    createPartKit(input: $input) {
        partKit {
            id run { id title }
        }
    }
}
"""
ISSUE_ITEM_TO_KIT = """
mutation IssueItemToKit($input: InventoryToKitInput!) {
    issueItemToKit(input: $input) {
        partInventory {
            id serialNumber partKits { id }
            part { partsInventory { id quantity } }
        }
        issuedQuantity
    }
}
"""
MOVE_ITEM_TO_INVENTORY = """
mutation MoveItemToInventory($input: InventoryToKitInput!) {
    moveItemToInventory(input: $input) {
        partInventory {
           id quantity partId serialNumber lotNumber
           location { name } partKits { id }
        }
        issuedQuantity
    }
}
"""
QUERY_PART_KITS = """
query PartKits($filters: PartKitsInputFilters, $sort: [PartKitSortEnum!]) {
    partKits(sort: $sort, filters: $filters) {
        edges {
            node {
                run { id }
                partInventories { id issuedQuantity }
            }
        }
    }
}
"""


def rest(api, obj_or_href):
    """The REST API's view of an object: its body and its ETag."""
    response = api.get(obj_or_href if isinstance(obj_or_href, str) else href(obj_or_href))
    assert response.status_code == 200, response.content
    return response.json()["ia::result"], response["ETag"]


@pytest.fixture
def scene(admin_user):
    """ION's example: a serial part (key 1), a lot part (key 2), a shelf and a run."""
    return {
        "serial": part(admin_user, "Widget", enable_serial_no=True),
        "lot": part(admin_user, "Resin", enable_lot_category=True),
        "shelf": warehouse(admin_user, "WH-1", "Main shelf"),
        "run": run(admin_user, "RUN-1", title="Starter kit"),
    }


def test_create_part_inventory_with_each_of_the_documents_inputs(api, admin_user, scene):
    serial, lot, shelf = scene["serial"], scene["lot"], scene["shelf"]
    inputs = [
        # "the first inputs": the serial part, a serial number, stored on the shelf.
        {
            "partId": str(serial.pk),
            "serialNumber": "SN-1001",
            "quantity": 1,
            "cost": "12.50",
            "usageType": "production",
            "supplierId": "ACME",
            "locationId": str(shelf.pk),
        },
        # "the second input": the lot part, a lot number and no quantity (so 0).
        {"partId": str(lot.pk), "lotNumber": "LOT-7"},
        # "the last set of inputs": both numbers generated.
        {"partId": str(serial.pk), "autogenerateSerialNumber": True, "quantity": 1},
        {"partId": str(lot.pk), "autogenerateLotNumber": True, "quantity": 25},
    ]
    made = [
        data(graphql(api, CREATE_PART_INVENTORY, input=each))["createPartInventory"][
            "partInventory"
        ]
        for each in inputs
    ]
    keys = list(PartInventory.objects.order_by("pk").values_list("pk", flat=True))
    assert [m["id"] for m in made] == [str(k) for k in keys]
    assert made[0] == {
        "id": str(keys[0]),
        "quantity": 1.0,
        "cost": "12.5",
        "usageType": "production",
        "createdById": str(admin_user.pk),
        "trackingType": "SERIAL",
        "locationId": str(shelf.pk),
        "supplierId": "ACME",
        "_etag": "1",
        "serialNumber": "SN-1001",
        "lotNumber": None,
    }
    assert made[1]["quantity"] == 0 and made[1]["trackingType"] == "LOT"
    assert made[2]["serialNumber"] == "Widget-000001"
    assert made[3]["lotNumber"] == "Resin-L000001"
    for created in made:
        body, etag = rest(api, f"/objects/inventory-control/part-inventory/{created['id']}")
        assert etag == f'"{created["_etag"]}"'
        assert body["key"] == created["id"]
        assert body["quantity"] == created["quantity"]
        assert body["serialNumber"] == created["serialNumber"]
        assert body["lotNumber"] == created["lotNumber"]
        assert body["cost"] == created["cost"]
        assert body["trackingType"] == created["trackingType"].lower()
        inventory = PartInventory.objects.get(pk=created["id"])
        quantity = inventory.quantity
        assert ledger(inventory) == [("create", quantity, 0, 0, quantity, None, None)]
    stored = PartInventory.objects.get(pk=keys[0])
    assert (stored.usage_type, stored.supplier_id) == ("production", "ACME")


def test_query_part_inventories_as_the_document_writes_it(api, admin_user, scene):
    first = stock(admin_user, scene["lot"], 5, lot_number="L-1", location=scene["shelf"])
    PartInventory.objects.filter(pk=first.pk).update(usage_type="spares", cost="3.25")
    second = stock(admin_user, scene["serial"], 1, serial_number="SN-1")
    found = data(
        graphql(
            api,
            QUERY_PART_INVENTORIES,
            filters={"quantity": {"gte": 1}},
            sort=["QUANTITY_DESC"],
        )
    )["partInventories"]["edges"]
    assert [edge["node"] for edge in found] == [
        {
            "id": str(first.pk),
            "cost": "3.25",
            "quantity": 5.0,
            "usageType": "spares",
            "part": {"partNumber": "Resin"},
            "location": {"id": str(scene["shelf"].pk)},
        },
        {
            "id": str(second.pk),
            "cost": None,
            "quantity": 1.0,
            "usageType": None,
            "part": {"partNumber": "Widget"},
            "location": None,
        },
    ]
    for edge in found:
        body, _ = rest(api, f"/objects/inventory-control/part-inventory/{edge['node']['id']}")
        assert body["quantity"] == edge["node"]["quantity"]
        assert body["cost"] == edge["node"]["cost"]
        assert body["part"]["id"] == edge["node"]["part"]["partNumber"]
        location = body["location"]
        assert (location and {"id": location["key"]}) == edge["node"]["location"]


def test_update_part_inventory_under_its_etag_writes_an_adjust_row(api, admin_user, scene):
    inventory = stock(admin_user, scene["lot"], 5, lot_number="L-1")
    answer = data(
        graphql(
            api,
            UPDATE_PART_INVENTORY,
            input={
                "id": str(inventory.pk),
                "etag": '"1"',
                "quantity": 8,
                "cost": "4.10",
                "locationId": str(scene["shelf"].pk),
                "lotNumber": "L-2",
            },
        )
    )["updatePartInventory"]["partInventory"]
    assert answer == {
        "id": str(inventory.pk),
        "quantity": 8.0,
        "cost": "4.1",
        "locationId": str(scene["shelf"].pk),
        "serialNumber": None,
        "lotNumber": "L-2",
        "_etag": "2",
    }
    body, etag = rest(api, inventory)
    assert etag == '"2"'
    assert (body["quantity"], body["cost"], body["lotNumber"]) == (8, "4.1", "L-2")
    assert body["location"]["key"] == str(scene["shelf"].pk)
    assert ledger(inventory)[-1] == ("adjust", 3, 0, 0, 8, None, None)
    # The version as `_etag` gives it, without quotes, is accepted too.
    again = graphql(
        api, UPDATE_PART_INVENTORY, input={"id": str(inventory.pk), "etag": "2", "cost": "4.2"}
    )
    assert data(again)["updatePartInventory"]["partInventory"]["_etag"] == "3"
    # A change that changes nothing keeps the version, as a REST PATCH does.
    same = graphql(
        api, UPDATE_PART_INVENTORY, input={"id": str(inventory.pk), "etag": "3", "quantity": 8}
    )
    assert data(same)["updatePartInventory"]["partInventory"]["_etag"] == "3"


def test_delete_part_inventory_by_id_and_etag(api, admin_user, scene):
    inventory = stock(admin_user, scene["lot"], 5, lot_number="L-1")
    answer = graphql(api, DELETE_PART_INVENTORY, id=str(inventory.pk), etag="1")
    assert data(answer) == {"deletePartInventory": {"id": str(inventory.pk)}}
    assert api.get(href(inventory)).status_code == 404
    assert ledger(inventory)[-1] == ("delete", -5, 0, 0, 0, None, None)


def test_create_part_kit_for_a_run(api, scene):
    answer = data(graphql(api, CREATE_PART_KIT, input={"runId": str(scene["run"].pk)}))
    created = answer["createPartKit"]["partKit"]
    assert created["run"] == {"id": str(scene["run"].pk), "title": "Starter kit"}
    body, etag = rest(api, f"/objects/inventory-control/part-kit/{created['id']}")
    assert (body["run"]["key"], body["status"], etag) == (str(scene["run"].pk), "draft", '"1"')


def test_issue_a_serial_then_move_it_back_to_inventory(api, admin_user, scene):
    serial = stock(admin_user, scene["serial"], 1, serial_number="SN-1")
    part_kit = kit(admin_user, scene["run"])
    issued = data(
        graphql(
            api,
            ISSUE_ITEM_TO_KIT,
            input={"partInventoryId": str(serial.pk), "partKitId": str(part_kit.pk)},
        )
    )["issueItemToKit"]
    assert issued == {
        "partInventory": {
            "id": str(serial.pk),
            "serialNumber": "SN-1",
            "partKits": [{"id": str(part_kit.pk)}],
            "part": {"partsInventory": [{"id": str(serial.pk), "quantity": 0.0}]},
        },
        "issuedQuantity": 1.0,
    }
    body, _ = rest(api, part_kit)
    assert [(e["partInventory"]["key"], e["issuedQuantity"]) for e in body["partInventories"]] == [
        (str(serial.pk), 1)
    ]
    assert ledger(serial)[-1] == ("issue", -1, 1, 0, 0, part_kit.pk, scene["run"].pk)

    moved = data(
        graphql(
            api,
            MOVE_ITEM_TO_INVENTORY,
            input={
                "partInventoryId": str(serial.pk),
                "partKitId": str(part_kit.pk),
                "locationId": str(scene["shelf"].pk),
            },
        )
    )["moveItemToInventory"]
    assert moved == {
        "partInventory": {
            "id": str(serial.pk),
            "quantity": 1.0,
            "partId": str(scene["serial"].pk),
            "serialNumber": "SN-1",
            "lotNumber": None,
            "location": {"name": "Main shelf"},
            "partKits": [],
        },
        "issuedQuantity": 0.0,
    }
    body, etag = rest(api, serial)
    assert (body["quantity"], body["kittedQuantity"], body["location"]["id"]) == (1, 0, "WH-1")
    assert etag == '"3"'
    assert rest(api, part_kit)[0]["partInventories"] == []
    assert ledger(serial)[-1] == ("return", 1, -1, 0, 1, part_kit.pk, scene["run"].pk)


def test_issue_part_of_a_lot_and_move_some_back(api, admin_user, scene):
    lot = stock(admin_user, scene["lot"], 25, lot_number="L-1")
    part_kit = kit(admin_user, scene["run"])
    move = {"partInventoryId": str(lot.pk), "partKitId": str(part_kit.pk)}
    issued = data(graphql(api, ISSUE_ITEM_TO_KIT, input={**move, "quantity": 6}))
    assert issued["issueItemToKit"]["issuedQuantity"] == 6.0
    moved = data(graphql(api, MOVE_ITEM_TO_INVENTORY, input={**move, "quantity": 2}))
    assert moved["moveItemToInventory"]["issuedQuantity"] == 4.0
    assert moved["moveItemToInventory"]["partInventory"]["quantity"] == 21.0
    body, _ = rest(api, lot)
    assert (body["quantity"], body["kittedQuantity"]) == (21, 4)
    assert [row[:5] for row in ledger(lot)] == [
        ("create", 25, 0, 0, 25),
        ("issue", -6, 6, 0, 19),
        ("return", 2, -2, 0, 21),
    ]


def test_query_part_kits_as_the_document_writes_it(api, admin_user, scene):
    lot = stock(admin_user, scene["lot"], 25, lot_number="L-1")
    serial = stock(admin_user, scene["serial"], 1, serial_number="SN-1")
    full, empty = kit(admin_user, scene["run"]), kit(admin_user, scene["run"])
    for inventory, quantity in ((lot, 6), (serial, 1)):
        move = {"partInventoryId": str(inventory.pk), "partKitId": str(full.pk)}
        data(graphql(api, ISSUE_ITEM_TO_KIT, input={**move, "quantity": quantity}))
    found = data(graphql(api, QUERY_PART_KITS, sort=["ID_DESC"], filters=None))
    run_ref = {"id": str(scene["run"].pk)}
    assert [edge["node"] for edge in found["partKits"]["edges"]] == [
        {"run": run_ref, "partInventories": []},
        {
            "run": run_ref,
            "partInventories": [
                {"id": str(lot.pk), "issuedQuantity": 6.0},
                {"id": str(serial.pk), "issuedQuantity": 1.0},
            ],
        },
    ]
    assert empty.pk > full.pk
    body, _ = rest(api, full)
    assert [(e["partInventory"]["key"], e["issuedQuantity"]) for e in body["partInventories"]] == [
        (str(lot.pk), 6),
        (str(serial.pk), 1),
    ]
