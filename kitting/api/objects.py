"""The kitting objects of the API, and the bodies of its workflows."""

from config.api.spec import declare, declare_payload
from kitting import selectors
from kitting.api import serializers

declare(
    "inventory-control/run",
    serializers.RunSerializer,
    id_field="code",
    query=selectors.run_list(),
)
declare(
    "inventory-control/part-kit",
    serializers.PartKitSerializer,
    query=selectors.part_kit_list(),
)
declare_payload(serializers.PartKitIssueSerializer)
declare_payload(serializers.PartKitMoveToInventorySerializer)
declare_payload(serializers.RunCompleteSerializer)
