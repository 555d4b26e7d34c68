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

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from core.errors import DomainError, DomainErrors, Phrase, refuse
from core.numbers import quantity_text
from core.services import (
    actor,
    check_unique_code,
    check_version,
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
from inventory.services import Version, inventory_transaction_create, part_inventory_create
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
PART_KIT_IMMUTABLE = ("run",)
_actor = actor
_text = quantity_text


# --- locks ---------------------------------------------------------------------------------------
# `of=("self",)` keeps a select_related row (a kit's run) unlocked: locking it here would take the
# run after the kit, against the global order.


def _gone(obj, field: str | None) -> DomainError | DomainErrors:
    """The object was deleted between the request naming it and its lock."""
    if field is None:
        return DomainError("not_found", OBJECT=type(obj), KEY=obj.pk)
    return DomainErrors(
        [DomainError("reference_not_found", field, OBJECT=type(obj), REFERENCE=f"key {obj.pk}")]
    )


def _lock_run(run: Run, *, field: str | None = None) -> Run:
    locked = (
        Run.objects.select_for_update(of=("self",)).select_related("part").filter(pk=run.pk).first()
    )
    if locked is None:
        raise _gone(run, field)
    return locked


def _kit_inventory_lock(kit: int, inventory: int):
    held = PartKitLine.objects.filter(part_kit=kit, part_inventory=OuterRef("pk"))
    return (
        PartInventory.objects.select_for_update()
        .annotate(kit_issued=Subquery(held.values("issued_quantity")[:1]))
        .filter(pk=inventory)
    )


def _lock_kit(part_kit: PartKit) -> PartKit:
    locked = (
        PartKit.objects.select_for_update(of=("self",))
        .select_related("run")
        .filter(pk=part_kit.pk)
        .first()
    )
    if locked is None:
        raise _gone(part_kit, None)
    return locked


def _lock_inventories(keys) -> dict[int, PartInventory]:
    rows = PartInventory.objects.select_for_update().filter(pk__in=set(keys)).order_by("pk")
    return {row.pk: row for row in rows}


def _lock_inventory(part_inventory: PartInventory) -> PartInventory:
    locked = _lock_inventories([part_inventory.pk]).get(part_inventory.pk)
    if locked is None:
        raise _gone(part_inventory, "part_inventory")
    return locked


def _lock_kit_inventory(kit: PartKit, part_inventory: PartInventory) -> PartInventory:
    """Lock the inventory (after its kit) and read, in the same query, what the kit holds of it
    as `kit_issued` (None: no line). The kit's lock guards its lines."""
    locked = _kit_inventory_lock(kit.pk, part_inventory.pk).first()
    if locked is None:
        raise _gone(part_inventory, "part_inventory")
    return locked


# --- the one place part inventory quantities change for kitting ---------------------------------


def _stock_move(*, key, on_hand, kitted, installed, now, actor, location) -> None:
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
    PartInventory.objects.filter(pk=key).update(**changes)


def _line_change(*, kit, inventory, delta) -> None:
    """What a kit holds of an inventory, changed by a signed delta (the kit's lock guards it)."""
    PartKitLine.objects.filter(part_kit_id=kit, part_inventory_id=inventory).update(
        issued_quantity=F("issued_quantity") + delta
    )


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
    _stock_move(
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


def _run_rules(run: Run) -> list[DomainError]:
    violations = []
    if not (run.code or "").strip():
        violations.append(DomainError("required", "code"))
    if run.quantity is None:
        violations.append(DomainError("required", "quantity"))
    elif run.quantity <= 0:
        violations.append(DomainError("invalid_value", "quantity", REASON="must be greater than 0"))
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
        violations.append(DomainError("run_completed_by_workflow", "status"))
    refuse(violations)
    check_unique_code(Run, code)
    run.stamp(user, created=True)
    save_unique_code(run, force_insert=True)
    return run


class RunChanges(TypedDict, total=False):
    code: str
    title: str
    part: Item | None
    quantity: Decimal
    status: str


@transaction.atomic
def run_update(
    *, run_key: int, user, expected_version: Version = None, **changes: Unpack[RunChanges]
) -> Run:
    """Any field may change, except that `complete` and `canceled` are final, `complete` is only
    reached through run/complete, and a complete run keeps the part and quantity it was built
    with. Canceling a run cancels its open kits, which returns what they hold to stock."""
    run = _lock_run(Run(pk=run_key))
    check_version(run, expected_version)
    data: dict[str, Any] = dict(changes)
    status = data.get("status", run.status)
    violations = []
    if run.status in CLOSED_RUN_STATUSES and status != run.status:
        violations.append(
            DomainError(
                "run_closed",
                "status",
                ID=run.code,
                STATUS=run.status,
                REASON="a complete or canceled run keeps its status",
            )
        )
    elif status == RunStatus.COMPLETE and run.status != RunStatus.COMPLETE:
        violations.append(DomainError("run_completed_by_workflow", "status"))
    if run.status == RunStatus.COMPLETE:
        for name, current in (("part", run.part_id), ("quantity", run.quantity)):
            value = data.get(name, current)
            value = value.pk if isinstance(value, Item) else value
            if value != current:
                reason = Phrase("its outputs are built, so its {field} stays as built", field=name)
                violations.append(
                    DomainError("run_closed", name, ID=run.code, STATUS=run.status, REASON=reason)
                )
    for name, value in data.items():
        setattr(run, name, value)
    violations += _run_rules(run)
    refuse(violations)
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
def run_delete(*, run_key: int, user, expected_version: Version = None) -> None:
    """A run with part kits, outputs or installations is still referenced: 409."""
    run = _lock_run(Run(pk=run_key))
    check_version(run, expected_version)
    delete_unreferenced(run)


# --- part kits -----------------------------------------------------------------------------------


@transaction.atomic
def part_kit_create(*, user, run: Run, status: str = PartKitStatus.DRAFT) -> PartKit:
    # The run's lock keeps run/complete from closing it while the kit is added.
    run = _lock_run(run, field="run")
    if run.status in CLOSED_RUN_STATUSES:
        reason = "no part kit can be added to it"
        refuse([DomainError("run_closed", "run", ID=run.code, STATUS=run.status, REASON=reason)])
    kit = PartKit(run=run, status=status)
    kit.stamp(user, created=True)
    kit.save(force_insert=True)
    return kit


class PartKitChanges(TypedDict, total=False):
    run: Run
    status: str


@transaction.atomic
def part_kit_update(
    *, part_kit_key: int, user, expected_version: Version = None, **changes: Unpack[PartKitChanges]
) -> PartKit:
    """Any status may follow any other, except out of completed and canceled. Moving a kit to
    completed or canceled returns everything still issued to it to stock (contract 7.2)."""
    kit = _lock_kit(PartKit(pk=part_kit_key))
    check_version(kit, expected_version)
    reject_immutable_changes(kit, changes, PART_KIT_IMMUTABLE)
    status = changes.get("status", kit.status)
    if not kit.is_open and status != kit.status:
        refuse([DomainError("kit_status_final", "status", KEY=kit.pk, STATUS=kit.status)])
    if kit.is_open and status in CLOSED_KIT_STATUSES:
        _return_to_stock([kit], user)
    kit.status = status
    kit.stamp(user)
    kit.save()
    return kit


@transaction.atomic
def part_kit_delete(*, part_kit_key: int, user, expected_version: Version = None) -> None:
    """Only a kit that holds nothing and never held anything goes: its ledger rows name it."""
    kit = _lock_kit(PartKit(pk=part_kit_key))
    check_version(kit, expected_version)
    held = list(
        PartKitLine.objects.filter(part_kit=kit).order_by("pk").values_list("part_inventory_id")
    )
    if held and kit.is_open:
        raise DomainError(
            "kit_still_holds", KEY=kit.pk, INVENTORIES=", ".join(str(key) for (key,) in held)
        )
    history: list[Any] = list(
        InventoryTransaction.objects.filter(part_kit_id=kit.pk).order_by("pk").only("pk")[:6]
    )
    if history:
        references = history[:5] + (["and more"] if len(history) > 5 else [])
        raise DomainError("still_referenced", OBJECT=PartKit, KEY=kit.pk, REFERENCES=references)
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
) -> tuple[Decimal | None, DomainError | None]:
    """A serial moves as one unit (quantity may be left out); anything else names a quantity."""
    if inventory.serial_number:
        if requested is None or requested == 1:
            return Decimal(1), None
        return None, DomainError(
            "serial_moves_one", "quantity", KEY=inventory.pk, SERIAL=inventory.serial_number
        )
    if requested is None:
        return None, DomainError("required", "quantity")
    if requested <= 0:
        return None, DomainError("invalid_value", "quantity", REASON="must be greater than 0")
    return Decimal(requested), None


def _kit_closed(kit: PartKit) -> DomainError:
    # `key`: the workflow names the kit by its key.
    return DomainError("kit_closed", "key", KEY=kit.pk, STATUS=kit.status)


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
        problem = DomainError(
            "issue_exceeds_on_hand",
            "quantity",
            REQUESTED=_text(quantity),
            KEY=inventory.pk,
            AVAILABLE=_text(inventory.quantity),
        )
    if problem is not None:
        violations.append(problem)
    refuse(violations)
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
        _line_change(kit=kit.pk, inventory=inventory.pk, delta=quantity)
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
        refuse([_kit_closed(kit)])
    issued = inventory.kit_issued
    if issued is None:
        refuse([DomainError("not_in_kit", "part_inventory", KEY=inventory.pk, KIT=kit.pk)])
    quantity, problem = _workflow_quantity(inventory, quantity)
    if problem is None and quantity > issued:
        problem = DomainError(
            "move_exceeds_issued",
            "quantity",
            REQUESTED=_text(quantity),
            KIT=kit.pk,
            ISSUED=_text(issued),
            KEY=inventory.pk,
        )
    if problem is not None:
        refuse([problem])
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
        _line_change(kit=kit.pk, inventory=inventory.pk, delta=-quantity)
    else:
        PartKitLine.objects.filter(part_kit=kit, part_inventory=inventory).delete()
    return KitMove(kit, inventory, remaining)


@dataclass
class RunCompletion:
    run: Run
    outputs: list[PartInventory] = field(default_factory=list)


def _serial_number_rules(run: Run, serial_numbers: list[str]) -> list[DomainError]:
    violations = []
    if run.quantity != run.quantity.to_integral_value():
        violations.append(
            DomainError(
                "invalid_value",
                "quantity",
                REASON=f"part {run.part.code} is serial-tracked, so a run builds whole units, "
                f"not {_text(run.quantity)}",
            )
        )
    elif serial_numbers and len(serial_numbers) != run.quantity:
        violations.append(
            DomainError(
                "serial_numbers_count",
                "serial_numbers",
                COUNT=len(serial_numbers),
                QUANTITY=_text(run.quantity),
            )
        )
    seen = set()
    for number in serial_numbers:
        if not number.strip():
            reason = "a serial number cannot be blank"
            violations.append(DomainError("invalid_value", "serial_numbers", REASON=reason))
        elif number.strip() in seen:
            reason = f"{number.strip()} is given twice"
            violations.append(DomainError("invalid_value", "serial_numbers", REASON=reason))
        seen.add(number.strip())
    return violations


def _completion_rules(run: Run, serial_numbers: list[str]) -> list[DomainError]:
    violations = []
    if run.status in CLOSED_RUN_STATUSES:
        violations.append(
            DomainError(
                "run_closed",
                "key",
                ID=run.code,
                STATUS=run.status,
                REASON="only a run that is todo or inProgress can be completed",
            )
        )
    part = run.part
    if part is None:
        violations.append(DomainError("run_has_no_part", "part", ID=run.code))
    elif part.item_type not in STOCKED_TYPES:
        violations.append(
            DomainError(
                "run_part_not_stocked", "part", ID=run.code, PART=part.code, TYPE=part.item_type
            )
        )
    elif part.tracking_type == TrackingType.SERIAL:
        violations += _serial_number_rules(run, serial_numbers)
    elif serial_numbers:
        reason = f"part {part.code} is not serial-tracked"
        violations.append(DomainError("invalid_value", "serial_numbers", REASON=reason))
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
    refuse(_completion_rules(run, serial_numbers))

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
    except DomainError as err:
        if err.code == "duplicate":  # a given serial number is taken: name our argument
            # The message still names the inventory's field the clash is on.
            field = Phrase("{field}", field=err.field)
            raise DomainError("duplicate", "serial_numbers", **err.params, FIELD=field) from err
        raise
