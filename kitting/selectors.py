"""Reads for runs, part kits and requirements."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, Prefetch, QuerySet, Value
from django.db.models.functions import Greatest

from inventory import selectors as inventory_selectors
from kitting.models import Installation, PartKit, PartKitLine, Requirement, Run

_QUANTITY = DecimalField(max_digits=40, decimal_places=6)
_ZERO = Value(Decimal(0), output_field=_QUANTITY)


def run_list() -> QuerySet[Run]:
    return Run.objects.all()


def part_kit_list() -> QuerySet[PartKit]:
    return PartKit.objects.all()


def requirement_expressions() -> dict[str, Any]:
    """A requirement's computed quantities (contract 15.2) by attribute, as SQL expressions:
    short = max(0, required - issued); available = the part's available stock (not net of other
    runs); uncovered = max(0, short - available)."""
    short = Greatest(F("required_quantity") - F("issued_quantity"), _ZERO, output_field=_QUANTITY)
    available = inventory_selectors.item_available_quantity("part")
    return {
        "short_quantity": short,
        "available_quantity": available,
        "uncovered_quantity": Greatest(short - available, _ZERO, output_field=_QUANTITY),
    }


def part_inventory_runs(
    kit_lines: Iterable[PartKitLine], installations: Iterable[Installation]
) -> list[Run]:
    """The runs whose kits hold (kit lines) or consumed (installations) a part inventory, once
    each, by key: from its kit lines (their kits' runs loaded) and installations (runs loaded)."""
    found = {line.part_kit.run_id: line.part_kit.run for line in kit_lines}
    found.update({row.run_id: row.run for row in installations})
    return [found[key] for key in sorted(found)]


def requirement_list() -> QuerySet[Requirement]:
    """Every open run's requirements, computed by the database in one statement, by run then part
    (the model's ordering)."""
    return Requirement.objects.annotate(**requirement_expressions())


# What a kit's `requirements` reads: its run's requirement rows, prefetched so that a queryset of
# kits stays flat.
REQUIREMENTS_PREFETCH = (
    Prefetch("run__requirements", queryset=requirement_list().select_related("part")),
)


def part_kit_requirements(kit: PartKit) -> list[Requirement]:
    """A kit's requirements (contract 7.2, 15.7): its run's requirement rows, whose issued quantity
    counts every open kit of the run. A closed run has none."""
    return list(kit.run.requirements.all())
