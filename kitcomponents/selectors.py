"""Reads for kit components."""

from django.db.models import QuerySet

from kitcomponents.models import KitComponent


def kit_component_list() -> QuerySet[KitComponent]:
    return KitComponent.objects.all()
