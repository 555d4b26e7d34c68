"""Spreadsheet import of kit components (a kit's lines), through kit_component_create: its
line-number rules place each row as an API create would."""

from core.spreadsheets import ServiceImportResource
from kitcomponents import services
from kitcomponents.models import KitComponent


class KitComponentImport(ServiceImportResource):
    service = services.kit_component_create

    class Meta(ServiceImportResource.Meta):
        model = KitComponent
