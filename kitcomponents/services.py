"""Writes for kit components: every numbered rule of contract section 4 lives here."""

from collections.abc import Collection
from decimal import Decimal
from typing import TypedDict, Unpack

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from core.errors import DomainError, DomainErrors, refuse
from core.services import (
    actor,
    apply_changes,
    check_version,
    delete_unreferenced,
    lock,
    save_changes,
)
from inventory.models import Item, ItemType
from kitcomponents.models import MAX_LINE_NUMBER, DeferralStatus, DeliveryStatus, KitComponent

NON_INVENTORY_TYPES = {
    ItemType.NON_INVENTORY,
    ItemType.PURCHASE_ONLY_NON_INVENTORY,
    ItemType.SALES_ONLY_NON_INVENTORY,
}
# Rule 3: what each kind of kit may contain.
ALLOWED_COMPONENT_TYPES = {
    ItemType.KIT: {ItemType.INVENTORY, *NON_INVENTORY_TYPES, ItemType.KIT, ItemType.STOCKABLE_KIT},
    ItemType.STOCKABLE_KIT: {ItemType.INVENTORY, *NON_INVENTORY_TYPES, ItemType.STOCKABLE_KIT},
}
# Any constant shared by every process; names the PostgreSQL advisory lock below.
_KIT_STRUCTURE_LOCK = 0x4B495453


def kit_structure_lock() -> None:
    """Serialize changes to kit structure.

    A cycle can close through edges written by different transactions at once (A→B and B→A),
    which no row lock on the two kits prevents; one transaction-scoped lock does. SQLite
    already admits a single writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_KIT_STRUCTURE_LOCK])


def _contains(container_id: int, wanted_id: int, *, ignore_line: int | None = None) -> bool:
    """Whether `container` holds `wanted` at any depth (one query per level of nesting).

    `ignore_line`: the line being changed, whose stored kit and component are about to go."""
    edges = KitComponent.objects.exclude(pk=ignore_line) if ignore_line else KitComponent.objects
    frontier, seen = {container_id}, set()
    while frontier:
        if wanted_id in frontier:
            return True
        seen |= frontier
        frontier = (
            set(edges.filter(kit_id__in=frontier).values_list("component_id", flat=True)) - seen
        )
    return False


def _rules(line: KitComponent) -> list[DomainError]:
    kit, component = line.kit, line.component
    violations = []
    if kit.item_type not in ALLOWED_COMPONENT_TYPES:  # rule 2
        violations.append(DomainError("not_a_kit", "kit", ID=kit.code, TYPE=kit.item_type))
    elif component.item_type not in ALLOWED_COMPONENT_TYPES[kit.item_type]:  # rule 3
        violations.append(
            DomainError(
                "component_type_not_allowed",
                "component",
                KIT_TYPE=kit.item_type,
                TYPE=component.item_type,
            )
        )
    if kit.pk == component.pk or _contains(component.pk, kit.pk, ignore_line=line.pk):  # rule 4
        violations.append(
            DomainError("kit_cycle", "component", KIT=kit.code, COMPONENT=component.code)
        )
    duplicate = KitComponent.objects.filter(kit=kit, component=component)
    if line.pk:
        duplicate = duplicate.exclude(pk=line.pk)
    if duplicate.exists():  # rule 5
        violations.append(
            DomainError("duplicate_component", "component", KIT=kit.code, COMPONENT=component.code)
        )
    if line.number_of_units is None:
        violations.append(DomainError("required", "number_of_units"))
    elif Decimal(line.number_of_units) <= 0:
        violations.append(
            DomainError("invalid_value", "number_of_units", REASON="must be greater than 0")
        )
    if line.revenue_percentage is not None and not 0 <= Decimal(line.revenue_percentage) <= 100:
        violations.append(
            DomainError("invalid_value", "revenue_percentage", REASON="must be between 0 and 100")
        )
    if line.line_number is not None and not 1 <= line.line_number <= MAX_LINE_NUMBER:
        violations.append(_line_out_of_range())
    return violations


def _line_out_of_range() -> DomainError:
    return DomainError("line_number_out_of_range", "line_number", MAX=MAX_LINE_NUMBER)


def _place_line(line: KitComponent, requested: int | None, *, stored_in_kit: bool, user) -> None:
    """Rule 6: no number means one past the kit's highest; a taken number pushes that line and
    every later one up by one, so numbers stay unique and order is kept.

    `stored_in_kit`: the line is already saved in this kit (a PATCH that renumbers it)."""
    others = KitComponent.objects.filter(kit_id=line.kit_id)
    if line.pk:
        others = others.exclude(pk=line.pk)
    highest = others.aggregate(highest=Max("line_number"))["highest"] or 0
    if requested is None:
        line.line_number = highest + 1
    else:
        line.line_number = requested
        if others.filter(line_number=requested).exists():
            highest += 1
            if highest > MAX_LINE_NUMBER:
                raise DomainErrors([_line_out_of_range()])
            # Park the moving lines (and this one, if stored here) above the range first:
            # (kit, lineNumber) is unique and both PostgreSQL and SQLite check it row by row,
            # so `n = n + 1` in place could collide.
            moving = others.filter(line_number__gte=requested)
            # A pushed line changed: new ETag, and the audit group says when and by whom.
            moving.update(
                line_number=F("line_number") + MAX_LINE_NUMBER + 1,
                version=F("version") + 1,
                modified_at=timezone.now(),
                modified_by=actor(user),
            )
            if stored_in_kit:
                KitComponent.objects.filter(pk=line.pk).update(
                    line_number=F("line_number") + MAX_LINE_NUMBER + 1
                )
            others.filter(line_number__gt=MAX_LINE_NUMBER).update(
                line_number=F("line_number") - MAX_LINE_NUMBER
            )
    if line.line_number > MAX_LINE_NUMBER:
        raise DomainErrors([_line_out_of_range()])


def _lock_items(*items: Item) -> None:
    # Kit and component must not change type or vanish while the line is written.
    keys = sorted({item.pk for item in items})
    list(Item.objects.select_for_update().filter(pk__in=keys).order_by("pk").values_list("pk"))


@transaction.atomic
def kit_component_create(
    *,
    user,
    kit: Item,
    component: Item,
    number_of_units: Decimal,
    revenue_percentage: Decimal | None = None,
    default_delivery_status: str = DeliveryStatus.DELIVERED,
    default_deferral_status: str = DeferralStatus.DEFER_UNTIL_ITEM_IS_DELIVERED,
    line_number: int | None = None,
) -> KitComponent:
    kit_structure_lock()
    _lock_items(kit, component)
    line = KitComponent(
        kit=kit,
        component=component,
        number_of_units=number_of_units,
        revenue_percentage=revenue_percentage,
        default_delivery_status=default_delivery_status,
        default_deferral_status=default_deferral_status,
        line_number=line_number,
    )
    refuse(_rules(line))
    _place_line(line, line_number, stored_in_kit=False, user=user)
    line.stamp(user, created=True)
    line.save()
    return line


class KitComponentChanges(TypedDict, total=False):
    kit: Item
    component: Item
    number_of_units: Decimal
    revenue_percentage: Decimal | None
    default_delivery_status: str
    default_deferral_status: str
    line_number: int | None


@transaction.atomic
def kit_component_update(
    *,
    kit_component_key: int,
    user,
    expected_version: int | Collection[int] | None = None,
    **changes: Unpack[KitComponentChanges],
) -> KitComponent:
    """Rule 7: component, units, percentage, statuses and line may change; so may the kit, which
    re-checks rules 2-6 (a moved line without a number goes to the end of its new kit)."""
    kit_structure_lock()  # before any row lock, as every writer of kit structure takes it
    line = lock(KitComponent, kit_component_key)
    check_version(line, expected_version)
    old_kit_id, old_line = line.kit_id, line.line_number
    fields = dict(changes)
    # No number, or null: the line keeps its number (or goes to the end of its new kit).
    requested = fields.pop("line_number", None)
    apply_changes(line, fields)
    _lock_items(line.kit, line.component)
    if requested is not None:
        line.line_number = requested
    refuse(_rules(line))
    if line.kit_id != old_kit_id:
        _place_line(line, requested, stored_in_kit=False, user=user)
    elif requested is not None and requested != old_line:
        _place_line(line, requested, stored_in_kit=True, user=user)
    save_changes(line, user)
    return line


@transaction.atomic
def kit_component_delete(
    *, kit_component_key: int, user, expected_version: int | Collection[int] | None = None
) -> None:
    """Rule 6: deleting leaves a gap in the line numbers."""
    kit_structure_lock()
    line = lock(KitComponent, kit_component_key)
    check_version(line, expected_version)
    delete_unreferenced(line)
