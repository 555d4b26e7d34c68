"""Reads for runs and part kits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from inventory.models import KIT_TYPES, Item
from kitting.models import PartKit, Run


def run_list() -> QuerySet[Run]:
    return Run.objects.all()


def part_kit_list() -> QuerySet[PartKit]:
    return PartKit.objects.all()


@dataclass(frozen=True)
class Requirement:
    part: Item
    required_quantity: Decimal
    issued_quantity: Decimal

    @property
    def short_quantity(self) -> Decimal:
        return max(Decimal(0), self.required_quantity - self.issued_quantity)


# What a kit's `requirements` reads beyond its lines (with their part inventory), which the kit's
# `partInventories` prefetches; a queryset of kits prefetches this to stay flat.
REQUIREMENTS_PREFETCH = ("run__part__kit_components__component",)


def part_kit_requirements(kit: PartKit) -> list[Requirement]:
    """One entry per kit component of the run's part, when that part is a kit or stockable kit
    (contract 7.2): units x run quantity required, against what this kit holds of the part."""
    part = kit.run.part
    if part is None or part.item_type not in KIT_TYPES:
        return []
    issued: dict[int, Decimal] = defaultdict(Decimal)
    for line in kit.lines.all():
        issued[line.part_inventory.part_id] += line.issued_quantity
    return [
        Requirement(
            part=component.component,
            required_quantity=component.number_of_units * kit.run.quantity,
            issued_quantity=issued[component.component_id],
        )
        for component in part.kit_components.all()
    ]
