"""Writes for runs and part kits and the three kitting workflows: every rule of contract 7 lives
here.

Stock is moved the Saleor way. Rows are locked in one global order, run -> part kit -> part
inventory (-> item, taken by part-inventory creation), each kind by primary key, before any
quantity is read, so concurrent requests from any number of processes queue instead of
deadlocking; quantities change with F() expressions; and the database constraints (quantities
never negative, a serial is one unit, a kit line holds more than zero) stop any bug that slips
past the checks here. Every quantity change writes its ledger row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from config.api import errors
from config.api.compiled import CompiledQuery, CompiledUpdate
from config.api.fields import decimal_string
from config.api.identity import object_name
from config.services import (
    check_unique_code,
    delete_unreferenced,
    reject_immutable_changes,
    save_unique_code,
)
from inventory.models import (
    STOCKED_TYPES,
    InventoryTransaction,
    Item,
    PartInventory,
    TrackingType,
    TransactionType,
    Warehouse,
)
from inventory.services import inventory_transaction_create, part_inventory_create
from kitting.models import (
    CLOSED_KIT_STATUSES,
    Installation,
    PartKit,
    PartKitLine,
    PartKitStatus,
    Run,
    RunStatus,
)

CLOSED_RUN_STATUSES = (RunStatus.COMPLETE, RunStatus.CANCELED)
PART_KIT_IMMUTABLE = {"run": "run"}


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _text(value: Any) -> str:
    return decimal_string(value) or "0"


# --- locks ---------------------------------------------------------------------------------------
# `of=("self",)` keeps a select_related row (a kit's run) unlocked: locking it here would take the
# run after the kit, against the global order.


def _gone(obj, target: str | None) -> errors.ApiError:
    """The object was deleted between the request naming it and its lock."""
    if target is None:
        return errors.error(errors.OBJECT_NOT_FOUND, OBJECT=object_name(type(obj)), KEY=obj.pk)
    return errors.rule_violation(
        errors.REFERENCE_NOT_FOUND,
        target,
        FIELD=target,
        OBJECT=object_name(type(obj)),
        REFERENCE=f"key {obj.pk}",
    )


def _lock_run(run: Run, *, target: str | None = None) -> Run:
    locked = (
        Run.objects.select_for_update(of=("self",)).select_related("part").filter(pk=run.pk).first()
    )
    if locked is None:
        raise _gone(run, target)
    return locked


# The row locks every issue and move takes: compiled once (config.api.compiled).
_KIT_LOCK = CompiledQuery(
    lambda key: (
        PartKit.objects.select_for_update(of=("self",)).select_related("run").filter(pk=key)
    ),
    key=int,
)


def _kit_inventory_lock(kit: int, inventory: int):
    held = PartKitLine.objects.filter(part_kit=kit, part_inventory=OuterRef("pk"))
    return (
        PartInventory.objects.select_for_update()
        .annotate(kit_issued=Subquery(held.values("issued_quantity")[:1]))
        .filter(pk=inventory)
    )


_KIT_INVENTORY_LOCK = CompiledQuery(_kit_inventory_lock, kit=int, inventory=int)


def _lock_kit(part_kit: PartKit) -> PartKit:
    locked = _KIT_LOCK.first(key=part_kit.pk)
    if locked is None:
        raise _gone(part_kit, None)
    return locked


def _lock_inventories(keys) -> dict[int, PartInventory]:
    rows = PartInventory.objects.select_for_update().filter(pk__in=set(keys)).order_by("pk")
    return {row.pk: row for row in rows}


def _lock_inventory(part_inventory: PartInventory) -> PartInventory:
    locked = _lock_inventories([part_inventory.pk]).get(part_inventory.pk)
    if locked is None:
        raise _gone(part_inventory, "partInventory")
    return locked


def _lock_kit_inventory(kit: PartKit, part_inventory: PartInventory) -> PartInventory:
    """Lock the inventory (after its kit) and read, in the same query, what the kit holds of it
    as `kit_issued` (None: no line). The kit's lock guards its lines."""
    locked = _KIT_INVENTORY_LOCK.first(kit=kit.pk, inventory=part_inventory.pk)
    if locked is None:
        raise _gone(part_inventory, "partInventory")
    return locked


# --- the one place part inventory quantities change for kitting ---------------------------------


def _stock_move(*, key, on_hand, kitted, installed, now, actor, location):
    """The UPDATE of a locked inventory row: signed deltas with F(), and a new location if any."""
    changes: dict[str, Any] = {
        "quantity": F("quantity") + on_hand,
        "kitted_quantity": F("kitted_quantity") + kitted,
        "installed_quantity": F("installed_quantity") + installed,
        "version": F("version") + 1,
        "modified_at": now,
        "modified_by_id": actor,
    }
    if location is not None:
        changes["location_id"] = location
    return PartInventory.objects.filter(pk=key), changes


# Every issue and move runs it: compiled once per shape (config.api.compiled).
_STOCK_MOVE = CompiledUpdate(
    _stock_move,
    key=int,
    on_hand=Decimal,
    kitted=Decimal,
    installed=Decimal,
    now=dt.datetime,
    actor=int,
    location=int,
)


def _line_change(*, kit, inventory, delta):
    """What a kit holds of an inventory, changed by a signed delta (the kit's lock guards it)."""
    lines = PartKitLine.objects.filter(part_kit_id=kit, part_inventory_id=inventory)
    return lines, {"issued_quantity": F("issued_quantity") + delta}


_LINE_CHANGE = CompiledUpdate(_line_change, kit=int, inventory=int, delta=Decimal)


def _move_stock(
    inventory: PartInventory,
    *,
    user,
    type: str,
    on_hand: Decimal = Decimal(0),
    kitted: Decimal = Decimal(0),
    installed: Decimal = Decimal(0),
    part_kit: PartKit | None = None,
    run: Run | None = None,
    location: Warehouse | None = None,
) -> None:
    """Apply signed deltas to a locked inventory row with F() and write the ledger row."""
    actor = _actor(user)
    _STOCK_MOVE.run(
        key=inventory.pk,
        on_hand=on_hand,
        kitted=kitted,
        installed=installed,
        now=timezone.now(),
        actor=actor.pk if actor else None,
        location=location.pk if location is not None else None,
    )
    if location is not None:
        inventory.location = location
    # The row is locked, so the copy in hand plus the deltas is what the database now holds.
    inventory.quantity += on_hand
    inventory.kitted_quantity += kitted
    inventory.installed_quantity += installed
    inventory.version += 1
    inventory_transaction_create(
        part_inventory=inventory,
        type=type,
        user=user,
        quantity=on_hand,
        kitted_quantity=kitted,
        installed_quantity=installed,
        quantity_after=inventory.quantity,
        part_kit=part_kit,
        run=run,
    )


def _return_to_stock(kits: list[PartKit], user) -> None:
    """Everything still issued to these (locked, open) kits goes back on hand: `return` rows."""
    lines = list(
        PartKitLine.objects.filter(part_kit__in=kits).select_related("part_kit__run").order_by("pk")
    )
    inventories = _lock_inventories(line.part_inventory_id for line in lines)
    for line in lines:
        quantity = line.issued_quantity
        _move_stock(
            inventories[line.part_inventory_id],
            user=user,
            type=TransactionType.RETURN,
            on_hand=quantity,
            kitted=-quantity,
            part_kit=line.part_kit,
            run=line.part_kit.run,
        )
    PartKitLine.objects.filter(pk__in=[line.pk for line in lines]).delete()


def _set_kit_status(kits: list[PartKit], status: str, user) -> None:
    PartKit.objects.filter(pk__in=[kit.pk for kit in kits]).update(
        status=status,
        version=F("version") + 1,
        modified_at=timezone.now(),
        modified_by=_actor(user),
    )


# --- runs ----------------------------------------------------------------------------------------


def _run_rules(run: Run) -> list[errors.ApiError]:
    violations = []
    if not (run.code or "").strip():
        violations.append(errors.error(errors.REQUIRED, "id", FIELD="id"))
    if run.quantity is None:
        violations.append(errors.error(errors.REQUIRED, "quantity", FIELD="quantity"))
    elif run.quantity <= 0:
        violations.append(
            errors.error(
                errors.INVALID_VALUE, "quantity", FIELD="quantity", REASON="must be greater than 0"
            )
        )
    return violations


@transaction.atomic
def run_create(
    *,
    user,
    code: str,
    title: str = "",
    part: Item | None = None,
    quantity: Decimal | int = 1,
    status: str = RunStatus.TODO,
) -> Run:
    run = Run(code=code, title=title or "", part=part, quantity=quantity, status=status)
    violations = _run_rules(run)
    if status == RunStatus.COMPLETE:
        violations.append(errors.error(errors.RUN_COMPLETED_BY_WORKFLOW, "status"))
    if violations:
        raise errors.rule_violations(violations)
    check_unique_code(Run, code)
    run.stamp(user, created=True)
    save_unique_code(run, force_insert=True)
    return run


@transaction.atomic
def run_update(*, run: Run, user, data: dict[str, Any]) -> Run:
    """Any field may change, except that `complete` and `canceled` are final, `complete` is only
    reached through run/complete, and a complete run keeps the part and quantity it was built
    with. Canceling a run cancels its open kits, which returns what they hold to stock."""
    run = _lock_run(run)
    status = data.get("status", run.status)
    violations = []
    if run.status in CLOSED_RUN_STATUSES and status != run.status:
        violations.append(
            errors.error(
                errors.RUN_CLOSED,
                "status",
                ID=run.code,
                STATUS=run.status,
                REASON="a complete or canceled run keeps its status",
            )
        )
    elif status == RunStatus.COMPLETE and run.status != RunStatus.COMPLETE:
        violations.append(errors.error(errors.RUN_COMPLETED_BY_WORKFLOW, "status"))
    if run.status == RunStatus.COMPLETE:
        for name, current in (("part", run.part_id), ("quantity", run.quantity)):
            value = data.get(name, current)
            value = value.pk if isinstance(value, Item) else value
            if value != current:
                violations.append(
                    errors.error(
                        errors.RUN_CLOSED,
                        name,
                        ID=run.code,
                        STATUS=run.status,
                        REASON=f"its outputs are built, so its {name} stays as built",
                    )
                )
    for name, value in data.items():
        setattr(run, name, value)
    violations += _run_rules(run)
    if violations:
        raise errors.rule_violations(violations)
    if "code" in data:
        check_unique_code(Run, run.code, exclude_pk=run.pk)
    if status == RunStatus.CANCELED:
        kits = list(
            PartKit.objects.select_for_update()
            .filter(run=run)
            .exclude(status__in=CLOSED_KIT_STATUSES)
            .order_by("pk")
        )
        _return_to_stock(kits, user)
        _set_kit_status(kits, PartKitStatus.CANCELED, user)
    run.stamp(user)
    save_unique_code(run)
    return run


@transaction.atomic
def run_delete(*, instance: Run, user) -> None:
    """A run with part kits, outputs or installations is still referenced: 409."""
    delete_unreferenced(instance)


# --- part kits -----------------------------------------------------------------------------------


@transaction.atomic
def part_kit_create(*, user, run: Run, status: str = PartKitStatus.DRAFT) -> PartKit:
    # The run's lock keeps run/complete from closing it while the kit is added.
    run = _lock_run(run, target="run")
    if run.status in CLOSED_RUN_STATUSES:
        raise errors.rule_violation(
            errors.RUN_CLOSED,
            "run",
            ID=run.code,
            STATUS=run.status,
            REASON="no part kit can be added to it",
        )
    kit = PartKit(run=run, status=status)
    kit.stamp(user, created=True)
    kit.save(force_insert=True)
    return kit


@transaction.atomic
def part_kit_update(*, part_kit: PartKit, user, data: dict[str, Any]) -> PartKit:
    """Any status may follow any other, except out of completed and canceled. Moving a kit to
    completed or canceled returns everything still issued to it to stock (contract 7.2)."""
    kit = _lock_kit(part_kit)
    reject_immutable_changes(kit, data, PART_KIT_IMMUTABLE)
    status = data.get("status", kit.status)
    if not kit.is_open and status != kit.status:
        raise errors.rule_violation(
            errors.KIT_STATUS_FINAL, "status", KEY=kit.pk, STATUS=kit.status
        )
    if kit.is_open and status in CLOSED_KIT_STATUSES:
        _return_to_stock([kit], user)
    kit.status = status
    kit.stamp(user)
    kit.save()
    return kit


@transaction.atomic
def part_kit_delete(*, instance: PartKit, user) -> None:
    """Only a kit that holds nothing and never held anything goes: its ledger rows name it."""
    kit = _lock_kit(instance)
    held = list(
        PartKitLine.objects.filter(part_kit=kit).order_by("pk").values_list("part_inventory_id")
    )
    if held and kit.is_open:
        raise errors.error(
            errors.KIT_STILL_HOLDS,
            KEY=kit.pk,
            INVENTORIES=", ".join(str(key) for (key,) in held),
        )
    history = list(
        InventoryTransaction.objects.filter(part_kit_id=kit.pk).order_by("pk").values_list("pk")[:6]
    )
    if history:
        names = [f"{object_name(InventoryTransaction)} {key}" for (key,) in history[:5]]
        if len(history) > 5:
            names.append("and more")
        raise errors.error(
            errors.STILL_REFERENCED,
            OBJECT=object_name(PartKit),
            KEY=kit.pk,
            REFERENCES=", ".join(names),
        )
    delete_unreferenced(kit)


# --- workflows -----------------------------------------------------------------------------------


@dataclass
class KitMove:
    """What issue and move-to-inventory answer: the kit, the inventory as it now stands, and how
    much of it the kit now holds."""

    part_kit: PartKit
    part_inventory: PartInventory
    issued_quantity: Decimal


def _workflow_quantity(
    inventory: PartInventory, requested: Decimal | None
) -> tuple[Decimal | None, errors.ApiError | None]:
    """A serial moves as one unit (quantity may be left out); anything else names a quantity."""
    if inventory.serial_number:
        if requested is None or requested == 1:
            return Decimal(1), None
        return None, errors.error(
            errors.SERIAL_MOVES_ONE, "quantity", KEY=inventory.pk, SERIAL=inventory.serial_number
        )
    if requested is None:
        return None, errors.error(errors.REQUIRED, "quantity", FIELD="quantity")
    if requested <= 0:
        return None, errors.error(
            errors.INVALID_VALUE, "quantity", FIELD="quantity", REASON="must be greater than 0"
        )
    return Decimal(requested), None


def _kit_closed(kit: PartKit) -> errors.ApiError:
    return errors.error(errors.KIT_CLOSED, "key", KEY=kit.pk, STATUS=kit.status)


@transaction.atomic
def part_kit_issue(
    *, user, part_kit: PartKit, part_inventory: PartInventory, quantity: Decimal | None = None
) -> KitMove:
    """Move `quantity` of the inventory from stock into the kit: an `issue` ledger row."""
    kit = _lock_kit(part_kit)
    inventory = _lock_kit_inventory(kit, part_inventory)
    violations = []
    if not kit.is_open:
        violations.append(_kit_closed(kit))
    quantity, problem = _workflow_quantity(inventory, quantity)
    if problem is None and quantity > inventory.quantity:
        problem = errors.error(
            errors.ISSUE_EXCEEDS_ON_HAND,
            "quantity",
            REQUESTED=_text(quantity),
            KEY=inventory.pk,
            AVAILABLE=_text(inventory.quantity),
        )
    if problem is not None:
        violations.append(problem)
    if violations:
        raise errors.rule_violations(violations)
    _move_stock(
        inventory,
        user=user,
        type=TransactionType.ISSUE,
        on_hand=-quantity,
        kitted=quantity,
        part_kit=kit,
        run=kit.run,
    )
    # The kit's lock serializes every change to its lines.
    issued = inventory.kit_issued
    if issued is None:
        PartKitLine.objects.create(part_kit=kit, part_inventory=inventory, issued_quantity=quantity)
        issued = quantity
    else:
        _LINE_CHANGE.run(kit=kit.pk, inventory=inventory.pk, delta=quantity)
        issued += quantity
    return KitMove(kit, inventory, issued)


@transaction.atomic
def part_kit_move_to_inventory(
    *,
    user,
    part_kit: PartKit,
    part_inventory: PartInventory,
    quantity: Decimal | None = None,
    location: Warehouse | None = None,
) -> KitMove:
    """The reverse of issue: up to the issued quantity goes back to the same inventory record,
    optionally at a new location, with a `return` ledger row; a line that reaches 0 goes."""
    kit = _lock_kit(part_kit)
    inventory = _lock_kit_inventory(kit, part_inventory)
    if not kit.is_open:
        raise errors.rule_violations([_kit_closed(kit)])
    issued = inventory.kit_issued
    if issued is None:
        raise errors.rule_violation(
            errors.NOT_IN_KIT, "partInventory", KEY=inventory.pk, KIT=kit.pk
        )
    quantity, problem = _workflow_quantity(inventory, quantity)
    if problem is None and quantity > issued:
        problem = errors.error(
            errors.MOVE_EXCEEDS_ISSUED,
            "quantity",
            REQUESTED=_text(quantity),
            KIT=kit.pk,
            ISSUED=_text(issued),
            KEY=inventory.pk,
        )
    if problem is not None:
        raise errors.rule_violations([problem])
    _move_stock(
        inventory,
        user=user,
        type=TransactionType.RETURN,
        on_hand=quantity,
        kitted=-quantity,
        part_kit=kit,
        run=kit.run,
        location=location,
    )
    remaining = issued - quantity
    if remaining:
        _LINE_CHANGE.run(kit=kit.pk, inventory=inventory.pk, delta=-quantity)
    else:
        PartKitLine.objects.filter(part_kit=kit, part_inventory=inventory).delete()
    return KitMove(kit, inventory, remaining)


@dataclass
class RunCompletion:
    run: Run
    outputs: list[PartInventory] = field(default_factory=list)


def _serial_number_rules(run: Run, serial_numbers: list[str]) -> list[errors.ApiError]:
    violations = []
    if run.quantity != run.quantity.to_integral_value():
        violations.append(
            errors.error(
                errors.INVALID_VALUE,
                "quantity",
                FIELD="quantity",
                REASON=f"part {run.part.code} is serial-tracked, so a run builds whole units, "
                f"not {_text(run.quantity)}",
            )
        )
    elif serial_numbers and len(serial_numbers) != run.quantity:
        violations.append(
            errors.error(
                errors.SERIAL_NUMBERS_COUNT,
                "serialNumbers",
                COUNT=len(serial_numbers),
                QUANTITY=_text(run.quantity),
            )
        )
    seen = set()
    for number in serial_numbers:
        if not number.strip():
            violations.append(
                errors.error(
                    errors.INVALID_VALUE,
                    "serialNumbers",
                    FIELD="serialNumbers",
                    REASON="a serial number cannot be blank",
                )
            )
        elif number.strip() in seen:
            violations.append(
                errors.error(
                    errors.INVALID_VALUE,
                    "serialNumbers",
                    FIELD="serialNumbers",
                    REASON=f"{number.strip()} is given twice",
                )
            )
        seen.add(number.strip())
    return violations


def _completion_rules(run: Run, serial_numbers: list[str]) -> list[errors.ApiError]:
    violations = []
    if run.status in CLOSED_RUN_STATUSES:
        violations.append(
            errors.error(
                errors.RUN_CLOSED,
                "key",
                ID=run.code,
                STATUS=run.status,
                REASON="only a run that is todo or inProgress can be completed",
            )
        )
    part = run.part
    if part is None:
        violations.append(errors.error(errors.RUN_HAS_NO_PART, "part", ID=run.code))
    elif part.item_type not in STOCKED_TYPES:
        violations.append(
            errors.error(
                errors.RUN_PART_NOT_STOCKED,
                "part",
                ID=run.code,
                PART=part.code,
                TYPE=part.item_type,
            )
        )
    elif part.tracking_type == TrackingType.SERIAL:
        violations += _serial_number_rules(run, serial_numbers)
    elif serial_numbers:
        violations.append(
            errors.error(
                errors.INVALID_VALUE,
                "serialNumbers",
                FIELD="serialNumbers",
                REASON=f"part {part.code} is not serial-tracked",
            )
        )
    return violations


@transaction.atomic
def run_complete(
    *,
    user,
    run: Run,
    location: Warehouse | None = None,
    serial_numbers: list[str] | None = None,
) -> RunCompletion:
    """Build the run's output (contract 7.3, 7.4): install everything issued to its open kits
    (`install` rows and Installation records), complete those kits, create the outputs with
    `build` rows and builtBy = the run, and complete the run."""
    run = _lock_run(run)
    serial_numbers = list(serial_numbers or [])
    violations = _completion_rules(run, serial_numbers)
    if violations:
        raise errors.rule_violations(violations)

    kits = list(
        PartKit.objects.select_for_update()
        .filter(run=run)
        .exclude(status__in=CLOSED_KIT_STATUSES)
        .order_by("pk")
    )
    kits_by_key = {kit.pk: kit for kit in kits}
    lines = list(PartKitLine.objects.filter(part_kit__in=kits).order_by("pk"))
    inventories = _lock_inventories(line.part_inventory_id for line in lines)
    installed: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        quantity = line.issued_quantity
        _move_stock(
            inventories[line.part_inventory_id],
            user=user,
            type=TransactionType.INSTALL,
            kitted=-quantity,
            installed=quantity,
            part_kit=kits_by_key[line.part_kit_id],
            run=run,
        )
        installed[line.part_inventory_id] += quantity
    # The lines stay on the completed kits: they are what each kit delivered to the build.
    Installation.objects.bulk_create(
        Installation(run=run, part_inventory_id=key, quantity=quantity)
        for key, quantity in sorted(installed.items())
    )
    _set_kit_status(kits, PartKitStatus.COMPLETED, user)

    part = run.part
    outputs = []
    if part.tracking_type == TrackingType.SERIAL:
        for index in range(int(run.quantity)):
            given = serial_numbers[index].strip() if serial_numbers else None
            outputs.append(
                _build(user, run, location, serial_number=given, autogenerate_serial=not given)
            )
    else:
        outputs.append(
            _build(
                user,
                run,
                location,
                quantity=run.quantity,
                autogenerate_lot=part.tracking_type == TrackingType.LOT,
            )
        )
    run.status = RunStatus.COMPLETE
    run.stamp(user)
    run.save()
    return RunCompletion(run, outputs)


def _build(
    user,
    run: Run,
    location: Warehouse | None,
    *,
    quantity: Decimal | int = 1,
    serial_number: str | None = None,
    autogenerate_serial: bool = False,
    autogenerate_lot: bool = False,
) -> PartInventory:
    try:
        return part_inventory_create(
            user=user,
            part=run.part,
            serial_number=serial_number,
            autogenerate_serial_number=autogenerate_serial,
            autogenerate_lot_number=autogenerate_lot,
            location=location,
            quantity=quantity,
            transaction_type=TransactionType.BUILD,
            run=run,
        )
    except errors.ApiError as err:
        if err.spec is errors.DUPLICATE:  # a given serial number is taken: name our field
            raise errors.error(errors.DUPLICATE, "serialNumbers", **err.placeholders) from err
        raise
