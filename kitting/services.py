"""Writes for runs and part kits and the three kitting workflows: every rule of contract 7 lives
here.

Stock is moved the Saleor way. Rows are locked in one global order, run -> part kit -> part
inventory (-> item, taken by part-inventory creation), each kind by primary key, before any
quantity is read, so concurrent requests from any number of processes queue instead of
deadlocking; quantities change by signed deltas in the database (`quantity = quantity + %s`, the
few literal statements of kitting/stock.py); and the database constraints (quantities never
negative, a serial is one unit, a kit line holds more than zero) stop any bug that slips past the
checks here. Every quantity change writes its ledger row in the same transaction.

The workflows take their references by key and read nothing before their locks: a row that is
gone is refused under the lock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError, DomainErrors, Phrase, refuse
from core.numbers import quantity_text
from core.services import (
    actor,
    check_unique_code,
    check_version,
    delete_unreferenced,
    lock_all,
    reject_immutable_changes,
    save_changes,
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
from inventory.selectors import AVAILABLE_STOCK
from inventory.services import Version, part_inventory_create_many
from kitting import stock
from kitting.models import (
    CLOSED_KIT_STATUSES,
    Installation,
    PartKit,
    PartKitLine,
    PartKitStatus,
    Run,
    RunStatus,
)
from kitting.selectors import requirement_list

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
    return lock_all(PartInventory, keys)


# --- the one place part inventory quantities change for kitting ---------------------------------


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
) -> None:
    """Apply signed deltas to a locked inventory row and write the ledger row (kitting/stock.py)."""
    inventory.quantity = stock.move(
        inventory.pk,
        part_id=inventory.part_id,
        quantity=inventory.quantity,
        type=type,
        actor=_actor_key(user),
        on_hand=on_hand,
        kitted=kitted,
        installed=installed,
        part_kit=part_kit.pk if part_kit is not None else None,
        run=run.pk if run is not None else None,
    )
    # The row is locked: the copy in hand plus the deltas is what the database now holds.
    inventory.kitted_quantity += kitted
    inventory.installed_quantity += installed
    inventory.version += 1


def _actor_key(user) -> int | None:
    actor = _actor(user)
    return actor.pk if actor is not None else None


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
    save_changes(run, user, save=save_unique_code)
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
    save_changes(kit, user)
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
    key: int, serial_number: str | None, requested: Decimal | None
) -> tuple[Decimal | None, DomainError | None]:
    """A serial moves as one unit (quantity may be left out); anything else names a quantity."""
    if serial_number:
        if requested is None or requested == 1:
            return Decimal(1), None
        return None, DomainError("serial_moves_one", "quantity", KEY=key, SERIAL=serial_number)
    if requested is None:
        return None, DomainError("required", "quantity")
    if requested <= 0:
        return None, DomainError("invalid_value", "quantity", REASON="must be greater than 0")
    return Decimal(requested), None


def _kit_closed(key: int, status: str) -> DomainError:
    # `key`: the workflow names the kit by its key.
    return DomainError("kit_closed", "key", KEY=key, STATUS=status)


def _lock_kit_and_inventory(
    part_kit_key: int, part_inventory_key: int, location_key: int | None = None
) -> tuple[stock.KitRow, stock.InventoryRow]:
    """Lock the kit, then the inventory. What is missing is named in the order a request names
    it: the inventory and the location (members of its body), then the kit."""
    kit = stock.lock_kit(part_kit_key)
    inventory = stock.lock_inventory(
        part_inventory_key, kit_key=part_kit_key, location_key=location_key
    )
    if inventory is None:
        reference = f"key {part_inventory_key}"
        missing = DomainError(
            "reference_not_found", "part_inventory", OBJECT=PartInventory, REFERENCE=reference
        )
        refuse([missing])
    if not inventory.location_found:
        reference = f"key {location_key}"
        refuse(
            [DomainError("reference_not_found", "location", OBJECT=Warehouse, REFERENCE=reference)]
        )
    if kit is None:
        raise DomainError("not_found", OBJECT=PartKit, KEY=part_kit_key)
    return kit, inventory


def _kit_move(
    part_kit_key: int,
    kit: stock.KitRow,
    part_inventory_key: int,
    inventory: stock.InventoryRow,
    *,
    on_hand: Decimal,
    kitted: Decimal,
    location_key: int | None,
    issued: Decimal,
) -> KitMove:
    """The answer: the kit and the inventory as they now stand."""
    part_kit = PartKit(pk=part_kit_key, run_id=kit.run_id, status=kit.status)
    part_inventory = PartInventory(
        pk=part_inventory_key,
        part_id=inventory.part_id,
        serial_number=inventory.serial_number,
        quantity=on_hand,
        kitted_quantity=inventory.kitted_quantity + kitted,
        installed_quantity=inventory.installed_quantity,
        version=inventory.version + 1,
        location_id=location_key if location_key is not None else inventory.location_id,
    )
    return KitMove(part_kit, part_inventory, issued)


@transaction.atomic
def part_kit_issue(
    *, user, part_kit_key: int, part_inventory_key: int, quantity: Decimal | None = None
) -> KitMove:
    """Move `quantity` of the inventory from stock into the kit: an `issue` ledger row."""
    kit, inventory = _lock_kit_and_inventory(part_kit_key, part_inventory_key)
    violations = []
    if kit.status in CLOSED_KIT_STATUSES:
        violations.append(_kit_closed(part_kit_key, kit.status))
    quantity, problem = _workflow_quantity(part_inventory_key, inventory.serial_number, quantity)
    if problem is None and quantity > inventory.quantity:
        problem = DomainError(
            "issue_exceeds_on_hand",
            "quantity",
            REQUESTED=_text(quantity),
            KEY=part_inventory_key,
            AVAILABLE=_text(inventory.quantity),
        )
    if problem is not None:
        violations.append(problem)
    refuse(violations)
    on_hand = stock.move(
        part_inventory_key,
        part_id=inventory.part_id,
        quantity=inventory.quantity,
        type=TransactionType.ISSUE,
        actor=_actor_key(user),
        on_hand=-quantity,
        kitted=quantity,
        part_kit=part_kit_key,
        run=kit.run_id,
    )
    held = inventory.kit_issued
    stock.line_add(
        kit_key=part_kit_key, inventory_key=part_inventory_key, quantity=quantity, held=held
    )
    _start_requested_kit(part_kit_key, kit.status, user)
    issued = quantity if held is None else held + quantity
    return _kit_move(
        part_kit_key,
        kit,
        part_inventory_key,
        inventory,
        on_hand=on_hand,
        kitted=quantity,
        location_key=None,
        issued=issued,
    )


@transaction.atomic
def part_kit_move_to_inventory(
    *,
    user,
    part_kit_key: int,
    part_inventory_key: int,
    quantity: Decimal | None = None,
    location_key: int | None = None,
) -> KitMove:
    """The reverse of issue: up to the issued quantity goes back to the same inventory record,
    optionally at a new location, with a `return` ledger row; a line that reaches 0 goes."""
    kit, inventory = _lock_kit_and_inventory(part_kit_key, part_inventory_key, location_key)
    if kit.status in CLOSED_KIT_STATUSES:
        refuse([_kit_closed(part_kit_key, kit.status)])
    issued = inventory.kit_issued
    if issued is None:
        missing = DomainError(
            "not_in_kit", "part_inventory", KEY=part_inventory_key, KIT=part_kit_key
        )
        refuse([missing])
    quantity, problem = _workflow_quantity(part_inventory_key, inventory.serial_number, quantity)
    if problem is None and quantity > issued:
        problem = DomainError(
            "move_exceeds_issued",
            "quantity",
            REQUESTED=_text(quantity),
            KIT=part_kit_key,
            ISSUED=_text(issued),
            KEY=part_inventory_key,
        )
    if problem is not None:
        refuse([problem])
    on_hand = stock.move(
        part_inventory_key,
        part_id=inventory.part_id,
        quantity=inventory.quantity,
        type=TransactionType.RETURN,
        actor=_actor_key(user),
        on_hand=quantity,
        kitted=-quantity,
        part_kit=part_kit_key,
        run=kit.run_id,
        location=location_key,
    )
    remaining = issued - quantity
    if remaining:
        stock.line_change(kit_key=part_kit_key, inventory_key=part_inventory_key, delta=-quantity)
    else:
        stock.line_delete(kit_key=part_kit_key, inventory_key=part_inventory_key)
    return _kit_move(
        part_kit_key,
        kit,
        part_inventory_key,
        inventory,
        on_hand=on_hand,
        kitted=-quantity,
        location_key=location_key,
        issued=remaining,
    )


def _start_requested_kit(part_kit_key: int, status: str, user) -> None:
    """A kit that is `requested` is `inProgress` once stock is issued to it (contract 15.3)."""
    if status == PartKitStatus.REQUESTED:
        _set_kit_status([PartKit(pk=part_kit_key)], PartKitStatus.IN_PROGRESS, user)


@dataclass
class Issued:
    part_inventory: PartInventory
    quantity: Decimal


@dataclass
class Fulfilment:
    """What fulfil answers: the kit, each inventory issued (as it now stands) with how much, and
    the run's requirements afterwards."""

    part_kit: PartKit
    issued: list[Issued]
    requirements: list = field(default_factory=list)


@transaction.atomic
def part_kit_fulfill(*, user, part_kit_key: int, location_key: int | None = None) -> Fulfilment:
    """Cover the run's shortage into this kit (contract 15.3, 15.7): for each requirement still
    short, issue available inventory of its part, oldest (lowest key) first, only from
    `location` when given, a serial one unit at a time, until covered or out of stock. Locks as
    issue does, in the global order: the run (so two fulfils of one run cannot both cover the
    same shortage), the kit, then every candidate inventory by key in one statement, waiting
    for each; `issue` ledger rows."""
    run_key = PartKit.objects.filter(pk=part_kit_key).values_list("run_id", flat=True).first()
    if run_key is None:
        raise DomainError("not_found", OBJECT=PartKit, KEY=part_kit_key)
    run = _lock_run(Run(pk=run_key))
    kit = stock.lock_kit(part_kit_key)
    if location_key is not None and not Warehouse.objects.filter(pk=location_key).exists():
        reference = f"key {location_key}"
        refuse(
            [DomainError("reference_not_found", "location", OBJECT=Warehouse, REFERENCE=reference)]
        )
    if kit is None:
        raise DomainError("not_found", OBJECT=PartKit, KEY=part_kit_key)
    if kit.status in CLOSED_KIT_STATUSES:
        refuse([_kit_closed(part_kit_key, kit.status)])
    short = {
        requirement.part_id: requirement.short_quantity
        for requirement in requirement_list().filter(run=run)
        if requirement.short_quantity > 0
    }
    candidates = PartInventory.objects.filter(AVAILABLE_STOCK, part_id__in=short, quantity__gt=0)
    if location_key is not None:
        candidates = candidates.filter(location_id=location_key)
    # The filter is evaluated again on each row once its lock is granted (PostgreSQL).
    inventories = list(candidates.select_for_update(of=("self",)).order_by("pk"))
    held = dict(
        PartKitLine.objects.filter(part_kit_id=part_kit_key, part_inventory__in=inventories)
        .order_by("pk")
        .values_list("part_inventory_id", "issued_quantity")
    )
    issued = []
    for inventory in inventories:
        need = short[inventory.part_id]
        if need <= 0:
            continue
        quantity = Decimal(1) if inventory.serial_number else min(need, inventory.quantity)
        _move_stock(
            inventory,
            user=user,
            type=TransactionType.ISSUE,
            on_hand=-quantity,
            kitted=quantity,
            part_kit=PartKit(pk=part_kit_key),
            run=run,
        )
        stock.line_add(
            kit_key=part_kit_key,
            inventory_key=inventory.pk,
            quantity=quantity,
            held=held.get(inventory.pk),
        )
        short[inventory.part_id] = need - quantity
        issued.append(Issued(inventory, quantity))
    if issued:
        _start_requested_kit(part_kit_key, kit.status, user)
    requirements = list(requirement_list().filter(run=run).select_related("part"))
    return Fulfilment(PartKit(pk=part_kit_key, run=run), issued, requirements)


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


def _shortages(run: Run) -> list[DomainError]:
    """One violation per requirement of the run still short (contract 15.6)."""
    return [
        DomainError(
            "requirement_short",
            "requirements",
            ID=run.code,
            PART=requirement.part.code,
            SHORT=_text(requirement.short_quantity),
            REQUIRED=_text(requirement.required_quantity),
            ISSUED=_text(requirement.issued_quantity),
        )
        for requirement in requirement_list().filter(run=run).select_related("part")
        if requirement.short_quantity > 0
    ]


@transaction.atomic
def run_complete(
    *,
    user,
    run_key: int,
    location: Warehouse | None = None,
    serial_numbers: list[str] | None = None,
    allow_shortage: bool = False,
) -> RunCompletion:
    """Build the run's output (contract 7.3, 7.4): install everything issued to its open kits
    (`install` rows and Installation records), complete those kits, create the outputs at
    `location` (required) with `build` rows and builtBy = the run, and complete the run. While a
    requirement is short it refuses, unless `allow_shortage` (contract 15.6)."""
    run = _lock_run(Run(pk=run_key))
    serial_numbers = list(serial_numbers or [])
    violations = _completion_rules(run, serial_numbers)
    if location is None:
        violations.append(DomainError("required", "location"))
    refuse(violations)

    kits = list(
        PartKit.objects.select_for_update()
        .filter(run=run)
        .exclude(status__in=CLOSED_KIT_STATUSES)
        .order_by("pk")
    )
    if not allow_shortage:
        # Read with the kits locked: no issue or move-to-inventory can change what they hold.
        refuse(_shortages(run))
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
    if part.tracking_type == TrackingType.SERIAL:
        given = [
            serial_numbers[index].strip() if serial_numbers else None
            for index in range(int(run.quantity))
        ]
        outputs = _build(
            user,
            run,
            [
                {"serial_number": serial, "autogenerate_serial_number": not serial, "quantity": 1}
                for serial in given
            ],
            location,
        )
    else:
        autogenerate_lot = part.tracking_type == TrackingType.LOT
        outputs = _build(
            user,
            run,
            [{"quantity": run.quantity, "autogenerate_lot_number": autogenerate_lot}],
            location,
        )
    run.status = RunStatus.COMPLETE
    run.stamp(user)
    run.save()
    return RunCompletion(run, outputs)


def _build(
    user, run: Run, outputs: list[dict[str, Any]], location: Warehouse | None
) -> list[PartInventory]:
    """The run's outputs, created at once as new inventory of its part built by it; the first
    that is refused refuses the completion."""
    records = [{**output, "part": run.part, "location": location} for output in outputs]
    created = part_inventory_create_many(
        user=user, records=records, transaction_type=TransactionType.BUILD, run=run
    )
    refused = next((answer for answer in created if isinstance(answer, Exception)), None)
    if isinstance(refused, DomainError) and refused.code == "duplicate":
        # A given serial number is taken: name our argument. The message still names the
        # inventory's field the clash is on.
        field = Phrase("{field}", field=refused.field)
        raise DomainError("duplicate", "serial_numbers", **refused.params, FIELD=field) from refused
    if refused is not None:
        raise refused
    return created  # type: ignore[return-value]  # none refused
