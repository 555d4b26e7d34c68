"""Reads for kit components."""

import functools
from typing import Any

from django.db.models import DecimalField, F, Func, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Floor

from core.sql import quoted
from inventory import selectors as inventory_selectors
from inventory.models import KIT_TYPES, STOCKED_TYPES, Item, ItemType
from kitcomponents.models import KitComponent

_BUILDABLE = DecimalField(max_digits=30, decimal_places=0)
_UNITS = DecimalField(max_digits=30, decimal_places=6)


def kit_component_list() -> QuerySet[KitComponent]:
    return KitComponent.objects.all()


@functools.cache
def _explosion_sql() -> str:
    """One kit's explosion (contract 15.1, 15.2) as SQL: its stocked parts (`kit_part.part_id`)
    and the units of each one unit of the kit takes (`kit_part.units`), nested `kit` components
    walked down at any depth (units multiplied down), a `stockableKit` counted as itself and
    non-inventory components left out. The recursion starts at the kit `{kit}` names, so it reads
    that kit's lines only, whatever else the database holds. Kit components cannot form a cycle
    (kitcomponents.services), so it ends."""
    q = quoted
    item, line = Item._meta, KitComponent._meta
    items, lines = q(item.db_table), q(line.db_table)
    key, item_type = q(item.pk.column), q(item.get_field("item_type").column)
    kit, component = q(line.get_field("kit").column), q(line.get_field("component").column)
    units = q(line.get_field("number_of_units").column)
    stocked = ", ".join(f"'{t.value}'" for t in STOCKED_TYPES)
    # Each row carries its item's type, read by key as it is reached: the walk goes on below
    # `kit` rows only and the stocked rows are kept, with no scan of the item table.
    step = f"""SELECT c.{component}, p.{item_type}, {{units}}
            FROM {lines} c JOIN {items} p ON p.{key} = c.{component}"""
    return f"""
        WITH RECURSIVE kit_tree (part_id, item_type, units) AS (
            {step.format(units=f"CAST(c.{units} AS NUMERIC)")}
            WHERE c.{kit} = {{kit}}
            UNION ALL
            {step.format(units=f"kit_tree.units * c.{units}")}
            JOIN kit_tree ON c.{kit} = kit_tree.part_id
            WHERE kit_tree.item_type = '{ItemType.KIT.value}'
        )
        SELECT {{aggregate}} FROM (
            SELECT kit_tree.part_id, SUM(kit_tree.units) AS units FROM kit_tree
            WHERE kit_tree.item_type IN ({stocked})
            GROUP BY kit_tree.part_id
        ) kit_part"""


class _BuildableQuantity(Func):
    """`item_buildable_quantity()`: a scalar subquery that explodes the outer row's item only, and
    only when its type can have components (others read null without any recursion)."""

    output_field = _BUILDABLE

    def __init__(self):
        part, units = RawSQL("kit_part.part_id", ()), RawSQL("kit_part.units", (), _UNITS)
        covered = Floor(inventory_selectors.item_available_quantity(part) / units)
        super().__init__(F("item_type"), F("pk"), covered, output_field=_BUILDABLE)

    def as_sql(self, compiler, connection, **extra_context):
        # Compiled in the order they appear in the text, so their parameters line up.
        (item_type, type_params), (key, key_params), (covered, covered_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        kits = ", ".join(f"'{t.value}'" for t in KIT_TYPES)
        explosion = _explosion_sql().format(kit=key, aggregate=f"MIN({covered})")
        sql = f"CASE WHEN {item_type} IN ({kits}) THEN ({explosion}) END"
        return sql, (*type_params, *key_params, *covered_params)


def item_buildable_quantity() -> Func:
    """How many whole kits the available stock of an item's exploded components covers (contract
    15.1): the least of floor(available / units) over its stocked parts; null for an item that has
    none (not a kit, or a kit of non-inventory components only). In SQL, one subquery."""
    return _BuildableQuantity()


# An item's stock figures (contract 15.1) by model attribute: what builds each SQL expression.
_FIGURES = {
    "on_hand_quantity": inventory_selectors.item_on_hand_quantity,
    "available_quantity": inventory_selectors.item_available_quantity,
    "kitted_quantity": inventory_selectors.item_kitted_quantity,
    "buildable_quantity": item_buildable_quantity,
}


def item_availability() -> dict[str, Any]:
    """An item's stock figures (contract 15.1) by model attribute, as SQL expressions."""
    return {name: build() for name, build in _FIGURES.items()}


def item_figure(name: str) -> Any:
    """One of `item_availability()`'s expressions, built alone (a read selecting one figure
    need not build the other three)."""
    return _FIGURES[name]()


def item_list() -> QuerySet[Item]:
    """Items with their stock figures (what the item's serializer renders)."""
    return inventory_selectors.item_list().annotate(**item_availability())
