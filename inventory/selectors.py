"""Reads for items and warehouses."""

from django.db.models import QuerySet

from inventory.models import Item, Warehouse


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all()
