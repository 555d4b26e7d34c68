"""Writes for items, warehouses, part inventory and the ledger: every rule of contract sections 3,
5, 6 and 8 lives here."""

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Required, TypedDict, Unpack

from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError, DomainErrors, Phrase, refuse
from core.numbers import decimal_string, quantity_text
from core.services import (
    apply_changes,
    broken_reference,
    check_unique_code,
    check_version,
    delete_unreferenced,
    lock,
    lock_all,
    reject_immutable_changes,
    save_changes,
    save_unique_code,
)
from inventory.models import (
    KIT_TYPES,
    STOCKED_TYPES,
    AdjustmentType,
    InventoryTransaction,
    Item,
    KitRevenuePosting,
    PartInventory,
    TrackingType,
    TransactionType,
    Warehouse,
)
from inventory.signals import ledger_written

# What cannot change after create (contract 3).
ITEM_IMMUTABLE = ("code", "item_type", "cost_method")
TRACKING_FLAGS = ("enable_serial_no", "enable_lot_category")
# The version(s) of a row the caller read (If-Match); None: no check.
Version = int | Collection[int] | None


class ItemFields(TypedDict, total=False):
    """What an item create or update may set besides its code, name and type."""

    code: str
    name: str
    item_type: str
    status: str
    cost_method: str
    unit_of_measure: str
    extended_description: str
    standard_cost: Decimal | None
    enable_serial_no: bool
    serial_mask: str
    enable_lot_category: bool
    lot_category: str
    kit_revenue_posting: str


def _item_rules(item: Item) -> list[DomainError]:
    violations = []
    if item.item_type not in STOCKED_TYPES:
        violations += [
            DomainError("tracking_not_allowed", field, TYPE=item.item_type)
            for field in TRACKING_FLAGS
            if getattr(item, field)
        ]
    if item.serial_mask and "#" not in item.serial_mask:
        violations.append(
            DomainError(
                "invalid_value", "serial_mask", REASON="a mask needs at least one # for the counter"
            )
        )
    if item.item_type in KIT_TYPES:
        if not item.kit_revenue_posting:
            item.kit_revenue_posting = KitRevenuePosting.COMPONENT_LEVEL
    elif item.kit_revenue_posting:
        violations.append(DomainError("kits_only", "kit_revenue_posting", TYPE=item.item_type))
    violations += [
        DomainError("required", field)
        for field in ("code", "name")
        if not (getattr(item, field) or "").strip()
    ]
    return violations


@transaction.atomic
def item_create(
    *, user, code: str, name: str, item_type: str, **fields: Unpack[ItemFields]
) -> Item:
    item = Item(code=code, name=name, item_type=item_type, **fields)
    refuse(_item_rules(item))
    check_unique_code(Item, code)
    item.stamp(user, created=True)
    save_unique_code(item)
    return item


@transaction.atomic
def item_update(
    *, item_key: int, user, expected_version: Version = None, **changes: Unpack[ItemFields]
) -> Item:
    item = lock(Item, item_key)
    check_version(item, expected_version)
    reject_immutable_changes(item, changes, ITEM_IMMUTABLE)
    _reject_tracking_change_in_use(item, changes)
    apply_changes(item, changes)
    refuse(_item_rules(item))
    save_changes(item, user)
    return item


def _reject_tracking_change_in_use(item: Item, changes: ItemFields) -> None:
    """Existing inventory was checked against the part's tracking; changing it would strand
    that inventory on the wrong side of the rules of contract 6.1."""
    changed = [
        field
        for field in TRACKING_FLAGS
        if field in changes and bool(changes[field]) != getattr(item, field)
    ]
    if changed and PartInventory.objects.filter(part=item).exists():
        refuse([DomainError("tracking_in_use", field, ID=item.code) for field in changed])


@transaction.atomic
def item_delete(*, item_key: int, user, expected_version: Version = None) -> None:
    item = lock(Item, item_key)
    check_version(item, expected_version)
    delete_unreferenced(item)


class WarehouseFields(TypedDict, total=False):
    code: str
    name: str
    status: str
    inventory_available: bool


def _warehouse_rules(warehouse: Warehouse) -> list[DomainError]:
    return [
        DomainError("required", field)
        for field in ("code", "name")
        if not (getattr(warehouse, field) or "").strip()
    ]


@transaction.atomic
def warehouse_create(*, user, code: str, name: str, **fields: Unpack[WarehouseFields]) -> Warehouse:
    warehouse = Warehouse(code=code, name=name, **fields)
    refuse(_warehouse_rules(warehouse))
    check_unique_code(Warehouse, code)
    warehouse.stamp(user, created=True)
    save_unique_code(warehouse)
    return warehouse


@transaction.atomic
def warehouse_update(
    *,
    warehouse_key: int,
    user,
    expected_version: Version = None,
    **changes: Unpack[WarehouseFields],
) -> Warehouse:
    warehouse = lock(Warehouse, warehouse_key)
    check_version(warehouse, expected_version)
    apply_changes(warehouse, changes)
    refuse(_warehouse_rules(warehouse))
    if "code" in changes:
        check_unique_code(Warehouse, warehouse.code, exclude_pk=warehouse.pk)
    save_changes(warehouse, user, save=save_unique_code)
    return warehouse


@transaction.atomic
def warehouse_delete(*, warehouse_key: int, user, expected_version: Version = None) -> None:
    warehouse = lock(Warehouse, warehouse_key)
    check_version(warehouse, expected_version)
    delete_unreferenced(warehouse)


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
    reason: str = "",
    from_location_key: int | None = None,
    to_location_key: int | None = None,
) -> InventoryTransaction:
    """Write the ledger row explaining one change. Call it in the same transaction as the change,
    with the inventory row locked, and pass the changes as signed deltas."""
    row = _ledger_row(
        part_inventory,
        type,
        user,
        quantity=quantity,
        kitted_quantity=kitted_quantity,
        installed_quantity=installed_quantity,
        quantity_after=quantity_after,
        part_kit=part_kit,
        run=run,
        reason=reason,
        from_location_id=from_location_key,
        to_location_id=to_location_key,
    )
    row.save()  # an INSERT: the model refuses anything else (the ledger is immutable)
    ledger_written.send(InventoryTransaction, counts={type: 1})
    return row


def _ledger_row(
    part_inventory: PartInventory, type: str, user, **fields: Any
) -> InventoryTransaction:
    """The (unsaved) ledger row of a change to `part_inventory`."""
    row = InventoryTransaction(
        part_inventory_id=part_inventory.pk, part_id=part_inventory.part_id, type=type, **fields
    )
    row.stamp(user, created=True)
    return row


# --- part inventory (contract 6) -----------------------------------------------------------

PART_INVENTORY_IMMUTABLE = ("part",)
_TRACKING_LABEL = {
    TrackingType.SERIAL: "serial-tracked",
    TrackingType.LOT: "lot-tracked",
    TrackingType.UNTRACKED: "untracked",
}
# Only these ledger types create inventory: by hand, or as the output of a run.
_CREATING_TYPES = (TransactionType.CREATE, TransactionType.BUILD)


def format_generated_number(*, code: str, mask: str, counter: int, prefix: str = "") -> str:
    """A generated serial (prefix "") or lot (prefix "L") number for the counter value.

    With a mask every `#` is one digit of the counter, zero-padded to the number of `#`s, and
    `prefix` goes right before the first digit; a counter with more digits than the mask has `#`s
    widens the first `#`, so numbers stay unique. Without a mask: `{code}-{prefix}{counter:06}`.
    """
    slots = mask.count("#")
    if not slots:
        return f"{code}-{prefix}{counter:06d}"
    digits = str(counter).zfill(slots)
    overflow, digits = digits[:-slots], digits[-slots:]
    out, position = [], 0
    for char in mask:
        if char != "#":
            out.append(char)
            continue
        if position == 0:
            out.append(prefix + overflow)
        out.append(digits[position])
        position += 1
    return "".join(out)


class _NumberSeries:
    """The generated serial or lot numbers of one part (contract 6.3), in counter order. The
    caller holds the part's row lock until commit: it serializes generators for one part across
    processes, and the counter only grows, so a number is never handed out twice, even after its
    inventory is gone. A number someone already entered by hand is skipped: one in the database
    (checked `wanted` numbers at a time, one query for a whole batch) or one `held` by a record
    written with it in the same batch."""

    def __init__(self, part: Item, *, serial: bool, wanted: int = 1) -> None:
        self.part = part
        self.counter_field = "serial_counter" if serial else "lot_counter"
        self.number_field = "serial_number" if serial else "lot_number"
        self.prefix = "" if serial else "L"
        self.start = self.counter = self.checked = getattr(part, self.counter_field)
        self.wanted = wanted  # how many more numbers the caller expects to ask for
        self.held: set[str] = set()
        self.stored: set[str] = set()  # the numbers of the last window checked that exist

    def _format(self, counter: int) -> str:
        return format_generated_number(
            code=self.part.code, mask=self.part.serial_mask, counter=counter, prefix=self.prefix
        )

    def next(self) -> str:
        while True:
            self.counter += 1
            if self.counter > self.checked:
                window = range(self.counter, self.counter + max(self.wanted, 1))
                numbers = [self._format(counter) for counter in window]
                self.stored = set(
                    PartInventory.objects.filter(
                        part_id=self.part.pk, **{f"{self.number_field}__in": numbers}
                    ).values_list(self.number_field, flat=True)
                )
                self.checked = window[-1]
            number = self._format(self.counter)
            if number not in self.stored and number not in self.held:
                self.wanted -= 1
                self.held.add(number)
                return number

    def save(self) -> None:
        """Store the counter where it got to (once, for every number handed out)."""
        if self.counter != self.start:
            Item.objects.filter(pk=self.part.pk).update(**{self.counter_field: self.counter})
            setattr(self.part, self.counter_field, self.counter)


def _number_next(*, part: Item, serial: bool) -> str:
    series = _NumberSeries(lock(Item, part.pk), serial=serial)
    number = series.next()
    series.save()
    setattr(part, series.counter_field, series.counter)
    return number


@transaction.atomic
def serial_number_next(*, part: Item) -> str:
    """The part's next generated serial number (contract 6.3); never handed out again."""
    return _number_next(part=part, serial=True)


@transaction.atomic
def lot_number_next(*, part: Item) -> str:
    """The part's next generated lot number (contract 6.3); never handed out again."""
    return _number_next(part=part, serial=False)


# Free text the inventory may carry: stripped, and blank is none.
_OPTIONAL_TEXTS = ("serial_number", "lot_number", "usage_type", "supplier_id")


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _part_inventory_rules(
    inventory: PartInventory, *, autogenerate_serial: bool, autogenerate_lot: bool
) -> list[DomainError]:
    part = inventory.part
    if part.item_type not in STOCKED_TYPES:
        return [DomainError("part_not_stocked", "part", ID=part.code, TYPE=part.item_type)]
    violations = []
    tracking, label = part.tracking_type, _TRACKING_LABEL[part.tracking_type]
    for number, auto, field, flag in (
        (
            inventory.serial_number,
            autogenerate_serial,
            "serial_number",
            "autogenerate_serial_number",
        ),
        (inventory.lot_number, autogenerate_lot, "lot_number", "autogenerate_lot_number"),
    ):
        if number and auto:
            reason = Phrase("give {number} or {flag}, not both", number=field, flag=flag)
            violations.append(DomainError("invalid_value", flag, REASON=reason))
    has_serial = bool(inventory.serial_number) or autogenerate_serial
    has_lot = bool(inventory.lot_number) or autogenerate_lot
    # A serial- or lot-tracked part only accepts inventory of its own kind (6.1); a serial may
    # also carry a lot.
    if tracking == TrackingType.SERIAL and not has_serial:
        violations.append(DomainError("required", "serial_number"))
    if tracking != TrackingType.SERIAL and has_serial:
        field = "serial_number" if inventory.serial_number else "autogenerate_serial_number"
        violations.append(DomainError("tracking_mismatch", field, PART=part.code, TRACKING=label))
    if tracking == TrackingType.LOT and not has_lot:
        violations.append(DomainError("required", "lot_number"))
    if tracking == TrackingType.UNTRACKED and has_lot:
        field = "lot_number" if inventory.lot_number else "autogenerate_lot_number"
        violations.append(DomainError("tracking_mismatch", field, PART=part.code, TRACKING=label))
    quantity = inventory.quantity
    if quantity < 0:
        violations.append(DomainError("invalid_value", "quantity", REASON="must be 0 or more"))
    elif has_serial and quantity not in (0, 1):
        violations.append(
            DomainError(
                "invalid_value", "quantity", REASON="serial inventory holds a quantity of 0 or 1"
            )
        )
    elif has_serial and quantity + inventory.kitted_quantity + inventory.installed_quantity > 1:
        violations.append(
            DomainError(
                "invalid_value",
                "quantity",
                REASON="the serial is issued to a kit or installed, so its quantity stays 0",
            )
        )
    return violations


def _stored_serials(
    pairs: set[tuple[int, str]], *, excluding: int | None = None
) -> set[tuple[int, str]]:
    """The (part, serial) pairs of `pairs` a stored inventory other than `excluding` holds, in
    one query: the one place that says a serial is unique within its part (the create batch
    asks for all its serials, an update or a single write for its own)."""
    if not pairs:
        return set()
    clash = PartInventory.objects.filter(
        part_id__in={part for part, _ in pairs}, serial_number__in={serial for _, serial in pairs}
    )
    if excluding:
        clash = clash.exclude(pk=excluding)
    return set(clash.values_list("part_id", "serial_number")) & pairs


def _serial_taken(inventory: PartInventory) -> bool:
    pair = (inventory.part_id, inventory.serial_number)
    return bool(_stored_serials({pair}, excluding=inventory.pk))


def _duplicate_serial(inventory: PartInventory) -> DomainError:
    return DomainError(
        "duplicate",
        "serial_number",
        OBJECT=PartInventory,
        VALUE=f"{inventory.serial_number} for part {inventory.part.code}",
    )


def _write_checked(inventory: PartInventory, write) -> None:
    """Run the write; a concurrent writer that took the same serial first becomes the 409 the
    check before would have given."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError as exc:
        if inventory.serial_number and _serial_taken(inventory):
            raise _duplicate_serial(inventory) from exc
        raise


class PartInventoryFields(TypedDict, total=False):
    """One part inventory to create (contract 6): its part and what it may set."""

    part: Required[Item]
    serial_number: str | None
    lot_number: str | None
    autogenerate_serial_number: bool
    autogenerate_lot_number: bool
    location: Warehouse | None
    quantity: Decimal | int | None
    cost: Decimal | None
    usage_type: str | None
    supplier_id: str | None


_FIELDS = PartInventoryFields.__required_keys__ | PartInventoryFields.__optional_keys__

# What part_inventory_create_many answers for one record: the inventory it created, or what
# refused it (a DomainError or DomainErrors, or a database error of that record's own rows).
Created = PartInventory | Exception


@transaction.atomic
def part_inventory_create(
    *,
    user,
    transaction_type: str = TransactionType.CREATE,
    run=None,
    **fields: Unpack[PartInventoryFields],
) -> PartInventory:
    """Create part inventory and its `create` ledger row (contract 6): the batch of one of
    part_inventory_create_many, raising what refused it.

    Kitting's run completion passes `transaction_type="build"` and the `run`: the inventory's
    `builtBy` and the ledger row then name the run.
    """
    (created,) = part_inventory_create_many(
        user=user, records=[fields], transaction_type=transaction_type, run=run
    )
    if isinstance(created, Exception):
        raise created
    return created


@dataclass
class _Draft:
    """A record that passed the rules, on its way to an INSERT."""

    position: int
    inventory: PartInventory
    autogenerate_serial: bool
    autogenerate_lot: bool


@transaction.atomic
def part_inventory_create_many(
    *,
    user,
    records: Sequence[PartInventoryFields],
    transaction_type: str = TransactionType.CREATE,
    run=None,
) -> list[Created]:
    """Create a part inventory and its ledger row for each record, in order, each under the
    rules and with the numbers it would get created alone after the records before it (an
    earlier record's serial is a duplicate for a later one, and a generated number skips the
    numbers the earlier records hold); the answer says, by position, what was created or what
    refused that record, which then wrote nothing.

    Set-based: each distinct part is locked once, in key order (its type and tracking decide the
    rules, item_update refuses a tracking change while inventory exists, and the lock serializes
    number generators); every record is checked under the locks, each part's counters move once,
    and the records that passed are written with one INSERT of inventories and one of ledger
    rows."""
    if transaction_type not in _CREATING_TYPES:
        raise ValueError(f"part inventory is created by {_CREATING_TYPES}, not {transaction_type}")
    # A record is read with .get(), so a misspelt key would be dropped silently: refuse it, as
    # a keyword argument the signature does not name would be.
    for record in records:
        if unknown := record.keys() - _FIELDS:
            raise TypeError(f"part inventory has no field {', '.join(sorted(unknown))}")
    parts = lock_all(Item, [record["part"].pk for record in records])
    # A location deleted since the request named it is refused here, at its record: its foreign
    # key is only checked at commit, where it would fail every record of the batch.
    named = {record["location"].pk for record in records if record.get("location") is not None}
    locations = (
        set(Warehouse.objects.filter(pk__in=named).values_list("pk", flat=True)) if named else set()
    )
    answers: list[Created | None] = [None] * len(records)
    drafts: list[_Draft] = []
    for position, record in enumerate(records):
        part, location = parts.get(record["part"].pk), record.get("location")
        if part is None:  # deleted since the request named it
            answers[position] = broken_reference(Item, record["part"].pk, "part")
            continue
        if location is not None and location.pk not in locations:
            answers[position] = broken_reference(Warehouse, location.pk, "location")
            continue
        quantity = record.get("quantity")
        inventory = PartInventory(
            part=part,
            serial_number=_clean_text(record.get("serial_number")),
            lot_number=_clean_text(record.get("lot_number")),
            location=location,
            quantity=Decimal(0 if quantity is None else quantity),
            cost=record.get("cost"),
            usage_type=_clean_text(record.get("usage_type")),
            supplier_id=_clean_text(record.get("supplier_id")),
            built_by=run,
        )
        draft = _Draft(
            position,
            inventory,
            bool(record.get("autogenerate_serial_number")),
            bool(record.get("autogenerate_lot_number")),
        )
        violations = _part_inventory_rules(
            inventory,
            autogenerate_serial=draft.autogenerate_serial,
            autogenerate_lot=draft.autogenerate_lot,
        )
        if violations:
            answers[position] = DomainErrors(violations)
        else:
            drafts.append(draft)
    written = _numbered(drafts, answers)
    for draft in written:
        draft.inventory.stamp(user, created=True)
    refused = _insert_created(written, user=user, type=transaction_type, run=run)
    for draft in written:
        answers[draft.position] = refused.get(draft.position, draft.inventory)
    return answers  # type: ignore[return-value]  # every position is answered by now


def _numbered(drafts: list[_Draft], answers: list[Created | None]) -> list[_Draft]:
    """The drafts whose serial is free, in order, with their generated numbers; a taken serial
    is refused at its draft's position. A serial is taken when it is stored (one query for all
    the serials given) or held by an earlier draft."""
    given = {(d.inventory.part_id, d.inventory.serial_number) for d in drafts}
    stored = _stored_serials({pair for pair in given if pair[1]})
    series: dict[tuple[int, bool], _NumberSeries] = {}
    wanted = Counter(
        (d.inventory.part_id, serial)
        for d in drafts
        for serial, auto in ((True, d.autogenerate_serial), (False, d.autogenerate_lot))
        if auto
    )

    def numbers(part: Item, serial: bool) -> _NumberSeries:
        found = series.get((part.pk, serial))
        if found is None:
            found = series[part.pk, serial] = _NumberSeries(
                part, serial=serial, wanted=wanted[part.pk, serial]
            )
        return found

    free = []
    for draft in drafts:
        inventory = draft.inventory
        serials, lots = numbers(inventory.part, True), numbers(inventory.part, False)
        serial = inventory.serial_number
        if serial and ((inventory.part_id, serial) in stored or serial in serials.held):
            answers[draft.position] = _duplicate_serial(inventory)
            continue
        # Generated numbers also skip what earlier drafts hold, as they would once written.
        if draft.autogenerate_serial:
            inventory.serial_number = serials.next()
        if draft.autogenerate_lot:
            inventory.lot_number = lots.next()
        if inventory.serial_number:
            serials.held.add(inventory.serial_number)
        if inventory.lot_number:
            lots.held.add(inventory.lot_number)
        free.append(draft)
    for each in series.values():
        each.save()
    return free


def _insert_created(drafts: list[_Draft], *, user, type: str, run) -> dict[int, Exception]:
    """INSERT the drafts' inventories, then their ledger rows, all at once. The checks ran under
    the locks every writer of a part's serials takes (creates lock the part, an update giving a
    serial waits for it in the database's tracking trigger), so the database should refuse none;
    if it does refuse a row, each draft is written alone instead, so that only the refused one
    fails. Answers why each refused draft was, by position."""

    def ledger(inventory: PartInventory) -> InventoryTransaction:
        return _ledger_row(
            inventory,
            type,
            user,
            quantity=inventory.quantity,
            quantity_after=inventory.quantity,
            run=run,
        )

    inventories = [draft.inventory for draft in drafts]
    try:
        with transaction.atomic():
            PartInventory.objects.bulk_create(inventories)
            InventoryTransaction.objects.bulk_create([ledger(row) for row in inventories])
            ledger_written.send(InventoryTransaction, counts={type: len(inventories)})
        return {}
    except (IntegrityError, DataError):
        pass
    refused = {}
    for draft in drafts:
        inventory = draft.inventory
        inventory.pk, inventory._state.adding = None, True  # the rolled-back INSERT may set them

        def write(inventory: PartInventory = inventory) -> None:
            inventory.save(force_insert=True)
            ledger(inventory).save()
            ledger_written.send(InventoryTransaction, counts={type: 1})

        try:
            _write_checked(inventory, write)
        except (DomainError, IntegrityError, DataError) as exc:
            refused[draft.position] = exc
    return refused


_UPDATABLE = ("serial_number", "lot_number", "location", "cost", "usage_type", "supplier_id")


class PartInventoryChanges(TypedDict, total=False):
    part: Item
    serial_number: str | None
    lot_number: str | None
    autogenerate_serial_number: bool
    autogenerate_lot_number: bool
    location: Warehouse | None
    quantity: Decimal | None
    cost: Decimal | None
    usage_type: str | None
    supplier_id: str | None


@transaction.atomic
def part_inventory_update(
    *,
    part_inventory_key: int,
    user,
    expected_version: Version = None,
    **changes: Unpack[PartInventoryChanges],
) -> PartInventory:
    """Change any field but `part` under the rules of create; a quantity change writes an
    `adjust` ledger row with the delta (contract 6.2)."""
    inventory = lock(PartInventory, part_inventory_key, related=("part",))
    check_version(inventory, expected_version)
    reject_immutable_changes(inventory, changes, PART_INVENTORY_IMMUTABLE)
    data: dict[str, Any] = {name: value for name, value in changes.items() if name != "part"}
    autogenerate_serial = bool(data.pop("autogenerate_serial_number", False))
    autogenerate_lot = bool(data.pop("autogenerate_lot_number", False))
    before = inventory.quantity
    for name in _OPTIONAL_TEXTS:
        if name in data:
            data[name] = _clean_text(data[name])
    if data.get("quantity", 0) is None:
        raise DomainErrors([DomainError("required", "quantity")])
    apply_changes(inventory, data)
    # Autogenerating replaces the number the inventory had, unless the request also names one.
    if autogenerate_serial and "serial_number" not in data:
        inventory.serial_number = None
    if autogenerate_lot and "lot_number" not in data:
        inventory.lot_number = None
    refuse(
        _part_inventory_rules(
            inventory, autogenerate_serial=autogenerate_serial, autogenerate_lot=autogenerate_lot
        )
    )
    if autogenerate_serial:
        inventory.serial_number = serial_number_next(part=inventory.part)
    if autogenerate_lot:
        inventory.lot_number = lot_number_next(part=inventory.part)
    if inventory.serial_number and _serial_taken(inventory):
        raise _duplicate_serial(inventory)
    delta = Decimal(inventory.quantity) - before

    def write(stamped: PartInventory) -> None:
        updated = {name: getattr(stamped, name) for name in _UPDATABLE}
        _write_checked(
            stamped,
            lambda: PartInventory.objects.filter(pk=stamped.pk).update(
                **updated,
                quantity=F("quantity") + delta,
                version=stamped.version,
                modified_by=stamped.modified_by,
                modified_at=timezone.now(),
            ),
        )
        stamped.refresh_from_db()

    if save_changes(inventory, user, save=write) and delta:
        inventory_transaction_create(
            part_inventory=inventory,
            type=TransactionType.ADJUST,
            user=user,
            quantity=delta,
            quantity_after=inventory.quantity,
        )
    return inventory


@transaction.atomic
def part_inventory_delete(
    *, part_inventory_key: int, user, expected_version: Version = None
) -> None:
    """Delete inventory no open kit holds (409 otherwise), with a `delete` ledger row that takes
    its quantities to zero; the ledger rows stay."""
    inventory = lock(PartInventory, part_inventory_key)
    check_version(inventory, expected_version)
    if inventory.kitted_quantity > 0:
        raise DomainError(
            "inventory_still_kitted",
            KEY=inventory.pk,
            QUANTITY=decimal_string(inventory.kitted_quantity),
        )
    if inventory.built_by_id is not None:
        # A run's output is part of its as-built record (7.4): it stays. (The run is read
        # through the foreign key: inventory does not import kitting.)
        raise DomainError(
            "still_referenced",
            OBJECT=PartInventory,
            KEY=inventory.pk,
            REFERENCES=[inventory.built_by],
        )
    inventory_transaction_create(
        part_inventory=inventory,
        type=TransactionType.DELETE,
        user=user,
        quantity=-inventory.quantity,
        kitted_quantity=-inventory.kitted_quantity,
        installed_quantity=-inventory.installed_quantity,
        quantity_after=0,
    )
    # Installations and run outputs refer to it with PROTECT: 409, and the ledger row rolls back.
    delete_unreferenced(inventory)


# --- stock operations (contract 15.4, 15.5) ---------------------------------------------------
# One inventory row is locked (the new record of a split is inserted after it), and the on-hand
# quantity changes by a signed delta in the database: the same order and guards as kitting's
# workflows, and the ledger row in the same transaction.


def _lock_stock(part_inventory_key: int, expected_version: Version) -> PartInventory:
    inventory = lock(PartInventory, part_inventory_key, related=("part",))
    check_version(inventory, expected_version)
    return inventory


def _location_or_refusal(location_key: int | None) -> tuple[Warehouse | None, list[DomainError]]:
    if location_key is None:
        return None, []
    location = Warehouse.objects.filter(pk=location_key).first()
    if location is None:
        return None, broken_reference(Warehouse, location_key, "location").errors
    return location, []


def _not_positive() -> DomainError:
    return DomainError("invalid_value", "quantity", REASON="must be greater than 0")


def _not_with(field: str, type: str) -> DomainError:
    return DomainError("invalid_value", field, REASON=f"leave it out for a {type}")


def _adjustment_rules(
    inventory: PartInventory,
    *,
    type: str,
    quantity: Decimal | None,
    location: Warehouse | None,
    reason: str,
) -> tuple[Decimal, list[DomainError]]:
    """The on-hand change an adjustment makes, and the rules it breaks."""
    if type not in AdjustmentType.values:
        choices = ", ".join(AdjustmentType.values)
        return Decimal(0), [DomainError("invalid_value", "type", REASON=f"one of {choices}")]
    violations = []
    if not reason:
        violations.append(DomainError("required", "reason"))
    if type == AdjustmentType.TRANSFER:
        if quantity is not None:
            violations.append(_not_with("quantity", type))
        if location is None:
            violations.append(DomainError("required", "location"))
        elif location.pk == inventory.location_id:
            already = f"the inventory is already at {location.code}"
            violations.append(DomainError("invalid_value", "location", REASON=already))
        return Decimal(0), violations
    if location is not None:
        violations.append(_not_with("location", type))
    if quantity is None:
        return Decimal(0), [*violations, DomainError("required", "quantity")]
    if type == AdjustmentType.SCRAP:
        if quantity <= 0:
            return Decimal(0), [*violations, _not_positive()]
        if quantity > inventory.quantity:
            exceeds = DomainError(
                "scrap_exceeds_on_hand",
                "quantity",
                REQUESTED=quantity_text(quantity),
                KEY=inventory.pk,
                AVAILABLE=quantity_text(inventory.quantity),
            )
            return Decimal(0), [*violations, exceeds]
        delta = -Decimal(quantity)
    else:
        delta = Decimal(quantity) - inventory.quantity
    # What the inventory would hold obeys the tracking rules (a serial stays 0 or 1).
    inventory.quantity += delta
    violations += _part_inventory_rules(
        inventory, autogenerate_serial=False, autogenerate_lot=False
    )
    inventory.quantity -= delta
    return delta, violations


def _move_on_hand(
    inventory: PartInventory, *, user, delta: Decimal, location: Warehouse | None = None
) -> None:
    """Change the locked row's on-hand quantity by `delta` (and its location) in the database,
    with a new version; the copy in hand follows."""
    inventory.stamp(user)
    changes: dict[str, Any] = {"location": location} if location is not None else {}
    PartInventory.objects.filter(pk=inventory.pk).update(
        **changes,
        quantity=F("quantity") + delta,
        version=inventory.version,
        modified_by=inventory.modified_by,
        modified_at=timezone.now(),
    )
    inventory.refresh_from_db(fields=["quantity", "location", "modified_at"])


@transaction.atomic
def part_inventory_adjust(
    *,
    user,
    part_inventory_key: int,
    type: str,
    reason: str = "",
    quantity: Decimal | None = None,
    location_key: int | None = None,
    expected_version: Version = None,
) -> PartInventory:
    """Scrap `quantity`, recount the on-hand quantity to `quantity`, or transfer the inventory to
    the location: one ledger row of that type carrying `reason` (contract 15.4)."""
    inventory = _lock_stock(part_inventory_key, expected_version)
    location, violations = _location_or_refusal(location_key)
    reason = (reason or "").strip()
    delta, rules = _adjustment_rules(
        inventory,
        type=type,
        quantity=quantity,
        location=location,
        reason=reason,
    )
    refuse(violations + rules)
    from_location = inventory.location_id
    _move_on_hand(inventory, user=user, delta=delta, location=location)
    transfer = type == AdjustmentType.TRANSFER
    inventory_transaction_create(
        part_inventory=inventory,
        type=type,
        user=user,
        quantity=delta,
        quantity_after=inventory.quantity,
        reason=reason,
        from_location_key=from_location if transfer else None,
        to_location_key=location.pk if transfer else None,
    )
    return inventory


@transaction.atomic
def part_inventory_split(
    *,
    user,
    part_inventory_key: int,
    quantity: Decimal,
    location_key: int | None = None,
    expected_version: Version = None,
) -> PartInventory:
    """Split `quantity` of lot or untracked inventory off into a new record of the same part, lot
    and cost (at `location`, else the source's), whose `origin_part_inventory` is the source: a
    `split` ledger row on each, summing to zero (contract 15.5). Answers the new record."""
    source = _lock_stock(part_inventory_key, expected_version)
    location, violations = _location_or_refusal(location_key)
    if source.serial_number:
        violations.append(
            DomainError("split_serial", "key", KEY=source.pk, SERIAL=source.serial_number)
        )
    elif quantity is None:
        violations.append(DomainError("required", "quantity"))
    elif quantity <= 0:
        violations.append(_not_positive())
    elif quantity >= source.quantity:
        violations.append(
            DomainError(
                "split_takes_all",
                "quantity",
                REQUESTED=quantity_text(quantity),
                KEY=source.pk,
                AVAILABLE=quantity_text(source.quantity),
            )
        )
    refuse(violations)
    quantity = Decimal(quantity)
    _move_on_hand(source, user=user, delta=-quantity)
    inventory_transaction_create(
        part_inventory=source,
        type=TransactionType.SPLIT,
        user=user,
        quantity=-quantity,
        quantity_after=source.quantity,
    )
    split = PartInventory(
        part=source.part,
        lot_number=source.lot_number,
        location_id=location.pk if location is not None else source.location_id,
        quantity=quantity,
        cost=source.cost,
        usage_type=source.usage_type,
        supplier_id=source.supplier_id,
        origin_part_inventory=source,
    )
    split.stamp(user, created=True)
    split.save(force_insert=True)
    inventory_transaction_create(
        part_inventory=split,
        type=TransactionType.SPLIT,
        user=user,
        quantity=quantity,
        quantity_after=quantity,
    )
    return split
