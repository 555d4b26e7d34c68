"""Bulk data for the benchmark: items, kits with components, part inventory across warehouses,
runs with part kits and issued lines, and the ledger rows that explain every quantity.

    python manage.py seed_scale --items 20000 --inventories 1000000 --kits 2000

Rows go in with COPY on PostgreSQL (one transaction, `FREEZE` after a TRUNCATE, then VACUUM
ANALYZE so the planner has statistics and index-only scans need no heap visits) and with
bulk_create in batches elsewhere. It writes past the services on purpose: it is a loader, not a
client. The data is generated consistent (every part inventory's quantity, kittedQuantity and
installedQuantity equal the sums over its ledger rows), and a check query proves it at the end.
"""

import io
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from core.sql import quoted
from inventory.models import (
    InventoryTransaction,
    Item,
    ItemType,
    PartInventory,
    TransactionType,
    Warehouse,
)
from kitcomponents.models import KitComponent
from kitting.models import PartKit, PartKitLine, PartKitStatus, Run, RunStatus

SEEDED_APPS = ("inventory", "kitcomponents", "kitting")
BATCH = 5000  # bulk_create batch size (SQLite)


class Progress:
    """A one-line progress bar on stderr: `inventories [#####-----]  52% 520000/1000000 14.2s`."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.tty = self.stream.isatty()

    def run(self, label: str, total: int, rows: Iterable[Any]) -> Iterator[Any]:
        step = max(1, total // 100)
        self._draw(label, 0, total)
        done = 0
        for done, row in enumerate(rows, 1):
            if done % step == 0 and self.tty:
                self._draw(label, done, total)
            yield row
        self._draw(label, done, total)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, label: str, done: int, total: int) -> None:
        if not self.tty and done != total:  # a log file gets one line per table, not 100
            return
        share = done / total if total else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{label:<16} [{bar}] {share:4.0%} {done}/{total} {elapsed:6.1f}s")
        self.stream.flush()


class Table:
    """Column order and defaults of one model, so rows are built as plain tuples."""

    def __init__(self, model: type[models.Model], now: datetime):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        base = []
        for f in self.fields:
            if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                base.append(now)
            elif f.has_default():
                base.append(f.get_default())
            else:
                base.append(None)
        self.base = base

    def row(self, **values: Any) -> list[Any]:
        row = list(self.base)
        index = self.index
        for name, value in values.items():
            row[index[name]] = value
        return row


class Command(BaseCommand):
    help = "Fill the database with a large, consistent data set for the benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=10_000, help="non-kit items")
        parser.add_argument("--inventories", type=int, default=100_000, help="part inventories")
        parser.add_argument("--kits", type=int, default=1_000, help="kit items with components")
        parser.add_argument(
            "--runs", type=int, help="runs, each with one part kit (default: --kits)"
        )
        parser.add_argument("--warehouses", type=int, default=20)
        parser.add_argument(
            "--seed", type=int, default=6, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--reset", action="store_true", help="replace existing items, inventory and kitting"
        )
        parser.add_argument("--no-verify", action="store_true", help="skip the ledger check")

    def handle(self, *args, **opts):
        items, inventories, kits = opts["items"], opts["inventories"], opts["kits"]
        runs = kits if opts["runs"] is None else opts["runs"]
        if min(items, inventories, kits, runs) < 0 or opts["warehouses"] < 1:
            raise CommandError("counts must be >= 0 and --warehouses >= 1")
        if inventories and items < 10:
            raise CommandError("--items must be at least 10 to hold part inventory")
        started = time.monotonic()
        with transaction.atomic():
            if not opts["reset"] and Item.objects.exists():
                raise CommandError("the database already holds items: pass --reset to replace")
            self._truncate()
            shape = Shape(
                items=items,
                inventories=inventories,
                kits=kits,
                runs=runs,
                warehouses=opts["warehouses"],
                seed=opts["seed"],
            )
            writer = CopyWriter() if connection.vendor == "postgresql" else BulkWriter()
            counts = shape.write(writer, Progress())
            self._reset_sequences()
        if connection.vendor == "postgresql":
            # Statistics for the planner, and the visibility map that index-only scans need
            # (COPY FREEZE cannot set it for a table with a BEFORE INSERT trigger).
            # VACUUM cannot run in a transaction (a caller's, such as a test's): ANALYZE then.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                for model in self._models():
                    cursor.execute(f"{command} {quoted(model._meta.db_table)}")
        if not opts["no_verify"]:
            broken = ledger_mismatches()
            if broken:
                raise CommandError(f"{broken} part inventories disagree with their ledger")
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        self.stdout.write(f"Seeded {summary} in {elapsed:.1f}s.")

    def _models(self) -> list[type[models.Model]]:
        # Unmanaged models are database views (the kit explosion, requirements): nothing to seed.
        return [
            m
            for label in SEEDED_APPS
            for m in apps.get_app_config(label).get_models()
            if m._meta.managed
        ]

    def _truncate(self) -> None:
        tables = [m._meta.db_table for m in self._models()]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = ", ".join(quoted(t) for t in tables)
                # Deferred foreign-key checks still pending in a caller's transaction would block
                # the TRUNCATE: run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # In this transaction: COPY FREEZE needs the tables truncated in it.
                cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            else:
                # Plain DELETEs, as a truncate would: no signals, no cascades (the ledger model
                # refuses deletes, rightly).
                for model in reversed(self._ordered_models()):
                    cursor.execute(f"DELETE FROM {quoted(model._meta.db_table)}")

    def _ordered_models(self):
        order = [Warehouse, Item, KitComponent, Run, PartKit, PartInventory, PartKitLine]
        rest = [m for m in self._models() if m not in order and m is not InventoryTransaction]
        return [*order, *rest, InventoryTransaction]

    def _reset_sequences(self) -> None:
        # The statements Django's `sqlsequencereset` prints, without the BEGIN; and COMMIT; lines
        # it wraps them in (output_transaction): they run in this transaction.
        out = io.StringIO()
        call_command("sqlsequencereset", *SEEDED_APPS, stdout=out, no_color=True, verbosity=0)
        statements = [line for line in out.getvalue().splitlines()[1:-1] if line.strip()]
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def ledger_mismatches() -> int:
    """How many part inventories differ from the sum of their ledger rows (0 when consistent)."""
    ledger = InventoryTransaction._meta.db_table
    inventory = PartInventory._meta.db_table
    sql = f"""
        SELECT COUNT(*) FROM {inventory} pi
        LEFT JOIN (
            SELECT part_inventory_id, SUM(quantity) AS q, SUM(kitted_quantity) AS k,
                   SUM(installed_quantity) AS i
            FROM {ledger} GROUP BY part_inventory_id
        ) l ON l.part_inventory_id = pi.key
        WHERE pi.quantity <> COALESCE(l.q, 0) OR pi.kitted_quantity <> COALESCE(l.k, 0)
           OR pi.installed_quantity <> COALESCE(l.i, 0)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


class CopyWriter:
    """PostgreSQL: COPY ... FROM STDIN (FREEZE) through psycopg 3."""

    def write(self, table: Table, rows: Iterable[Sequence[Any]]) -> None:
        columns = ", ".join(quoted(c) for c in table.columns)
        sql = f"COPY {quoted(table.model._meta.db_table)} ({columns}) FROM STDIN WITH (FREEZE)"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


class BulkWriter:
    """Elsewhere (SQLite): bulk_create in batches."""

    def write(self, table: Table, rows: Iterable[Sequence[Any]]) -> None:
        model, attnames = table.model, [f.attname for f in table.fields]
        batch: list[models.Model] = []
        for row in rows:
            batch.append(model(**dict(zip(attnames, row, strict=True))))
            if len(batch) >= BATCH:
                model._base_manager.bulk_create(batch)
                batch = []
        if batch:
            model._base_manager.bulk_create(batch)


class Shape:
    """The generated data set. Keys are assigned here, so rows can reference each other."""

    def __init__(self, *, items, inventories, kits, runs, warehouses, seed):
        self.n_items, self.n_inventories, self.n_kits = items, inventories, kits
        self.n_runs, self.n_warehouses = runs, warehouses
        self.random = random.Random(seed)
        self.now = datetime.now(UTC)

    def write(self, writer, progress: Progress) -> dict[str, int]:
        rnd, now = self.random, self.now
        counts: dict[str, int] = {}

        def emit(label, model, total, rows):
            writer.write(Table(model, now), progress.run(label, total, rows))
            counts[label] = total

        # Warehouses.
        table = Table(Warehouse, now)
        emit(
            "warehouses",
            Warehouse,
            self.n_warehouses,
            (
                table.row(key=k, code=f"WH-{k:04d}", name=f"Warehouse {k}")
                for k in range(1, self.n_warehouses + 1)
            ),
        )

        # Items: 80% inventory (a quarter serial, a quarter lot, half untracked), 20% the
        # non-inventory types; then the kits (three in four `kit`, one in four `stockableKit`).
        kinds = []  # per item key - 1: (item_type, tracking)
        for _ in range(self.n_items):
            draw = rnd.random()
            if draw < 0.2:
                kinds.append(("inventory", "serial"))
            elif draw < 0.4:
                kinds.append(("inventory", "lot"))
            elif draw < 0.8:
                kinds.append(("inventory", "untracked"))
            else:
                kinds.append(
                    (
                        rnd.choice(
                            [
                                ItemType.NON_INVENTORY,
                                ItemType.PURCHASE_ONLY_NON_INVENTORY,
                                ItemType.SALES_ONLY_NON_INVENTORY,
                            ]
                        ),
                        "untracked",
                    )
                )
        for _ in range(self.n_kits):
            kit_type = ItemType.KIT if rnd.random() < 0.75 else ItemType.STOCKABLE_KIT
            kinds.append((kit_type, "untracked"))
        costs = [Decimal(rnd.randrange(1, 100_000)) / 100 for _ in kinds]
        table = Table(Item, now)

        def item_rows():
            for i, (item_type, tracking) in enumerate(kinds):
                key = i + 1
                is_kit = item_type in (ItemType.KIT, ItemType.STOCKABLE_KIT)
                code = f"KIT-{key - self.n_items:06d}" if is_kit else f"PART-{key:06d}"
                yield table.row(
                    key=key,
                    code=code,
                    name=f"{'Kit' if is_kit else 'Part'} {key}",
                    item_type=str(item_type),
                    standard_cost=costs[i],
                    enable_serial_no=tracking == "serial",
                    enable_lot_category=tracking == "lot",
                    kit_revenue_posting="componentLevel" if is_kit else "",
                )

        emit("items", Item, len(kinds), item_rows())

        # Kit components: 2-8 lines of non-kit items, plus one nested kit of a lower key now and
        # then, a stockable kit (a part of its own) or a `kit` (exploded into its components by
        # the requirements and buildable quantities); edges only go downwards, so no cycles.
        simple = list(range(1, self.n_items + 1))
        stockable_kits = [
            self.n_items + j + 1
            for j in range(self.n_kits)
            if kinds[self.n_items + j][0] == ItemType.STOCKABLE_KIT
        ]
        lines = []
        kit_lines: dict[int, list[tuple[int, int]]] = {}  # kit key -> (component, units)
        for j in range(self.n_kits):
            kit_key = self.n_items + j + 1
            components = rnd.sample(simple, min(len(simple), rnd.randint(2, 8)))
            nested = [k for k in stockable_kits if k < kit_key]
            if kinds[kit_key - 1][0] == ItemType.KIT:  # only a `kit` may hold a `kit`
                nested = [self.n_items + i + 1 for i in range(j)]
            if nested and rnd.random() < 0.15:
                components.append(rnd.choice(nested))
            for number, component in enumerate(components, 1):
                units = rnd.randint(1, 4)
                lines.append((kit_key, component, units, number))
                kit_lines.setdefault(kit_key, []).append((component, units))
        table = Table(KitComponent, now)
        emit(
            "kit components",
            KitComponent,
            len(lines),
            (
                table.row(
                    key=n,
                    kit_id=kit,
                    component_id=component,
                    number_of_units=units,
                    line_number=number,
                )
                for n, (kit, component, units, number) in enumerate(lines, 1)
            ),
        )

        # Part inventory, decided before runs so kits can issue from it.
        stocked = [
            i + 1
            for i, (item_type, _) in enumerate(kinds)
            if item_type in (ItemType.INVENTORY, ItemType.STOCKABLE_KIT)
        ]
        m = self.n_inventories
        parts = [stocked[rnd.randrange(len(stocked))] for _ in range(m)] if m else []
        initial = []
        for part in parts:
            tracking = kinds[part - 1][1]
            if tracking == "serial":
                initial.append(1)
            elif tracking == "lot":
                initial.append(rnd.randint(1, 500))
            else:
                initial.append(rnd.randint(0, 1000))
        issued: dict[int, tuple[int, int, int]] = {}  # inventory key -> (kit, run, quantity)
        holding: dict[int, list[int]] = {}  # part key -> its inventory keys
        for k, part in enumerate(parts, 1):
            holding.setdefault(part, []).append(k)

        # Runs, one part kit each. A kit holds some of what its run needs: for about half of the
        # run's direct stocked components, one inventory of the part issued, up to what the run
        # needs of it; so requirements are met, partly short or not issued at all.
        run_statuses = [RunStatus.TODO, RunStatus.IN_PROGRESS, RunStatus.IN_PROGRESS]
        kit_statuses = [
            PartKitStatus.DRAFT,
            PartKitStatus.REQUESTED,
            PartKitStatus.IN_PROGRESS,
            PartKitStatus.DELIVERED,
        ]
        kit_keys = [self.n_items + j + 1 for j in range(self.n_kits)]
        runs = []
        for r in range(1, self.n_runs + 1):
            part = rnd.choice(kit_keys) if kit_keys else None
            quantity = rnd.randint(1, 5)
            runs.append((r, part, quantity, rnd.choice(run_statuses)))
            for component, units in kit_lines.get(part, []) if m else []:
                if component not in holding or rnd.random() < 0.5:
                    continue
                inv = rnd.choice(holding[component])
                if inv in issued or initial[inv - 1] == 0:
                    continue
                needed = units * quantity
                taken = 1 if kinds[component - 1][1] == "serial" else None
                taken = taken or rnd.randint(1, min(needed, initial[inv - 1]))
                issued[inv] = (r, r, taken)
        table = Table(Run, now)
        emit(
            "runs",
            Run,
            len(runs),
            (
                table.row(
                    key=r,
                    code=f"RUN-{r:06d}",
                    title=f"Build {r}",
                    part_id=part,
                    quantity=q,
                    status=str(status),
                )
                for r, part, q, status in runs
            ),
        )
        table = Table(PartKit, now)
        emit(
            "part kits",
            PartKit,
            len(runs),
            (table.row(key=r, run_id=r, status=str(rnd.choice(kit_statuses))) for r, *_ in runs),
        )

        warehouses = self.n_warehouses
        table = Table(PartInventory, now)

        def inventory_rows():
            for k in range(1, m + 1):
                part = parts[k - 1]
                tracking = kinds[part - 1][1]
                out = issued.get(k)
                kitted = out[2] if out else 0
                yield table.row(
                    key=k,
                    part_id=part,
                    serial_number=f"SN-{k:08d}" if tracking == "serial" else None,
                    lot_number=f"LOT-{k // 50:06d}" if tracking == "lot" else None,
                    location_id=(k % warehouses) + 1 if k % 20 else None,
                    quantity=initial[k - 1] - kitted,
                    kitted_quantity=kitted,
                    cost=costs[part - 1] if k % 3 else None,
                )

        emit("inventories", PartInventory, m, inventory_rows())

        table = Table(PartKitLine, now)
        issued_items = sorted(issued.items())
        emit(
            "part kit lines",
            PartKitLine,
            len(issued_items),
            (
                table.row(id=n, part_kit_id=kit, part_inventory_id=inv, issued_quantity=q)
                for n, (inv, (kit, _run, q)) in enumerate(issued_items, 1)
            ),
        )

        # The ledger: a `create` row per inventory, then an `issue` row per kit line.
        table = Table(InventoryTransaction, now)
        create, issue = str(TransactionType.CREATE), str(TransactionType.ISSUE)

        def ledger_rows():
            for k in range(1, m + 1):
                q = initial[k - 1]
                yield table.row(
                    key=k,
                    part_inventory_id=k,
                    part_id=parts[k - 1],
                    type=create,
                    quantity=q,
                    quantity_after=q,
                )
            for n, (inv, (kit, run, q)) in enumerate(issued_items, m + 1):
                yield table.row(
                    key=n,
                    part_inventory_id=inv,
                    part_id=parts[inv - 1],
                    type=issue,
                    quantity=-q,
                    kitted_quantity=q,
                    quantity_after=initial[inv - 1] - q,
                    part_kit_id=kit,
                    run_id=run,
                )

        emit("ledger rows", InventoryTransaction, m + len(issued_items), ledger_rows())
        return counts
