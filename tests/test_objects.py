"""The generated object tests (tests/support/objects.py) for every object of the API: each class
names its object, how to make one, a create and a patch body and the exact GET body."""

from decimal import Decimal

from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitcomponents.models import KitComponent
from kitting.models import PartKit, Run
from tests.support.factories import kit, kit_line, part, run, stock, warehouse
from tests.support.objects import ObjectTests
from tests.support.refs import audit, href, ref


class TestItem(ObjectTests):
    object_name = "inventory-control/item"
    model = Item
    filters = ("id", "itemType", "status")
    app_label = "inventory"
    patch_body = {"name": "Renamed"}
    patched = {"name": "Renamed"}

    def make(self, user):
        return part(user, f"Part-{self.number()}")

    def create_body(self, user):
        code = f"New-{self.number()}"
        body = {"id": code, "name": "New item", "itemType": "inventory"}
        return body, {"code": code, "name": "New item", "item_type": "inventory"}

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": obj.code,
            "name": obj.name,
            "status": "active",
            "itemType": "inventory",
            "costMethod": "standard",
            "unitOfMeasure": "each",
            "extendedDescription": "",
            "purchasing": {"standardCost": "0"},
            "tracking": {
                "enableSerialNo": False,
                "serialMask": "",
                "enableLotCategory": False,
                "lotCategory": "",
            },
            "kitRevenuePosting": None,
            "kitComponents": [],
            "trackingType": "untracked",
            "onHandQuantity": 0,
            "availableQuantity": 0,
            "kittedQuantity": 0,
            "buildableQuantity": None,
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestWarehouse(ObjectTests):
    object_name = "inventory-control/warehouse"
    model = Warehouse
    filters = ("id", "status")
    app_label = "inventory"
    patch_body = {"name": "Renamed", "status": "inactive"}
    patched = {"name": "Renamed", "status": "inactive"}

    def make(self, user):
        return warehouse(user, f"WH-{self.number()}")

    def create_body(self, user):
        code = f"WH-NEW-{self.number()}"
        return {"id": code, "name": "New shelf"}, {"code": code, "name": "New shelf"}

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": obj.code,
            "name": "Main shelf",
            "status": "active",
            "inventoryAvailable": True,
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestKitComponent(ObjectTests):
    object_name = "inventory-control/kit-component"
    model = KitComponent
    filters = ("kit", "component")
    app_label = "kitcomponents"
    patch_body = {"numberOfUnits": 5}
    patched = {"number_of_units": Decimal(5)}

    def make(self, user):
        n = self.number()
        return kit_line(user, part(user, f"Kit-{n}", "kit"), part(user, f"Part-{n}"), 2)

    def create_body(self, user):
        n = self.number()
        kit, component = part(user, f"Kit-{n}", "kit"), part(user, f"Part-{n}")
        body = {
            "kit": {"id": kit.code},
            "component": {"key": str(component.pk)},
            "numberOfUnits": 3,
        }
        values = {"kit": kit, "component": component, "number_of_units": 3, "line_number": 1}
        return body, values

    def expected(self, obj, user):
        component = obj.component
        return {
            "key": str(obj.pk),
            "id": str(obj.pk),
            "kit": ref(obj.kit),
            "component": {
                "key": str(component.pk),
                "id": component.code,
                "name": component.name,
                "costMethod": "standard",
                "itemType": "inventory",
                "unitOfMeasure": "each",
                "standardCost": "0",
                "href": href(component),
            },
            "numberOfUnits": 2,
            "revenuePercentage": None,
            "defaultDeliveryStatus": "delivered",
            "defaultDeferralStatus": "deferUntilItemIsDelivered",
            "lineNumber": 1,
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestPartInventory(ObjectTests):
    object_name = "inventory-control/part-inventory"
    model = PartInventory
    filters = ("part", "location", "serialNumber", "lotNumber")
    app_label = "inventory"
    if_match_required = True
    patch_body = {"cost": "2.50"}
    patched = {"cost": Decimal("2.50"), "quantity": 3}
    related = (InventoryTransaction,)

    def make(self, user):
        shelf = warehouse(user, f"WH-{self.number()}")
        return stock(user, part(user, f"Part-{self.made}"), 3, location=shelf)

    def create_body(self, user):
        stocked = part(user, f"New-{self.number()}")
        body = {"part": {"id": stocked.code}, "quantity": 4}
        return body, {"part": stocked, "quantity": 4, "serial_number": None, "location": None}

    def test_create_writes_its_ledger_row(self, api, admin_user):
        body, _ = self.create_body(admin_user)
        key = api.post(self.path, body, format="json").json()["ia::result"]["key"]
        rows = InventoryTransaction.objects.filter(part_inventory_id=key)
        assert list(rows.values_list("type", "quantity", "quantity_after")) == [("create", 4, 4)]

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": str(obj.pk),
            "part": ref(obj.part),
            "serialNumber": None,
            "lotNumber": None,
            "location": ref(obj.location),
            "quantity": 3,
            "cost": None,
            "unitOfMeasure": "each",
            "trackingType": "untracked",
            "kittedQuantity": 0,
            "installedQuantity": 0,
            "kitted": False,
            "installed": False,
            "status": "available",
            "runs": [],
            "builtBy": None,
            "originPartInventory": None,
            "etag": '"1"',
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestInventoryTransaction(ObjectTests):
    object_name = "inventory-control/inventory-transaction"
    model = InventoryTransaction
    filters = ("partInventory", "part", "type", "partKit", "run")
    app_label = "inventory"
    methods = frozenset()
    patch_body = {"quantity": 1}

    def make(self, user):
        inventory = stock(user, part(user, f"Part-{self.number()}"), 3)
        return InventoryTransaction.objects.get(part_inventory_id=inventory.pk)

    def create_body(self, user):
        return {"type": "adjust", "quantity": 1}, {}

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": str(obj.pk),
            "partInventory": ref(obj.part_inventory),
            "part": ref(obj.part_inventory.part),
            "type": "create",
            "quantity": 3,
            "kittedQuantity": 0,
            "installedQuantity": 0,
            "quantityAfter": 3,
            "partKit": None,
            "run": None,
            "reason": "",
            "fromLocation": None,
            "toLocation": None,
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestRun(ObjectTests):
    object_name = "inventory-control/run"
    model = Run
    filters = ("id", "status", "part")
    app_label = "kitting"
    patch_body = {"title": "Renamed", "quantity": 4}
    patched = {"title": "Renamed", "quantity": 4}

    def make(self, user):
        return run(user, f"RUN-{self.number()}")

    def create_body(self, user):
        code = f"RUN-NEW-{self.number()}"
        body = {"id": code, "title": "Build", "quantity": 2}
        return body, {"code": code, "title": "Build", "quantity": 2, "status": "todo"}

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": obj.code,
            "title": "",
            "part": None,
            "quantity": 1,
            "status": "todo",
            "partKits": [],
            "outputs": [],
            "installations": [],
            "audit": audit(obj, user),
            "href": href(obj),
        }


class TestPartKit(ObjectTests):
    object_name = "inventory-control/part-kit"
    model = PartKit
    filters = ("run", "status")
    app_label = "kitting"
    patch_body = {"status": "requested"}
    patched = {"status": "requested"}

    def make(self, user):
        return kit(user, run(user, f"RUN-{self.number()}"))

    def create_body(self, user):
        for_run = run(user, f"RUN-NEW-{self.number()}")
        return {"run": {"id": for_run.code}}, {"run": for_run, "status": "draft"}

    def expected(self, obj, user):
        return {
            "key": str(obj.pk),
            "id": str(obj.pk),
            "run": ref(obj.run),
            "status": "draft",
            "partInventories": [],
            "requirements": [],
            "audit": audit(obj, user),
            "href": href(obj),
        }
