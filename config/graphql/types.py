"""ION's object types over Kitsmith's models (contract 14): `Part` (item), `Location` (warehouse),
`PartInventory`, `Run`, `PartKit` and `Requirement` (contract 15.2).

`id` is the REST key and every `…Id` a key, as strings; `_etag` the REST ETag's version without
quotes. Each field that reads objects of another model asks that model's view permission, as its
REST GET does. Relations are loaded the strawberry-django way: its optimizer (schema.py) reads the
selection and joins or prefetches what the fields below declare, so a page costs the same number
of statements whatever it holds (tests/test_graphql_counts.py).
"""

from __future__ import annotations

import copy
import enum
from decimal import Decimal
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Model, Prefetch, QuerySet
from strawberry_django.optimizer import OptimizerConfig, optimize

from config.graphql.permissions import can_view
from core.numbers import as_number, decimal_string, parse_decimal
from inventory import models as inventory
from inventory.selectors import item_on_hand_quantity, part_inventory_expressions
from kitcomponents.selectors import item_figure
from kitting import models as kitting
from kitting.selectors import part_inventory_runs, part_kit_requirements, requirement_list

# The optimizer's settings, for the querysets the resolvers build themselves (schema.py gives the
# extension the same): no `only()`, as the resolvers read whole rows.
OPTIMIZER = OptimizerConfig(enable_only=False)
_INVENTORY_STATUS = part_inventory_expressions()["status"]


def loaded(queryset: QuerySet, info: Any) -> QuerySet:
    """`queryset` with the joins and prefetches the selection under `info` needs."""
    return optimize(queryset, info, config=OPTIMIZER)


def _enum(name: str, choices: type[enum.Enum], description: str, *, leave_out=()) -> Any:
    """A GraphQL enum of a model's choices: ION's upper-case names for the stored values."""
    members = {member.name: member.value for member in choices if member not in leave_out}
    return strawberry.enum(enum.Enum(name, members, type=str), description=description)


TrackingType = _enum(
    "TrackingType",
    inventory.TrackingType,
    "How inventory is told apart; untracked is null.",
    leave_out=(inventory.TrackingType.UNTRACKED,),
)
PartInventoryStatus = _enum(
    "PartInventoryStatus",
    inventory.InventoryStatus,
    "The first that applies of installed, kitted, unavailable, available.",
)
RunStatus = _enum("RunStatus", kitting.RunStatus, "A run's status.")
PartKitStatus = _enum("PartKitStatus", kitting.PartKitStatus, "A part kit's status.")


def tracking_type(value: str) -> Any:
    return None if value == inventory.TrackingType.UNTRACKED else TrackingType(value)


def _decimal(value: Any) -> Decimal:
    parsed = parse_decimal(value) if isinstance(value, str | int) else None
    if parsed is None or not parsed.is_finite():
        raise ValueError(f"{value!r} is not a decimal string")
    return parsed


# Python's Decimal in the schema (its `scalar_map`): a string, written as the REST API writes money.
DECIMAL = strawberry.scalar(
    name="Decimal",
    description='An exact decimal as a string ("125.67"), as the REST API writes money.',
    serialize=decimal_string,
    parse_value=_decimal,
)


def number(value: Any) -> float | None:
    """A stored quantity as GraphQL's Float."""
    found = as_number(value)
    return None if found is None else float(found)


def key(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


# Where a kit's partInventories put each inventory's issued quantity (a copy per kit line).
_ISSUED = "graphql_issued_quantity"


def _nested(model: type[Model], info: Any) -> QuerySet:
    return loaded(model._default_manager.all(), info)


def _stock(figure: str) -> Any:
    """An item's stock figure (contract 15.1) as the REST item reads it (kitcomponents.selectors),
    for a field's `annotate=`: each is computed in the part's own statement when selected, and
    only that figure's expression is built (all four built for each of the four fields: 4.5 ms;
    one each: 1.2 ms)."""
    return {f"graphql_{figure}": lambda info: item_figure(figure)}


def _requirements(info: Any) -> QuerySet:
    """Requirement rows (kitting.selectors, with their computed quantities) for the selection."""
    return loaded(requirement_list(), info)


@strawberry_django.type(inventory.Item, name="Part", description="ION's part: an item.")
class Part:
    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Any, **kwargs: Any) -> QuerySet:
        # Declared so that the optimizer prefetches a part reached through a foreign key
        # instead of joining it: `quantity` is an annotation, which only a part's own
        # queryset can carry.
        return queryset

    @strawberry_django.field
    def id(self, root: inventory.Item) -> strawberry.ID:
        return key(root.pk)

    @strawberry_django.field(name="_etag", description="The REST ETag's version, no quotes.")
    def etag(self, root: inventory.Item) -> str:
        return str(root.version)

    @strawberry_django.field(description="The item's id.")
    def part_number(self, root: inventory.Item) -> str:
        return root.code

    @strawberry_django.field(description="The item's name.")
    def description(self, root: inventory.Item) -> str:
        return root.name

    @strawberry_django.field
    def tracking_type(self, root: inventory.Item) -> TrackingType | None:
        return tracking_type(root.tracking_type)

    @strawberry_django.field
    def unit_of_measure(self, root: inventory.Item) -> str:
        return root.unit_of_measure

    @strawberry_django.field(
        description="On hand, summed over the part's inventory.",
        annotate={"graphql_on_hand": lambda info: item_on_hand_quantity()},
    )
    def quantity(self, root: inventory.Item) -> float:
        return number(root.graphql_on_hand)

    @strawberry_django.field(
        description="On hand, summed over the part's inventory: the same as quantity.",
        annotate=_stock("on_hand_quantity"),
    )
    def on_hand_quantity(self, root: inventory.Item) -> float:
        return number(root.graphql_on_hand_quantity)

    @strawberry_django.field(
        description="The part of it in no location or an inventoryAvailable one.",
        annotate=_stock("available_quantity"),
    )
    def available_quantity(self, root: inventory.Item) -> float:
        return number(root.graphql_available_quantity)

    @strawberry_django.field(
        description="Issued to kits that are not completed or canceled.",
        annotate=_stock("kitted_quantity"),
    )
    def kitted_quantity(self, root: inventory.Item) -> float:
        return number(root.graphql_kitted_quantity)

    @strawberry_django.field(
        description="Whole kits the available stock of its components covers, nested kits "
        "exploded; null without a stocked component.",
        annotate=_stock("buildable_quantity"),
    )
    def buildable_quantity(self, root: inventory.Item) -> float | None:
        return number(root.graphql_buildable_quantity)

    parts_inventory: list[PartInventoryNode] = strawberry_django.field(
        field_name="part_inventories",
        description="The part's inventory, by key.",
        extensions=can_view(inventory.PartInventory),
    )


@strawberry_django.type(inventory.Warehouse, name="Location", description="A warehouse.")
class Location:
    @strawberry_django.field
    def id(self, root: inventory.Warehouse) -> strawberry.ID:
        return key(root.pk)

    @strawberry_django.field(name="_etag", description="The REST ETag's version, no quotes.")
    def etag(self, root: inventory.Warehouse) -> str:
        return str(root.version)

    @strawberry_django.field
    def name(self, root: inventory.Warehouse) -> str:
        return root.name

    @strawberry_django.field(description="Whether stock stored here is available.")
    def inventory_available(self, root: inventory.Warehouse) -> bool:
        return root.inventory_available


@strawberry_django.type(inventory.PartInventory, name="PartInventory")
class PartInventoryNode:
    """ION's part inventory: stock of one part."""

    @strawberry_django.field
    def id(self, root: inventory.PartInventory) -> strawberry.ID:
        return key(root.pk)

    @strawberry_django.field(name="_etag", description="The REST ETag's version, no quotes.")
    def etag(self, root: inventory.PartInventory) -> str:
        return str(root.version)

    @strawberry_django.field
    def part_id(self, root: inventory.PartInventory) -> strawberry.ID:
        return key(root.part_id)

    part: Part = strawberry_django.field(extensions=can_view(inventory.Item))

    @strawberry_django.field
    def serial_number(self, root: inventory.PartInventory) -> str | None:
        return root.serial_number

    @strawberry_django.field
    def lot_number(self, root: inventory.PartInventory) -> str | None:
        return root.lot_number

    @strawberry_django.field(description="On hand.")
    def quantity(self, root: inventory.PartInventory) -> float:
        return number(root.quantity)

    @strawberry_django.field(description="Issued to kits that are not completed or canceled.")
    def kitted_quantity(self, root: inventory.PartInventory) -> float:
        return number(root.kitted_quantity)

    @strawberry_django.field(description="Installed into built assemblies.")
    def installed_quantity(self, root: inventory.PartInventory) -> float:
        return number(root.installed_quantity)

    @strawberry_django.field
    def cost(self, root: inventory.PartInventory) -> Decimal | None:
        return root.cost

    @strawberry_django.field
    def usage_type(self, root: inventory.PartInventory) -> str | None:
        return root.usage_type

    @strawberry_django.field
    def supplier_id(self, root: inventory.PartInventory) -> str | None:
        return root.supplier_id

    @strawberry_django.field
    def location_id(self, root: inventory.PartInventory) -> strawberry.ID | None:
        return key(root.location_id)

    location: Location | None = strawberry_django.field(extensions=can_view(inventory.Warehouse))

    @strawberry_django.field(description="The part's.", prefetch_related=["part"])
    def unit_of_measure(self, root: inventory.PartInventory) -> str:
        return root.part.unit_of_measure

    @strawberry_django.field
    def tracking_type(self, root: inventory.PartInventory) -> TrackingType | None:
        return tracking_type(root.tracking_type)

    # The SQL its filter and sort read, so that what is shown is what was filtered on.
    @strawberry_django.field(annotate={"graphql_status": lambda info: _INVENTORY_STATUS})
    def status(self, root: inventory.PartInventory) -> PartInventoryStatus:
        return PartInventoryStatus(root.graphql_status)

    @strawberry_django.field(description="All of it is kitted to runs.")
    def kitted(self, root: inventory.PartInventory) -> bool:
        return root.kitted

    @strawberry_django.field(description="All of it is installed into assemblies.")
    def installed(self, root: inventory.PartInventory) -> bool:
        return root.installed

    @strawberry_django.field(
        description="Runs whose kits hold or consumed this inventory, by key.",
        extensions=can_view(kitting.Run),
        prefetch_related=[
            lambda info: Prefetch(
                "kit_lines",
                kitting.PartKitLine.objects.select_related("part_kit").prefetch_related(
                    Prefetch("part_kit__run", _nested(kitting.Run, info))
                ),
                to_attr="graphql_run_lines",
            ),
            lambda info: Prefetch(
                "installations",
                kitting.Installation.objects.prefetch_related(
                    Prefetch("run", _nested(kitting.Run, info))
                ),
                to_attr="graphql_installations",
            ),
        ],
    )
    def runs(self, root: inventory.PartInventory) -> list[RunNode]:
        return part_inventory_runs(root.graphql_run_lines, root.graphql_installations)

    @strawberry_django.field(
        description="The part kits this inventory is issued to, by key.",
        extensions=can_view(kitting.PartKit),
        prefetch_related=[
            lambda info: Prefetch(
                "kit_lines",
                kitting.PartKitLine.objects.order_by("part_kit_id").prefetch_related(
                    Prefetch("part_kit", _nested(kitting.PartKit, info))
                ),
                to_attr="graphql_kit_lines",
            )
        ],
    )
    def part_kits(self, root: inventory.PartInventory) -> list[PartKitNode]:
        return [line.part_kit for line in root.graphql_kit_lines]

    @strawberry_django.field(description="The user who created it.")
    def created_by_id(self, root: inventory.PartInventory) -> strawberry.ID | None:
        return key(root.created_by_id)

    @strawberry_django.field(description="The inventory this one was split off.")
    def origin_part_inventory_id(self, root: inventory.PartInventory) -> strawberry.ID | None:
        return key(root.origin_part_inventory_id)

    @strawberry_django.field(
        description="In a part kit's partInventories: what the kit holds of it; else null."
    )
    def issued_quantity(self, root: inventory.PartInventory) -> float | None:
        return number(getattr(root, _ISSUED, None))


@strawberry_django.type(kitting.Run, name="Run", description="ION's run.")
class RunNode:
    @strawberry_django.field
    def id(self, root: kitting.Run) -> strawberry.ID:
        return key(root.pk)

    @strawberry_django.field(name="_etag", description="The REST ETag's version, no quotes.")
    def etag(self, root: kitting.Run) -> str:
        return str(root.version)

    @strawberry_django.field
    def title(self, root: kitting.Run) -> str:
        return root.title

    @strawberry_django.field
    def status(self, root: kitting.Run) -> RunStatus:
        return RunStatus(root.status)

    @strawberry_django.field(description="The part the run builds.")
    def part_id(self, root: kitting.Run) -> strawberry.ID | None:
        return key(root.part_id)

    part: Part | None = strawberry_django.field(extensions=can_view(inventory.Item))

    @strawberry_django.field
    def quantity(self, root: kitting.Run) -> float:
        return number(root.quantity)

    part_kits: list[PartKitNode] = strawberry_django.field(
        description="The run's part kits, by key.", extensions=can_view(kitting.PartKit)
    )

    @strawberry_django.field(
        description="What the run needs, one row per stocked part, by part; none once it is "
        "complete or canceled.",
        extensions=can_view(kitting.Requirement),
        prefetch_related=[
            lambda info: Prefetch(
                "requirements", _requirements(info), to_attr="graphql_requirements"
            )
        ],
    )
    def requirements(self, root: kitting.Run) -> list[RequirementNode]:
        return root.graphql_requirements


@strawberry_django.type(kitting.PartKit, name="PartKit", description="ION's part kit.")
class PartKitNode:
    @strawberry_django.field
    def id(self, root: kitting.PartKit) -> strawberry.ID:
        return key(root.pk)

    @strawberry_django.field(name="_etag", description="The REST ETag's version, no quotes.")
    def etag(self, root: kitting.PartKit) -> str:
        return str(root.version)

    @strawberry_django.field
    def run_id(self, root: kitting.PartKit) -> strawberry.ID:
        return key(root.run_id)

    run: RunNode = strawberry_django.field(extensions=can_view(kitting.Run))

    @strawberry_django.field
    def status(self, root: kitting.PartKit) -> PartKitStatus:
        return PartKitStatus(root.status)

    @strawberry_django.field(
        description="The inventory issued to the kit, each with its issuedQuantity, by line.",
        extensions=can_view(inventory.PartInventory),
        prefetch_related=[
            lambda info: Prefetch(
                "lines",
                kitting.PartKitLine.objects.order_by("pk").prefetch_related(
                    Prefetch("part_inventory", _nested(inventory.PartInventory, info))
                ),
                to_attr="graphql_lines",
            )
        ],
    )
    def part_inventories(self, root: kitting.PartKit) -> list[PartInventoryNode]:
        held = []
        for line in root.graphql_lines:
            # A copy per line: two kits holding one inventory share its prefetched row.
            inventory_row = copy.copy(line.part_inventory)
            setattr(inventory_row, _ISSUED, line.issued_quantity)
            held.append(inventory_row)
        return held

    @strawberry_django.field(
        description="Its run's requirements (7.2, 15.7): issuedQuantity counts every open kit of "
        "the run.",
        extensions=can_view(kitting.Requirement),
        # Where kitting.selectors.part_kit_requirements reads them: the run's requirement rows.
        prefetch_related=[lambda info: Prefetch("run__requirements", _requirements(info))],
    )
    def requirements(self, root: kitting.PartKit) -> list[RequirementNode]:
        return part_kit_requirements(root)


@strawberry_django.type(
    kitting.Requirement,
    name="Requirement",
    description="What an open run needs of one stocked part, as REST's "
    "inventory-control/requirement.",
)
class RequirementNode:
    @strawberry_django.field(description="The REST key: <run key>-<part key>.")
    def id(self, root: kitting.Requirement) -> strawberry.ID:
        return strawberry.ID(root.pk)

    @strawberry_django.field
    def run_id(self, root: kitting.Requirement) -> strawberry.ID:
        return key(root.run_id)

    run: RunNode = strawberry_django.field(extensions=can_view(kitting.Run))

    @strawberry_django.field
    def part_id(self, root: kitting.Requirement) -> strawberry.ID:
        return key(root.part_id)

    part: Part = strawberry_django.field(extensions=can_view(inventory.Item))

    @strawberry_django.field(
        description="Component units x the run's quantity, multiplied down nested kits."
    )
    def required_quantity(self, root: kitting.Requirement) -> float:
        return number(root.required_quantity)

    @strawberry_django.field(description="Issued to the run's open kits.")
    def issued_quantity(self, root: kitting.Requirement) -> float:
        return number(root.issued_quantity)

    @strawberry_django.field(description="max(0, required - issued).")
    def short_quantity(self, root: kitting.Requirement) -> float:
        return number(root.short_quantity)

    @strawberry_django.field(description="The part's available stock, not net of other runs.")
    def available_quantity(self, root: kitting.Requirement) -> float:
        return number(root.available_quantity)

    @strawberry_django.field(description="max(0, short - available).")
    def uncovered_quantity(self, root: kitting.Requirement) -> float:
        return number(root.uncovered_quantity)
