"""The stock writes of kitting as a few literal SQL statements, kept together here.

Issue and move-to-inventory run on every kitting request: compiling their querysets cost more
than the database work. The statements' text is built once from the models' `_meta` table and
column names and runs through the public `connection.cursor()` with parameters, so PostgreSQL
prepares it (settings: server-side binding, prepare_threshold). Callers hold the transaction and
take the locks here in the global order (part kit, then part inventory); the database's
constraints and triggers stay the last guard.

The ledger INSERT bypasses InventoryTransaction.save() and its signals: no receiver listens to
them; one that is added must be called here too (tests/test_ledger.py checks the rows). It sends
inventory.signals.ledger_written, as every ledger write does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from functools import cache
from typing import Any

from django.db import connection, models
from django.utils import timezone

from core.sql import quoted
from inventory.models import InventoryTransaction, PartInventory, Warehouse
from inventory.signals import ledger_written
from kitting.models import PartKit, PartKitLine


@dataclass(frozen=True)
class KitRow:
    status: str
    run_id: int


@dataclass(frozen=True)
class InventoryRow:
    part_id: int
    serial_number: str | None
    quantity: Decimal
    kitted_quantity: Decimal
    installed_quantity: Decimal
    version: int
    location_id: int | None
    kit_issued: Decimal | None  # what the kit holds of it; None: no line
    location_found: bool  # the location asked for exists (True when none is asked for)


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def _names(model: type[models.Model], *fields: str) -> tuple[str, ...]:
    return (quoted(model._meta.db_table), *(quoted(_field(model, f).column) for f in fields))


@cache
def _statements(vendor: str, for_update: bool) -> dict[str, str]:
    """The statements' text for a database vendor, built once."""
    lock = " FOR UPDATE" if for_update else ""
    kit, kit_key, status, run = _names(PartKit, "key", "status", "run")
    inv, inv_key, part, serial, qty, kitted, installed, version, location, at, by = _names(
        PartInventory,
        "key",
        "part",
        "serial_number",
        "quantity",
        "kitted_quantity",
        "installed_quantity",
        "version",
        "location",
        "modified_at",
        "modified_by",
    )
    line, line_kit, line_inv, issued = _names(
        PartKitLine, "part_kit", "part_inventory", "issued_quantity"
    )
    warehouse, warehouse_key = _names(Warehouse, "key")
    ledger, *ledger_columns = _names(InventoryTransaction, *LEDGER_FIELDS)
    move = (
        f"UPDATE {inv} SET {qty} = {qty} + %s, {kitted} = {kitted} + %s, "
        f"{installed} = {installed} + %s, {version} = {version} + 1, {at} = %s, {by} = %s"
    )
    return {
        "lock_kit": f"SELECT {status}, {run} FROM {kit} WHERE {kit_key} = %s{lock}",
        # Scalar subqueries lock nothing: only the inventory row (the kit's lock guards its lines).
        "lock_inventory": (
            f"SELECT {part}, {serial}, {qty}, {kitted}, {installed}, {version}, {location}, "
            f"(SELECT {issued} FROM {line} WHERE {line_kit} = %s AND {line_inv} = %s), "
            f"(SELECT COUNT(*) FROM {warehouse} WHERE {warehouse_key} = %s) "
            f"FROM {inv} WHERE {inv_key} = %s{lock}"
        ),
        "move": f"{move} WHERE {inv_key} = %s",
        "move_to": f"{move}, {location} = %s WHERE {inv_key} = %s",
        "ledger": (
            f"INSERT INTO {ledger} ({', '.join(ledger_columns)}) "
            f"VALUES ({', '.join(['%s'] * len(ledger_columns))})"
        ),
        "line_insert": f"INSERT INTO {line} ({line_kit}, {line_inv}, {issued}) VALUES (%s, %s, %s)",
        "line_change": (
            f"UPDATE {line} SET {issued} = {issued} + %s WHERE {line_kit} = %s AND {line_inv} = %s"
        ),
        "line_delete": f"DELETE FROM {line} WHERE {line_kit} = %s AND {line_inv} = %s",
    }


LEDGER_FIELDS = (
    "version",
    "created_at",
    "modified_at",
    "created_by",
    "modified_by",
    "part_inventory",
    "part",
    "type",
    "quantity",
    "kitted_quantity",
    "installed_quantity",
    "quantity_after",
    "part_kit",
    "run",
)


def _sql(name: str) -> str:
    return _statements(connection.vendor, connection.features.has_select_for_update)[name]


def _execute(name: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_sql(name), params)


def _fetch(name: str, params: Sequence[Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_sql(name), params)
        return cursor.fetchone()


def _decimal(value: Any, field: models.DecimalField) -> Decimal | None:
    """A stored decimal as the ORM reads it: SQLite hands back an int or a float."""
    if value is None or isinstance(value, Decimal):
        return value
    exact = Context(prec=15).create_decimal_from_float(value)
    return exact.quantize(Decimal(1).scaleb(-field.decimal_places), context=Context(prec=28))


def _prep(model: type[models.Model], name: str, value: Any) -> Any:
    """A value as the model field hands it to the database (a datetime on SQLite is text)."""
    return _field(model, name).get_db_prep_save(value, connection)


# --- locks, in the global order: part kit, then part inventory ------------------------------------


def lock_kit(key: int) -> KitRow | None:
    row = _fetch("lock_kit", [key])
    return None if row is None else KitRow(*row)


def lock_inventory(
    key: int, *, kit_key: int, location_key: int | None = None
) -> InventoryRow | None:
    """Lock the inventory after its kit, reading in the same statement what the kit holds of it
    and whether `location_key` names a warehouse."""
    row = _fetch("lock_inventory", [kit_key, key, location_key, key])
    if row is None:
        return None
    part, serial, quantity, kitted, installed, version, location, issued, found = row
    decimals = [
        _decimal(value, _field(PartInventory, "quantity"))
        for value in (quantity, kitted, installed, issued)
    ]
    quantity, kitted, installed, issued = decimals
    return InventoryRow(
        part, serial, quantity, kitted, installed, version, location, issued,
        location_key is None or bool(found),
    )  # fmt: skip


# --- writes, under those locks ------------------------------------------------------------------


def move(
    key: int,
    *,
    part_id: int,
    quantity: Decimal,
    type: str,
    actor: int | None,
    on_hand: Decimal = Decimal(0),
    kitted: Decimal = Decimal(0),
    installed: Decimal = Decimal(0),
    part_kit: int | None = None,
    run: int | None = None,
    location: int | None = None,
) -> Decimal:
    """Apply signed deltas to a locked inventory row of `part_id` holding `quantity` on hand (and
    move it to `location` if given), and write its ledger row with the same audit stamp; answer
    its on-hand quantity now."""
    now = timezone.now()
    stamp = _prep(PartInventory, "modified_at", now)
    changes = [
        _prep(PartInventory, "quantity", on_hand),
        _prep(PartInventory, "kitted_quantity", kitted),
        _prep(PartInventory, "installed_quantity", installed),
        stamp,
        actor,
    ]
    if location is None:
        _execute("move", [*changes, key])
    else:
        _execute("move_to", [*changes, location, key])
    # The row is locked, so what was read plus the deltas is what the database now holds.
    after = quantity + on_hand
    ledger = {
        "version": _field(InventoryTransaction, "version").get_default(),
        "created_at": now,
        "modified_at": now,
        "created_by": actor,
        "modified_by": actor,
        "part_inventory": key,
        "part": part_id,
        "type": type,
        "quantity": on_hand,
        "kitted_quantity": kitted,
        "installed_quantity": installed,
        "quantity_after": after,
        "part_kit": part_kit,
        "run": run,
    }
    _execute("ledger", [_prep(InventoryTransaction, f, ledger[f]) for f in LEDGER_FIELDS])
    ledger_written.send(InventoryTransaction, counts={type: 1})
    return after


def line_add(*, kit_key: int, inventory_key: int, quantity: Decimal, held: Decimal | None) -> None:
    """What the kit holds of the inventory grows by `quantity` (`held`: what it held, None: no
    line yet). The kit's lock serializes every change to its lines."""
    if held is None:
        issued = _prep(PartKitLine, "issued_quantity", quantity)
        _execute("line_insert", [kit_key, inventory_key, issued])
    else:
        line_change(kit_key=kit_key, inventory_key=inventory_key, delta=quantity)


def line_change(*, kit_key: int, inventory_key: int, delta: Decimal) -> None:
    delta = _prep(PartKitLine, "issued_quantity", delta)
    _execute("line_change", [delta, kit_key, inventory_key])


def line_delete(*, kit_key: int, inventory_key: int) -> None:
    _execute("line_delete", [kit_key, inventory_key])
