"""`inventory-control/requirement` (contract 15.2, 15.7): what every open run still needs,
read-only, computed by the database (kitting.models.Requirement and
kitting.selectors.requirement_list)."""

import re

import django_filters
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import errors, identity, responses
from config.api.fields import HrefField, KeyField, KeyIdField, NumberField, RefField
from config.api.filters import KeyFilter
from config.api.query.registry import permission_for
from config.api.viewsets import ReadOnlyObjectViewSet
from inventory.models import Item
from kitting import selectors
from kitting.models import Requirement, Run

# A key is "<run key>-<part key>".
KEY_PATTERN = r"[0-9]{1,19}-[0-9]{1,19}"
# Rows come by run, then part (contract 15.7), in the list and the query service alike: the key is
# text, and "10-1" sorts before "2-1".
ORDER = ("run_id", "part_id")
_LARGEST_KEY = 2**63 - 1  # a 64-bit signed key


class RequirementSerializer(serializers.ModelSerializer):
    key = KeyField()
    id = KeyIdField()
    run = RefField(Run.objects.all(), read_only=True)
    part = RefField(Item.objects.all(), read_only=True)
    requiredQuantity = NumberField(source="required_quantity", read_only=True, max_digits=40)
    issuedQuantity = NumberField(source="issued_quantity", read_only=True)
    shortQuantity = NumberField(source="short_quantity", read_only=True, max_digits=40)
    availableQuantity = NumberField(source="available_quantity", read_only=True)
    uncoveredQuantity = NumberField(source="uncovered_quantity", read_only=True, max_digits=40)
    href = HrefField()

    class Meta:
        model = Requirement
        fields = [
            "key",
            "id",
            "run",
            "part",
            "requiredQuantity",
            "issuedQuantity",
            "shortQuantity",
            "availableQuantity",
            "uncoveredQuantity",
            "href",
        ]


class RequirementFilter(django_filters.FilterSet):
    run = KeyFilter(field_name="run_id")
    part = KeyFilter(field_name="part_id")

    class Meta:
        model = Requirement
        fields = ["run", "part"]


class RequirementViewSet(ReadOnlyObjectViewSet):
    """List (ordered by run, then part) and get; reading them needs the run's view permission."""

    queryset = selectors.requirement_list()
    serializer_class = RequirementSerializer
    filterset_class = RequirementFilter
    list_order = ORDER
    required_permissions = (permission_for(Requirement),)

    def lists_whole_table(self) -> bool:
        return False  # the view has no key order worth paging by: run, then part

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        key = self.kwargs[self.lookup_url_kwarg]
        found = None
        if _is_key(key):
            # The key names the run and the part: filtered on them too, the database reads that
            # run's requirements only (the view explodes each run's part on its own).
            run, part = (int(number) for number in key.split("-"))
            if max(run, part) <= _LARGEST_KEY:  # a larger number names no row (nor fits SQLite)
                rows = self.get_queryset().filter(pk=key, run_id=run, part_id=part)
                found = rows.first()
        if found is None:
            raise errors.error(
                errors.OBJECT_NOT_FOUND, OBJECT=identity.object_name(Requirement), KEY=key
            )
        return Response(responses.one(self.get_serializer(found).data))


def _is_key(text: str) -> bool:
    return re.fullmatch(KEY_PATTERN, text) is not None
