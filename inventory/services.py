"""Writes for items and warehouses. Every rule of contract sections 3 and 5 lives here."""

from decimal import Decimal
from typing import Any

from django.db import transaction

from config.api import errors
from config.services import apply_changes, delete_unreferenced, reject_immutable_changes
from inventory.models import (
    KIT_TYPES,
    STOCKED_TYPES,
    InventoryTransaction,
    Item,
    KitRevenuePosting,
    PartInventory,
    Warehouse,
)

ITEM_IMMUTABLE = {"code": "id", "item_type": "itemType", "cost_method": "costMethod"}


def _item_rules(item: Item) -> list[errors.ApiError]:
    violations = []
    if item.item_type not in STOCKED_TYPES:
        for field, api_name in (
            ("enable_serial_no", "tracking.enableSerialNo"),
            ("enable_lot_category", "tracking.enableLotCategory"),
        ):
            if getattr(item, field):
                violations.append(
                    errors.error(
                        errors.TRACKING_NOT_ALLOWED, api_name, FIELD=api_name, TYPE=item.item_type
                    )
                )
    if item.serial_mask and "#" not in item.serial_mask:
        violations.append(
            errors.error(
                errors.INVALID_VALUE,
                "tracking.serialMask",
                FIELD="tracking.serialMask",
                REASON="a mask needs at least one # for the counter",
            )
        )
    if item.item_type in KIT_TYPES:
        if not item.kit_revenue_posting:
            item.kit_revenue_posting = KitRevenuePosting.COMPONENT_LEVEL
    elif item.kit_revenue_posting:
        violations.append(
            errors.error(
                errors.KITS_ONLY,
                "kitRevenuePosting",
                FIELD="kitRevenuePosting",
                TYPE=item.item_type,
            )
        )
    for field, api_name in (("code", "id"), ("name", "name")):
        if not (getattr(item, field) or "").strip():
            violations.append(errors.error(errors.REQUIRED, api_name, FIELD=api_name))
    return violations


def _check_unique_code(model, code: str, exclude_pk=None) -> None:
    clash = model.objects.filter(code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise errors.error(errors.DUPLICATE, "id", OBJECT=model.API_OBJECT, FIELD="id", VALUE=code)


@transaction.atomic
def item_create(*, user, code: str, name: str, item_type: str, **fields: Any) -> Item:
    item = Item(code=code, name=name, item_type=item_type, **fields)
    violations = _item_rules(item)
    if violations:
        raise errors.rule_violations(violations)
    _check_unique_code(Item, code)
    item.stamp(user, created=True)
    item.save()
    return item


@transaction.atomic
def item_update(*, item: Item, user, data: dict[str, Any]) -> Item:
    reject_immutable_changes(item, data, ITEM_IMMUTABLE)
    apply_changes(item, data)
    violations = _item_rules(item)
    if violations:
        raise errors.rule_violations(violations)
    item.stamp(user)
    item.save()
    return item


@transaction.atomic
def item_delete(*, instance: Item, user) -> None:
    delete_unreferenced(instance)


def _warehouse_rules(warehouse: Warehouse) -> list[errors.ApiError]:
    return [
        errors.error(errors.REQUIRED, api_name, FIELD=api_name)
        for field, api_name in (("code", "id"), ("name", "name"))
        if not (getattr(warehouse, field) or "").strip()
    ]


@transaction.atomic
def warehouse_create(*, user, code: str, name: str, **fields: Any) -> Warehouse:
    warehouse = Warehouse(code=code, name=name, **fields)
    violations = _warehouse_rules(warehouse)
    if violations:
        raise errors.rule_violations(violations)
    _check_unique_code(Warehouse, code)
    warehouse.stamp(user, created=True)
    warehouse.save()
    return warehouse


@transaction.atomic
def warehouse_update(*, warehouse: Warehouse, user, data: dict[str, Any]) -> Warehouse:
    if "code" in data and data["code"] != warehouse.code:
        _check_unique_code(Warehouse, data["code"], exclude_pk=warehouse.pk)
    apply_changes(warehouse, data)
    violations = _warehouse_rules(warehouse)
    if violations:
        raise errors.rule_violations(violations)
    warehouse.stamp(user)
    warehouse.save()
    return warehouse


@transaction.atomic
def warehouse_delete(*, instance: Warehouse, user) -> None:
    delete_unreferenced(instance)


def inventory_transaction_create(
    *,
    part_inventory: PartInventory,
    type: str,
    user,
    quantity: Decimal | int = 0,
    kitted_quantity: Decimal | int = 0,
    installed_quantity: Decimal | int = 0,
    quantity_after: Decimal | int,
    part_kit=None,
    run=None,
) -> InventoryTransaction:
    """Write the ledger row explaining one change. Call it in the same transaction as the change,
    with the inventory row locked, and pass the changes as signed deltas."""
    row = InventoryTransaction(
        part_inventory_id=part_inventory.pk,
        part_id=part_inventory.part_id,
        type=type,
        quantity=quantity,
        kitted_quantity=kitted_quantity,
        installed_quantity=installed_quantity,
        quantity_after=quantity_after,
        part_kit=part_kit,
        run=run,
    )
    row.stamp(user, created=True)
    row.save(force_insert=True)
    return row
