"""The seed's whole story ("Part Inventory and Kitting"), through the API only: create serial, lot
and untracked part inventory, allocate it to a run with a part kit, move part of the lot back,
build the run into a serial assembly, and issue that assembly to a higher-level run's kit."""

from tests.support.kitting import (
    COMPLETE,
    INVENTORY,
    ISSUE,
    KITS,
    MOVE,
    RUNS,
    assert_ledger_invariant,
)
from tests.support.refs import ONE

LEDGER = "/objects/inventory-control/inventory-transaction"
QUERY = "/services/core/query"


def created_key(response) -> str:
    assert response.status_code == 201, response.json()
    return response.json()["ia::result"]["key"]


def get(api, path: str) -> dict:
    response = api.get(path)
    assert response.status_code == 200, response.json()
    return response.json()["ia::result"]


def post(api, path: str, body: dict) -> dict:
    response = api.post(path, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ia::meta"] == ONE
    return response.json()["ia::result"]


def ref(kind: str, key: str, ident: str | None = None) -> dict:
    return {"key": key, "id": ident or key, "href": f"/objects/inventory-control/{kind}/{key}"}


def test_the_part_inventory_and_kitting_story(api):
    # Parts: a serial-tracked board, lot-tracked paste, untracked screws, and the assembly they
    # make (a serial-tracked stockable kit), itself a component of a top-level product.
    def item(body):
        return created_key(api.post("/objects/inventory-control/item", body, format="json"))

    board = item(
        {
            "id": "Board",
            "name": "Board",
            "itemType": "inventory",
            "tracking": {"enableSerialNo": True, "serialMask": "BRD-####"},
        }
    )
    paste = item(
        {
            "id": "Paste",
            "name": "Solder paste",
            "itemType": "inventory",
            "tracking": {"enableLotCategory": True},
        }
    )
    screw = item({"id": "Screw", "name": "Screw", "itemType": "inventory"})
    assembly = item(
        {
            "id": "Controller",
            "name": "Controller",
            "itemType": "stockableKit",
            "tracking": {"enableSerialNo": True, "serialMask": "CTL-###"},
        }
    )
    product = item({"id": "Robot", "name": "Robot", "itemType": "stockableKit"})
    for kit_item, component, units in (
        (assembly, board, 1),
        (assembly, paste, 2),
        (assembly, screw, 4),
        (product, assembly, 1),
    ):
        created_key(
            api.post(
                "/objects/inventory-control/kit-component",
                {
                    "kit": {"key": kit_item},
                    "component": {"key": component},
                    "numberOfUnits": units,
                },
                format="json",
            )
        )
    stores = created_key(
        api.post(
            "/objects/inventory-control/warehouse",
            {"id": "STORES", "name": "Stores"},
            format="json",
        )
    )
    line = created_key(
        api.post(
            "/objects/inventory-control/warehouse",
            {"id": "LINE", "name": "Line side"},
            format="json",
        )
    )

    # 1. Part inventory: a serial (generated), a lot and untracked stock.
    def inventory(body):
        return created_key(api.post(INVENTORY, body, format="json"))

    serial = inventory(
        {
            "part": {"id": "Board"},
            "autogenerateSerialNumber": True,
            "quantity": 1,
            "location": {"id": "STORES"},
        }
    )
    lot = inventory(
        {
            "part": {"id": "Paste"},
            "lotNumber": "LOT-7",
            "quantity": 10,
            "location": {"id": "STORES"},
        }
    )
    loose = inventory({"part": {"id": "Screw"}, "quantity": 100})
    assert get(api, f"{INVENTORY}/{serial}")["serialNumber"] == "BRD-0001"

    # 2. A run building one controller, and its part kit.
    run = created_key(
        api.post(
            RUNS,
            {"id": "RUN-CTL-1", "title": "Controller build", "part": {"id": "Controller"}},
            format="json",
        )
    )
    kit = created_key(api.post(KITS, {"run": {"key": run}}, format="json"))
    requirements = get(api, f"{KITS}/{kit}")["requirements"]
    assert [(r["part"]["id"], r["requiredQuantity"], r["shortQuantity"]) for r in requirements] == [
        ("Board", 1, 1),
        ("Paste", 2, 2),
        ("Screw", 4, 4),
    ]

    # 3. Issue each: the serial without a quantity, 5 of the lot, 4 screws.
    issued = post(api, ISSUE, {"key": kit, "partInventory": {"key": serial}})
    assert issued == {
        **ref("part-kit", kit),
        "partInventory": {**ref("part-inventory", serial), "quantity": 0},
        "issuedQuantity": 1,
    }
    assert (
        post(api, ISSUE, {"key": kit, "partInventory": {"key": lot}, "quantity": 5})[
            "partInventory"
        ]["quantity"]
        == 5
    )
    post(api, ISSUE, {"key": kit, "partInventory": {"key": loose}, "quantity": 4})
    board_now = get(api, f"{INVENTORY}/{serial}")
    assert (board_now["quantity"], board_now["kittedQuantity"], board_now["kitted"]) == (0, 1, True)
    assert board_now["runs"] == [ref("run", run, "RUN-CTL-1")]

    # 4. Too much paste went out: 3 go back, to the line-side location.
    moved = post(
        api,
        MOVE,
        {"key": kit, "partInventory": {"key": lot}, "quantity": 3, "location": {"id": "LINE"}},
    )
    assert moved["issuedQuantity"] == 2 and moved["partInventory"]["quantity"] == 8
    part_kit = get(api, f"{KITS}/{kit}")
    assert [
        (e["partInventory"]["key"], e["issuedQuantity"]) for e in part_kit["partInventories"]
    ] == [(serial, 1), (lot, 2), (loose, 4)]
    assert [r["shortQuantity"] for r in part_kit["requirements"]] == [0, 0, 0]

    # 5. Build: the kit's parts are installed into a new serial controller.
    completed = post(api, COMPLETE, {"key": run, "location": {"key": stores}})
    [output] = completed["outputs"]
    controller = output["key"]
    assert completed == {
        **ref("run", run, "RUN-CTL-1"),
        "status": "complete",
        "outputs": [
            {
                **ref("part-inventory", controller),
                "serialNumber": "CTL-001",
                "lotNumber": None,
                "quantity": 1,
            }
        ],
    }
    run_now = get(api, f"{RUNS}/{run}")
    assert run_now["status"] == "complete"
    assert run_now["partKits"] == [ref("part-kit", kit)]
    assert run_now["outputs"] == [ref("part-inventory", controller)]

    def part_ref(key, ident):
        return ref("item", key, ident)

    assert run_now["installations"] == [
        {
            "partInventory": {
                **ref("part-inventory", serial),
                "serialNumber": "BRD-0001",
                "lotNumber": None,
                "part": part_ref(board, "Board"),
            },
            "quantity": 1,
        },
        {
            "partInventory": {
                **ref("part-inventory", lot),
                "serialNumber": None,
                "lotNumber": "LOT-7",
                "part": part_ref(paste, "Paste"),
            },
            "quantity": 2,
        },
        {
            "partInventory": {
                **ref("part-inventory", loose),
                "serialNumber": None,
                "lotNumber": None,
                "part": part_ref(screw, "Screw"),
            },
            "quantity": 4,
        },
    ]
    assert get(api, f"{KITS}/{kit}")["status"] == "completed"

    def state(key):
        body = get(api, f"{INVENTORY}/{key}")
        return (
            body["quantity"],
            body["kittedQuantity"],
            body["installedQuantity"],
            body["kitted"],
            body["installed"],
            body["runs"],
            body["builtBy"],
        )

    run_ref = ref("run", run, "RUN-CTL-1")
    assert state(serial) == (0, 0, 1, False, True, [run_ref], None)
    assert state(lot) == (8, 0, 2, False, False, [run_ref], None)
    assert state(loose) == (96, 0, 4, False, False, [run_ref], None)
    assert state(controller) == (1, 0, 0, False, False, [], run_ref)
    assert get(api, f"{INVENTORY}/{lot}")["location"]["id"] == "LINE"
    assert get(api, f"{INVENTORY}/{controller}")["location"]["id"] == "STORES"
    assert line  # the warehouse the paste went back to

    # 6. The controller is ordinary inventory: issue it to a robot run's kit.
    top_run = created_key(
        api.post(RUNS, {"id": "RUN-ROBOT-1", "part": {"id": "Robot"}}, format="json")
    )
    top_kit = created_key(api.post(KITS, {"run": {"id": "RUN-ROBOT-1"}}, format="json"))
    post(api, ISSUE, {"key": top_kit, "partInventory": {"key": controller}})
    top_ref = ref("run", top_run, "RUN-ROBOT-1")
    assert state(controller) == (0, 1, 0, True, False, [top_ref], run_ref)
    assert [r["shortQuantity"] for r in get(api, f"{KITS}/{top_kit}")["requirements"]] == [0]

    # Walking the as-built tree: the controller in the robot kit was built by RUN-CTL-1, whose
    # installations name the board serial and the paste lot inside it.
    built_by = get(api, f"{INVENTORY}/{controller}")["builtBy"]["key"]
    inside = get(api, f"{RUNS}/{built_by}")["installations"]
    assert [
        (i["partInventory"]["serialNumber"], i["partInventory"]["lotNumber"]) for i in inside
    ] == [("BRD-0001", None), (None, "LOT-7"), (None, None)]

    # The ledger explains every unit (contract 7.5), also through the API.
    rows = api.get(LEDGER, {"size": 4000}).json()["ia::result"]
    types = [get(api, row["href"])["type"] for row in rows]
    assert types == [
        "create",
        "create",
        "create",  # board, paste, screws
        "issue",
        "issue",
        "issue",  # into the controller kit
        "return",  # 3 paste back
        "install",
        "install",
        "install",  # the build ...
        "build",  # ... and its output
        "issue",  # the controller into the robot kit
    ]
    query = post_query(
        api,
        {
            "object": "inventory-control/inventory-transaction",
            "fields": [
                "partInventory.key",
                "sum:quantity",
                "sum:kittedQuantity",
                "sum:installedQuantity",
            ],
        },
    )
    totals = {row["partInventory.key"]: row for row in query}
    for key in (serial, lot, loose, controller):
        body = get(api, f"{INVENTORY}/{key}")
        assert (
            totals[key]["sum:quantity"],
            totals[key]["sum:kittedQuantity"],
            totals[key]["sum:installedQuantity"],
        ) == (body["quantity"], body["kittedQuantity"], body["installedQuantity"])
    assert assert_ledger_invariant() == 4


def post_query(api, body: dict) -> list[dict]:
    response = api.post(QUERY, body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["ia::result"]
