"""Helpers for the kitting tests: literal error bodies for the kitting errorIds, building stock
through the real services, calling the workflows, and the ledger invariant of contract 7.5."""

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from inventory import services as inventory_services
from inventory.models import InventoryTransaction, PartInventory
from kitting import services
from kitting.models import CLOSED_KIT_STATUSES, PartKitLine
from tests.expect import FAILED_META, ONE, audit, ref  # noqa: F401 (re-exported)

ISSUE = "/workflows/inventory-control/part-kit/issue"
MOVE = "/workflows/inventory-control/part-kit/move-to-inventory"
COMPLETE = "/workflows/inventory-control/run/complete"
RUNS = "/objects/inventory-control/run"
KITS = "/objects/inventory-control/part-kit"
INVENTORY = "/objects/inventory-control/part-inventory"

# errorId -> (code, messageId), spelled out rather than read from the catalogue.
IDS = {
    "REST-1028": ("invalidRequest", "IA.REQUEST_REQUIRES_PAYLOAD"),
    "REST-1043": ("invalidRequest", "IA.NOT_A_VALID_FIELD"),
    "REST-1064": ("invalidRequest", "IA.PAYLOAD_CONTAINS_ERRORS"),
    "KS-4002": ("invalidRequest", "KS.PAYLOAD_NOT_OBJECT"),
    "KS-4003": ("invalidRequest", "KS.INVALID_PARAMETER"),
    "KS-4011": ("unauthorized", "KS.NOT_AUTHENTICATED"),
    "KS-4031": ("forbidden", "KS.FORBIDDEN"),
    "KS-4041": ("notFound", "KS.OBJECT_NOT_FOUND"),
    "KS-4051": ("methodNotAllowed", "KS.METHOD_NOT_ALLOWED"),
    "KS-4091": ("conflict", "KS.DUPLICATE"),
    "KS-4092": ("conflict", "KS.STILL_REFERENCED"),
    "KS-4098": ("conflict", "KS.KIT_STILL_HOLDS"),
    "KS-4121": ("preconditionFailed", "KS.PRECONDITION_FAILED"),
    "KS-4220": ("operationFailed", "KS.OPERATION_FAILED"),
    "KS-4221": ("operationFailed", "KS.REQUIRED"),
    "KS-4222": ("operationFailed", "KS.INVALID_VALUE"),
    "KS-4223": ("operationFailed", "KS.IMMUTABLE"),
    "KS-4224": ("operationFailed", "KS.REFERENCE_NOT_FOUND"),
    "KS-4250": ("operationFailed", "KS.ISSUE_EXCEEDS_ON_HAND"),
    "KS-4251": ("operationFailed", "KS.MOVE_EXCEEDS_ISSUED"),
    "KS-4252": ("operationFailed", "KS.NOT_IN_KIT"),
    "KS-4253": ("operationFailed", "KS.KIT_CLOSED"),
    "KS-4254": ("operationFailed", "KS.KIT_STATUS_FINAL"),
    "KS-4255": ("operationFailed", "KS.RUN_CLOSED"),
    "KS-4256": ("operationFailed", "KS.RUN_HAS_NO_PART"),
    "KS-4257": ("operationFailed", "KS.RUN_PART_NOT_STOCKED"),
    "KS-4258": ("operationFailed", "KS.SERIAL_MOVES_ONE"),
    "KS-4259": ("operationFailed", "KS.RUN_COMPLETED_BY_WORKFLOW"),
    "KS-4260": ("operationFailed", "KS.SERIAL_NUMBERS_COUNT"),
}
STATUS = {
    "invalidRequest": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "notFound": 404,
    "methodNotAllowed": 405,
    "conflict": 409,
    "preconditionFailed": 412,
    "operationFailed": 422,
}


def err(error_id: str, message: str, target: str | None = None, **placeholders: Any) -> dict:
    code, message_id = IDS[error_id]
    body: dict[str, Any] = {"code": code, "message": message, "errorId": error_id}
    if target is not None:
        body["target"] = target
    body["additionalInfo"] = {
        "messageId": message_id,
        "placeholders": {k: str(v) for k, v in placeholders.items()},
        "propertySet": {},
    }
    return body


def assert_error(response, error: dict, details: list[dict] | None = None) -> None:
    """The exact ia::error body, its status from the code, supportId = X-Request-Id."""
    top = {**error, "supportId": response["X-Request-Id"]}
    if details is not None:
        top["details"] = details
    assert (response.status_code, response.json()) == (
        STATUS[error["code"]],
        {"ia::result": {"ia::error": top}, "ia::meta": FAILED_META},
    )


def assert_rules(response, *details: dict) -> None:
    assert_error(response, err("KS-4220", "The operation could not be completed"), list(details))


def required(field: str) -> dict:
    return err("KS-4221", f"{field} is required", field, FIELD=field)


def invalid(field: str, reason: str) -> dict:
    return err("KS-4222", f"{field} is invalid: {reason}", field, FIELD=field, REASON=reason)


def not_found(obj: str, key) -> dict:
    return err("KS-4041", f"{obj} with key {key} was not found", OBJECT=obj, KEY=key)


def exceeds_on_hand(key, requested, available) -> dict:
    return err(
        "KS-4250",
        f"Cannot issue {requested}: part inventory {key} has {available} on hand",
        "quantity",
        REQUESTED=requested,
        KEY=key,
        AVAILABLE=available,
    )


def kit_closed(kit) -> dict:
    return err(
        "KS-4253",
        f"Part kit {kit.pk} is {kit.status}: nothing can be issued to it or moved out of it",
        "key",
        KEY=kit.pk,
        STATUS=kit.status,
    )


def serial_moves_one(inventory) -> dict:
    return err(
        "KS-4258",
        f"Part inventory {inventory.pk} is serial {inventory.serial_number}: it moves one unit at "
        "a time, quantity must be 1",
        "quantity",
        KEY=inventory.pk,
        SERIAL=inventory.serial_number,
    )


def run_closed(run, target: str, reason: str) -> dict:
    return err(
        "KS-4255",
        f"Run {run.code} is {run.status}: {reason}",
        target,
        ID=run.code,
        STATUS=run.status,
        REASON=reason,
    )


def inventory_ref(inventory) -> dict:
    """A part inventory as a kit's partInventories and a run's installations render it."""
    return {
        **ref(inventory),
        "serialNumber": inventory.serial_number,
        "lotNumber": inventory.lot_number,
        "part": ref(inventory.part),
    }


# --- stock, through the real services ------------------------------------------------------------


def part(user, code: str, item_type: str = "inventory", **fields) -> Any:
    return inventory_services.item_create(
        user=user, code=code, name=f"{code} name", item_type=item_type, **fields
    )


def stock(user, item, quantity=0, **fields) -> PartInventory:
    return inventory_services.part_inventory_create(
        user=user, part=item, quantity=quantity, **fields
    )


def run(user, code: str = "RUN-1", **fields):
    return services.run_create(user=user, code=code, **fields)


def kit(user, for_run, **fields):
    return services.part_kit_create(user=user, run=for_run, **fields)


def issue_body(part_kit, inventory, quantity=None) -> dict:
    body = {"key": str(part_kit.pk), "partInventory": {"key": str(inventory.pk)}}
    if quantity is not None:
        body["quantity"] = quantity
    return body


def fresh(obj):
    obj.refresh_from_db()
    return obj


def lines_of(part_kit) -> list[tuple[int, Decimal]]:
    return list(
        PartKitLine.objects.filter(part_kit=part_kit)
        .order_by("pk")
        .values_list("part_inventory_id", "issued_quantity")
    )


def ledger(inventory) -> list[tuple]:
    """(type, quantity, kittedQuantity, installedQuantity, quantityAfter, partKit, run) rows."""
    return [
        (
            row.type,
            row.quantity,
            row.kitted_quantity,
            row.installed_quantity,
            row.quantity_after,
            row.part_kit_id,
            row.run_id,
        )
        for row in InventoryTransaction.objects.filter(part_inventory_id=inventory.pk).order_by(
            "pk"
        )
    ]


def assert_ledger_invariant() -> int:
    """Contract 7.5 for every part inventory: each quantity is the sum of its ledger deltas, none
    is negative, and what open kits hold is exactly the kitted quantity. Returns the row count."""
    sums = {
        row["part_inventory_id"]: row
        for row in InventoryTransaction.objects.values("part_inventory_id").annotate(
            q=Sum("quantity"), k=Sum("kitted_quantity"), i=Sum("installed_quantity")
        )
    }
    open_lines = {
        row["part_inventory_id"]: row["held"]
        for row in PartKitLine.objects.exclude(part_kit__status__in=CLOSED_KIT_STATUSES)
        .values("part_inventory_id")
        .annotate(held=Sum("issued_quantity"))
    }
    inventories = list(PartInventory.objects.order_by("pk"))
    for inventory in inventories:
        totals = sums[inventory.pk]
        assert (inventory.quantity, inventory.kitted_quantity, inventory.installed_quantity) == (
            totals["q"],
            totals["k"],
            totals["i"],
        ), inventory.pk
        assert min(inventory.quantity, inventory.kitted_quantity, inventory.installed_quantity) >= 0
        assert open_lines.get(inventory.pk, 0) == inventory.kitted_quantity, inventory.pk
    return len(inventories)
