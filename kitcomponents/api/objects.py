"""The kit component object of the API."""

from config.api.spec import declare
from kitcomponents import selectors
from kitcomponents.api import serializers

declare(
    "inventory-control/kit-component",
    serializers.KitComponentSerializer,
    query=selectors.kit_component_list(),
)
