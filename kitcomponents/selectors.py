"""Reads for kit components."""

from typing import Any

from django.db.models import DecimalField, F, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Floor

from inventory import selectors as inventory_selectors
from inventory.models import Item
from kitcomponents.models import KitComponent, KitExplosion


def kit_component_list() -> QuerySet[KitComponent]:
    return KitComponent.objects.all()


def item_buildable_quantity() -> Subquery:
    """How many whole kits the available stock of an item's exploded components covers (contract
    15.1): the least of floor(available / units) over its stocked parts; null for an item that has
    none (not a kit, or a kit of non-inventory components only). In SQL, one subquery."""
    per_part = (
        KitExplosion.objects.filter(kit=OuterRef("pk"))
        .annotate(covered=Floor(inventory_selectors.item_available_quantity("part") / F("units")))
        .values("kit")
        .annotate(least=Min("covered"))
        .values("least")
    )
    return Subquery(per_part, output_field=DecimalField(max_digits=30, decimal_places=0))


def item_availability() -> dict[str, Any]:
    """An item's stock figures (contract 15.1) by model attribute, as SQL expressions."""
    return {
        "on_hand_quantity": inventory_selectors.item_on_hand_quantity(),
        "available_quantity": inventory_selectors.item_available_quantity(),
        "kitted_quantity": inventory_selectors.item_kitted_quantity(),
        "buildable_quantity": item_buildable_quantity(),
    }


def item_list() -> QuerySet[Item]:
    """Items with their stock figures (what the item's serializer renders)."""
    return inventory_selectors.item_list().annotate(**item_availability())
