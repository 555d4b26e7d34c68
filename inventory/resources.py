"""Spreadsheet imports of items and part inventory, through their create services."""

from core.spreadsheets import ServiceBatchImportResource, ServiceImportResource
from inventory import services
from inventory.models import Item, PartInventory


class ItemImport(ServiceImportResource):
    service = services.item_create

    class Meta(ServiceImportResource.Meta):
        model = Item


class PartInventoryImport(ServiceBatchImportResource):
    """Rows go to part_inventory_create_many a batch at a time: generated serial and lot
    numbers, the quantity rules and each record's `create` ledger row come from the service."""

    service = services.part_inventory_create_many
    record = services.PartInventoryFields

    class Meta(ServiceBatchImportResource.Meta):
        model = PartInventory
