"""`inventory-control/requirement` (contract 15.2, 15.7): what every open run still needs,
read-only, computed by the database (kitting.models.Requirement and
kitting.selectors.requirement_list)."""

import django_filters
from rest_framework import serializers
from rest_framework.response import Response

from config.api import batch, responses
from config.api.fields import HrefField, KeyField, KeyIdField, NumberField, RefField, parse_key
from config.api.filters import KeyFilter
from config.api.permissions import permission_for
from config.api.viewsets import ReadOnlyObjectViewSet
from inventory.models import Item
from kitting import selectors
from kitting.models import Requirement, Run

# Rows come by run, then part (contract 15.7), in the list and the query service alike: the key is
# text, and "10-1" sorts before "2-1". The model's ordering says it once.
ORDER = tuple(Requirement._meta.ordering)


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

    def lookup(self, key: str) -> str | None:
        # A key is "<run key>-<part key>", each a system key (else it names no row).
        run, dash, part = key.partition("-")
        return key if dash and parse_key(run) and parse_key(part) else None

    def get_queryset(self):
        queryset = super().get_queryset()
        key = self.kwargs.get(self.lookup_url_kwarg)
        if key is None:
            return queryset
        # A key names its run: filtered on the runs too, the database explodes those runs' parts
        # only (the view anchors at each run), for a GET and a batch GET alike.
        keys = (self.lookup(each) for each in batch.keys(key) or [key])
        # Sorted: one statement text for the same runs, whatever order the keys came in.
        return queryset.filter(run_id__in=sorted({int(pk.split("-")[0]) for pk in keys if pk}))

    def represent(self, instance: Requirement, serializer=None) -> Response:
        # Computed, a requirement has no version: no ETag.
        data = (serializer or self.get_serializer()).to_representation(instance)
        return Response(responses.one(data))
